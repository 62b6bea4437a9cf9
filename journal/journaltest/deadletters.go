package journaltest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// Conformance cases for the dead-letter store every journal provides.

// deadLetterCases run in RunConformance and, on their own, in
// RunDeadLetterConformance.
var deadLetterCases = []conformanceCase{
	{"DeadLetterPutDurable", testDeadLetterPutDurable},
	{"DeadLetterReplace", testDeadLetterReplace},
	{"DeadLetterFilter", testDeadLetterFilter},
	{"DeadLetterDelete", testDeadLetterDelete},
	{"DeadLetterRedriveBroadcast", testDeadLetterRedrive},
}

// DeadLetterCloser is a dead-letter store that is closed, and opened
// again, on its own: one kept beside a journal rather than in it (the
// routers' shared store in JetStream, natsjournal.DeadLetters).
type DeadLetterCloser interface {
	pipeline.DeadLetterStore
	Close(ctx context.Context) error
}

// DeadLetterOpenFunc opens (or reopens) the dead-letter store that dir
// names. The suite closes it.
type DeadLetterOpenFunc func(t *testing.T, dir string) DeadLetterCloser

// RunDeadLetterConformance runs the dead-letter cases of RunConformance
// (durability across reopen, replace by identity, filters and their
// order, delete, durable and broadcast redrive requests) against a store
// open returns.
func RunDeadLetterConformance(t *testing.T, open DeadLetterOpenFunc) {
	t.Helper()
	runCases(t, func(t *testing.T, dir string) pipeline.Journal { return lettersOnly{s: open(t, dir)} }, deadLetterCases)
}

// lettersOnly presents a DeadLetterCloser as the journal the dead-letter
// cases use: they call only its dead-letter methods and Close.
type lettersOnly struct {
	pipeline.Journal // nil: never called by the dead-letter cases
	s                DeadLetterCloser
}

func (l lettersOnly) PutDeadLetters(ctx context.Context, letters []pipeline.DeadLetter) error {
	return l.s.PutDeadLetters(ctx, letters)
}

func (l lettersOnly) DeadLetters(ctx context.Context, f pipeline.DeadLetterFilter, fn func(pipeline.DeadLetter) error) error {
	return l.s.DeadLetters(ctx, f, fn)
}

func (l lettersOnly) DeleteDeadLetters(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	return l.s.DeleteDeadLetters(ctx, f)
}

func (l lettersOnly) RequestRedrive(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	return l.s.RequestRedrive(ctx, f)
}

func (l lettersOnly) RedriveRequested() <-chan struct{} { return l.s.RedriveRequested() }

func (l lettersOnly) Close(ctx context.Context) error { return l.s.Close(ctx) }

var letterBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Letter returns a dead letter for sink and seq whose LastAt is a fixed
// base time plus minutes.
func Letter(sink string, seq uint64, reason string, minutes int) pipeline.DeadLetter {
	ev := Event(int(seq))
	ev.ID, ev.Time, ev.Sequence = fmt.Sprintf("ev-%d", seq), letterBase, seq
	return pipeline.DeadLetter{
		Sink: sink, Route: "r-" + sink, Seq: seq, Key: fmt.Sprintf("key-%s-%d", sink, seq), Reason: reason,
		Event: ev, Attempts: 3, FirstError: "first: status 400", LastError: "last: status 400",
		FirstAt: letterBase, LastAt: letterBase.Add(time.Duration(minutes) * time.Minute),
	}
}

func (h *harness) letters(f pipeline.DeadLetterFilter) []string {
	h.t.Helper()
	out := []string{}
	require.NoError(h.t, h.j.DeadLetters(ctxT(h.t), f, func(l pipeline.DeadLetter) error {
		out = append(out, fmt.Sprintf("%s/%d", l.Sink, l.Seq))
		return nil
	}))
	return out
}

func (h *harness) letter(sink string, seq uint64) pipeline.DeadLetter {
	h.t.Helper()
	var got []pipeline.DeadLetter
	require.NoError(h.t, h.j.DeadLetters(ctxT(h.t), pipeline.DeadLetterFilter{Sink: sink, Seqs: []uint64{seq}},
		func(l pipeline.DeadLetter) error { got = append(got, l); return nil }))
	require.Len(h.t, got, 1)
	return got[0]
}

func (h *harness) putLetters() {
	h.t.Helper()
	ls := []pipeline.DeadLetter{
		Letter("b", 2, pipeline.ReasonRetriesExhausted, 30),
		Letter("a", 10, pipeline.ReasonPermanent, 10),
		Letter("ab", 1, pipeline.ReasonTransformFailed, 20),
		Letter("a", 2, pipeline.ReasonPermanent, 0),
		Letter("b", 1, pipeline.ReasonPermanent, 40),
	}
	ls[2].LastError = "transform: no such field"
	require.NoError(h.t, h.j.PutDeadLetters(ctxT(h.t), ls))
}

