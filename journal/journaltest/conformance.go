package journaltest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// RunConformance runs the journal contract against the implementation
// open returns. Each case gets its own directory.
func RunConformance(t *testing.T, open OpenFunc) {
	t.Helper()
	cases := []conformanceCase{
		{"AppendReadOrder", testAppendReadOrder},
		{"SequencesConsecutiveFromOne", testSequences},
		{"FillsIDAndTime", testFillsIDAndTime},
		{"KeepsGivenIDAndTime", testKeepsIDAndTime},
		{"EventFieldsRoundTrip", testFieldsRoundTrip},
		{"EmptyBatch", testEmptyBatch},
		{"StateAtomicWithEvents", testStateAtomic},
		{"StateDurableAfterReopen", testStateReopen},
		{"CursorRegistersAtOldest", testCursorRegisters},
		{"CursorMonotonic", testCursorMonotonic},
		{"CursorBeyondHeadRejected", testCursorBeyondHead},
		{"CursorDurableAfterClose", testCursorDurable},
		{"CursorCommitsAreBatched", testCursorBatched},
		{"ReadBlocksUntilAppend", testReadWokenByAppend},
		{"ReadReturnsOnCancel", testReadCancel},
		{"ReadReturnsOnClose", testReadClose},
		{"ReadLimits", testReadLimits},
		{"ReadReturnsCopies", testReadCopies},
		{"ConcurrentAppenders", testConcurrentAppenders},
		{"AppendCancelledContext", testAppendCancelled},
		{"ReopenContinuesSequenceAndChain", testReopenContinuity},
		{"ConsumerStateCommittedWithCursor", testConsumerStateWithCursor},
		{"ConsumerStateAcrossSegments", testConsumerStateAcrossSegments},
		{"DeleteCursorDeletesState", testConsumerStateDeleted},
		{"SetCursorBackwardsKeepsState", testSetCursor},
		{"ConsumerStateClosedJournal", testConsumerStateClosed},
		{"StatsExtentAndCursors", testStats},
		{"ClosedJournal", testClosed},
	}
	runCases(t, open, append(cases, deadLetterCases...))
}

// conformanceCase is one case of a suite.
type conformanceCase struct {
	name string
	fn   func(t *testing.T, h *harness)
}

// runCases runs each case in parallel, on a journal of its own.
func runCases(t *testing.T, open OpenFunc, cases []conformanceCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := &harness{t: t, open: open, dir: t.TempDir()}
			h.j = h.reopen()
			t.Cleanup(func() { _ = h.j.Close(context.Background()) })
			c.fn(t, h)
		})
	}
}

type harness struct {
	t    *testing.T
	open OpenFunc
	dir  string
	j    pipeline.Journal
}

// reopen closes the current journal (if any) and opens dir again.
func (h *harness) reopen() pipeline.Journal {
	h.t.Helper()
	if h.j != nil {
		require.NoError(h.t, h.j.Close(context.Background()))
	}
	h.j = h.open(h.t, h.dir)
	return h.j
}

func (h *harness) append(events ...pipeline.Event) pipeline.AppendResult {
	h.t.Helper()
	res, err := h.j.Append(ctxT(h.t), pipeline.AppendBatch{Events: events})
	require.NoError(h.t, err)
	return res
}

func testAppendReadOrder(t *testing.T, h *harness) {
	h.append(Events(0, 3)...)
	h.append(Events(3, 5)...)
	recs := ReadAll(t, h.j, 1)
	require.Len(t, recs, 8)
	for i, r := range recs {
		assert.Equal(t, fmt.Sprintf("subject-%d", i), r.Event.Subject)
		assert.Equal(t, Event(i).Data, r.Event.Data)
		assert.Equal(t, r.Seq, r.Event.Sequence)
		assert.Positive(t, r.Size)
	}
}

func testSequences(t *testing.T, h *harness) {
	r1 := h.append(Events(0, 4)...)
	assert.Equal(t, uint64(1), r1.First)
	assert.Equal(t, uint64(4), r1.Last)
	r2 := h.append(Event(4))
	assert.Equal(t, uint64(5), r2.First)
	assert.Equal(t, uint64(5), r2.Last)
	for i, r := range ReadAll(t, h.j, 0) {
		assert.Equal(t, uint64(i+1), r.Seq)
	}
}