func testDeadLetterPutDurable(t *testing.T, h *harness) {
	in := Letter("out", 7, pipeline.ReasonPermanent, 5)
	in.Event.Extensions = map[string]string{"team": "a"}
	require.NoError(t, h.j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{in}))
	h.reopen()
	got := h.letter("out", 7)
	assert.Equal(t, in.Route, got.Route)
	assert.Equal(t, in.Key, got.Key)
	assert.Equal(t, in.Reason, got.Reason)
	assert.Equal(t, in.Attempts, got.Attempts)
	assert.Equal(t, in.FirstError, got.FirstError)
	assert.Equal(t, in.LastError, got.LastError)
	assert.True(t, in.FirstAt.Equal(got.FirstAt))
	assert.True(t, in.LastAt.Equal(got.LastAt))
	assert.Equal(t, in.Event.ID, got.Event.ID)
	assert.Equal(t, in.Event.Data, got.Event.Data)
	assert.Equal(t, in.Event.Extensions, got.Event.Extensions)
	assert.Equal(t, uint64(7), got.Event.Sequence)
}

func testDeadLetterReplace(t *testing.T, h *harness) {
	in := Letter("out", 7, pipeline.ReasonPermanent, 5)
	require.NoError(t, h.j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{in}))
	again := in
	again.Attempts, again.Redrives, again.LastError = 9, 1, "again"
	require.NoError(t, h.j.PutDeadLetters(ctxT(t), []pipeline.DeadLetter{again}))
	assert.Equal(t, []string{"out/7"}, h.letters(pipeline.DeadLetterFilter{}), "(sink, seq) is the identity")
	got := h.letter("out", 7)
	assert.Equal(t, 9, got.Attempts)
	assert.Equal(t, 1, got.Redrives)
	assert.Equal(t, "again", got.LastError)
}

func testDeadLetterFilter(t *testing.T, h *harness) {
	h.putLetters()
	tests := []struct {
		name string
		f    pipeline.DeadLetterFilter
		want []string
	}{
		{name: "all in sink then seq order", want: []string{"a/2", "a/10", "ab/1", "b/1", "b/2"}},
		{name: "sink", f: pipeline.DeadLetterFilter{Sink: "a"}, want: []string{"a/2", "a/10"}},
		{name: "sink is not a prefix", f: pipeline.DeadLetterFilter{Sink: "ab"}, want: []string{"ab/1"}},
		{name: "reason", f: pipeline.DeadLetterFilter{Reason: "PERM"}, want: []string{"a/2", "a/10", "b/1"}},
		{name: "reason in last error", f: pipeline.DeadLetterFilter{Reason: "no such field"}, want: []string{"ab/1"}},
		{name: "since until", f: pipeline.DeadLetterFilter{Since: letterBase.Add(5 * time.Minute), Until: letterBase.Add(25 * time.Minute)}, want: []string{"a/10", "ab/1"}},
		{name: "seqs", f: pipeline.DeadLetterFilter{Seqs: []uint64{1}}, want: []string{"ab/1", "b/1"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, h.letters(tt.f), tt.name)
	}
}

func testDeadLetterDelete(t *testing.T, h *harness) {
	h.putLetters()
	n, err := h.j.DeleteDeadLetters(ctxT(t), pipeline.DeadLetterFilter{Sink: "a"})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = h.j.DeleteDeadLetters(ctxT(t), pipeline.DeadLetterFilter{Sink: "a"})
	require.NoError(t, err)
	assert.Zero(t, n)
	h.reopen()
	assert.Equal(t, []string{"ab/1", "b/1", "b/2"}, h.letters(pipeline.DeadLetterFilter{}))
}

func testDeadLetterRedrive(t *testing.T, h *harness) {
	h.putLetters()
	ch1 := h.j.RedriveRequested()
	ch2 := h.j.RedriveRequested()
	select {
	case <-ch1:
		t.Fatal("redrive channel closed before any request")
	default:
	}
	n, err := h.j.RequestRedrive(ctxT(t), pipeline.DeadLetterFilter{Sink: "b"})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	for i, ch := range []<-chan struct{}{ch1, ch2} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("waiter %d not woken: the channel is a broadcast", i)
		}
	}
	next := h.j.RedriveRequested()
	select {
	case <-next:
		t.Fatal("a channel taken after the request must wait for the next one")
	default:
	}
	h.reopen()
	assert.Equal(t, []string{"b/1", "b/2"}, h.letters(pipeline.DeadLetterFilter{OnlyRedriveRequested: true}),
		"redrive requests are durable")
}