func testFillsIDAndTime(t *testing.T, h *harness) {
	res := h.append(Event(0), Event(1))
	require.False(t, res.Time.IsZero())
	recs := ReadAll(t, h.j, 1)
	require.Len(t, recs, 2)
	ids := map[string]bool{}
	for _, r := range recs {
		id, err := uuid.Parse(r.Event.ID)
		require.NoError(t, err, "filled ID must be a UUID")
		assert.Equal(t, uuid.Version(7), id.Version())
		ids[r.Event.ID] = true
		assert.True(t, r.Event.Time.Equal(r.AppendTime), "zero time is filled with the append time")
		assert.True(t, r.AppendTime.Equal(res.Time))
	}
	assert.Len(t, ids, 2)
}

func testKeepsIDAndTime(t *testing.T, h *harness) {
	e := Event(0)
	e.ID = "given-id"
	e.Time = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	h.append(e)
	r := ReadAll(t, h.j, 1)[0]
	assert.Equal(t, "given-id", r.Event.ID)
	assert.True(t, r.Event.Time.Equal(e.Time))
}

func testFieldsRoundTrip(t *testing.T, h *harness) {
	e := pipeline.Event{
		ID: "id-1", Source: "/probe/http", Type: "sluice.probe.state", Subject: "vm-7",
		Time:            time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		DataContentType: "application/json", DataSchema: "https://example.com/schema",
		Data: []byte(`{"ok":true}`), Severity: pipeline.SeverityCritical,
		TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		Extensions:  map[string]string{"region": "eu", "zone": "b"},
	}
	h.append(e)
	got := ReadAll(t, h.j, 1)[0].Event
	e.Sequence = 1
	assert.True(t, got.Time.Equal(e.Time))
	got.Time = e.Time
	assert.Equal(t, e, got)
}

func testEmptyBatch(t *testing.T, h *harness) {
	res, err := h.j.Append(ctxT(t), pipeline.AppendBatch{})
	require.NoError(t, err)
	assert.Zero(t, res.First)
	assert.Zero(t, res.Last)
	st, err := h.j.Stats(ctxT(t))
	require.NoError(t, err)
	assert.Zero(t, st.Last)
}

func testReadWokenByAppend(t *testing.T, h *harness) {
	got := make(chan []pipeline.Record, 1)
	errc := make(chan error, 1)
	go func() {
		recs, err := h.j.Read(ctxT(t), 1, pipeline.ReadLimit{})
		got <- recs
		errc <- err
	}()
	select {
	case <-got:
		t.Fatal("Read returned before anything was appended")
	case <-time.After(50 * time.Millisecond):
	}
	h.append(Event(0))
	select {
	case recs := <-got:
		require.NoError(t, <-errc)
		require.Len(t, recs, 1)
		assert.Equal(t, uint64(1), recs[0].Seq)
	case <-time.After(10 * time.Second):
		t.Fatal("Read not woken by append")
	}
	// A reader waiting past the head is woken too.
	go func() {
		recs, err := h.j.Read(ctxT(t), 2, pipeline.ReadLimit{})
		got <- recs
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	h.append(Event(1))
	select {
	case recs := <-got:
		require.NoError(t, <-errc)
		require.Len(t, recs, 1)
		assert.Equal(t, uint64(2), recs[0].Seq)
	case <-time.After(10 * time.Second):
		t.Fatal("Read past the head not woken by append")
	}
}

func testReadCancel(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.j.Read(ctx, 1, pipeline.ReadLimit{})
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Read not woken by cancel")
	}
}

func testReadClose(t *testing.T, h *harness) {
	errc := make(chan error, 1)
	go func() {
		_, err := h.j.Read(ctxT(t), 1, pipeline.ReadLimit{})
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, h.j.Close(ctxT(t)))
	select {
	case err := <-errc:
		require.ErrorIs(t, err, pipeline.ErrJournalClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Read not woken by Close")
	}
}

func testReadLimits(t *testing.T, h *harness) {
	ctx := ctxT(t)
	h.append(Events(0, 50)...)
	recs, err := h.j.Read(ctx, 1, pipeline.ReadLimit{MaxRecords: 7})
	require.NoError(t, err)
	assert.Len(t, recs, 7)
	recs, err = h.j.Read(ctx, 45, pipeline.ReadLimit{MaxRecords: 100})
	require.NoError(t, err)
	assert.Len(t, recs, 6, "reads stop at the head")
	one := recs[0].Size
	recs, err = h.j.Read(ctx, 1, pipeline.ReadLimit{MaxBytes: 3 * one})
	require.NoError(t, err)
	assert.NotEmpty(t, recs)
	assert.LessOrEqual(t, len(recs), 3)
	recs, err = h.j.Read(ctx, 1, pipeline.ReadLimit{MaxBytes: 1})
	require.NoError(t, err)
	assert.Len(t, recs, 1, "at least one record even when larger than MaxBytes")
	big := Event(99)
	big.Data = make([]byte, 300<<10)
	h.append(big)
	recs, err = h.j.Read(ctx, 51, pipeline.ReadLimit{MaxBytes: 1024})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Len(t, recs[0].Event.Data, 300<<10)
}

func testReadCopies(t *testing.T, h *harness) {
	h.append(Event(0))
	recs := ReadAll(t, h.j, 1)
	recs[0].Event.Data[0] = 'X'
	again := ReadAll(t, h.j, 1)
	assert.Equal(t, Event(0).Data, again[0].Event.Data)
}

func testConcurrentAppenders(t *testing.T, h *harness) {
	const producers, perProducer = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perProducer {
				n := 1 + (p+i)%4
				evs := make([]pipeline.Event, n)
				for k := range evs {
					evs[k] = Event(0)
					evs[k].Subject = fmt.Sprintf("p%d-i%d-k%d", p, i, k)
				}
				res, err := h.j.Append(context.Background(), pipeline.AppendBatch{Events: evs})
				if err != nil {
					errs <- err
					return
				}
				if res.Last-res.First+1 != uint64(n) {
					errs <- fmt.Errorf("result %d..%d for %d events", res.First, res.Last, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	recs := ReadAll(t, h.j, 1)
	seen := map[string]bool{}
	for i, r := range recs {
		require.Equal(t, uint64(i+1), r.Seq, "no lost or duplicate sequence")
		require.False(t, seen[r.Event.Subject], "duplicate event %s", r.Event.Subject)
		seen[r.Event.Subject] = true
	}
	want := 0
	for p := range producers {
		for i := range perProducer {
			want += 1 + (p+i)%4
		}
	}
	assert.Len(t, recs, want)
}

func testAppendCancelled(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.j.Append(ctx, pipeline.AppendBatch{Events: Events(0, 1)})
	require.ErrorIs(t, err, context.Canceled)
	h.append(Event(1))
	recs := ReadAll(t, h.j, 1)
	require.Len(t, recs, 1, "a batch cancelled before handoff is not stored")
	assert.Equal(t, "subject-1", recs[0].Event.Subject)
}

func testReopenContinuity(t *testing.T, h *harness) {
	h.append(Events(0, 5)...)
	before := ReadAll(t, h.j, 1)
	st1, err := h.j.Stats(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, before[4].Hash, st1.HeadHash)
	h.reopen()
	st2, err := h.j.Stats(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, st1.HeadHash, st2.HeadHash)
	res := h.append(Events(5, 2)...)
	assert.Equal(t, uint64(6), res.First)
	after := ReadAll(t, h.j, 1)
	require.Len(t, after, 7)
	hashes := map[[32]byte]bool{}
	for i := range before {
		assert.Equal(t, before[i].Hash, after[i].Hash, "stored hashes survive reopen")
	}
	for _, r := range after {
		assert.NotEqual(t, [32]byte{}, r.Hash)
		hashes[r.Hash] = true
	}
	assert.Len(t, hashes, 7)
	assert.False(t, after[6].AppendTime.Before(after[4].AppendTime), "append times never go backwards")
}
