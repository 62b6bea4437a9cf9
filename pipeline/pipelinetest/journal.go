package pipelinetest

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// MemoryJournal is a pipeline.Journal in memory, for tests of the runner
// and of tools: appends are atomic and immediately "durable", cursor
// commits and consumer state apply at once, dead letters are kept in a
// map. It keeps every record (no retention). Clock, when set before use,
// stamps append times. All methods are safe for concurrent use.
type MemoryJournal struct {
	Clock pipeline.Clock

	mu       sync.Mutex
	records  []pipeline.Record
	cursors  map[string]uint64
	cstate   map[string]map[string][]byte
	sstate   map[string]map[string][]byte
	letters  map[string]map[uint64]pipeline.DeadLetter
	commits  int
	appended chan struct{} // closed and replaced at each append
	redrive  chan struct{}
	closed   bool
}

var _ pipeline.Journal = (*MemoryJournal)(nil)

// NewMemoryJournal returns an empty journal.
func NewMemoryJournal() *MemoryJournal {
	return &MemoryJournal{
		cursors: map[string]uint64{}, cstate: map[string]map[string][]byte{}, sstate: map[string]map[string][]byte{},
		letters: map[string]map[uint64]pipeline.DeadLetter{}, appended: make(chan struct{}), redrive: make(chan struct{}),
	}
}

func (j *MemoryJournal) now() time.Time {
	if j.Clock != nil {
		return j.Clock.Now()
	}
	return time.Now()
}

func (j *MemoryJournal) check() error {
	if j.closed {
		return pipeline.ErrJournalClosed
	}
	return nil
}

// Append implements pipeline.Journal.
func (j *MemoryJournal) Append(ctx context.Context, b pipeline.AppendBatch) (pipeline.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return pipeline.AppendResult{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.check(); err != nil {
		return pipeline.AppendResult{}, err
	}
	res := pipeline.AppendResult{Time: j.now()}
	for i, e := range b.Events {
		seq := uint64(len(j.records)) + 1
		e.Sequence = seq
		if e.ID == "" {
			e.ID = fmt.Sprintf("mem-%d", seq)
		}
		if e.Time.IsZero() {
			e.Time = res.Time
		}
		e.Data = append([]byte(nil), e.Data...)
		j.records = append(j.records, pipeline.Record{Seq: seq, AppendTime: res.Time, Event: e})
		if i == 0 {
			res.First = seq
		}
		res.Last = seq
	}
	applyState(j.sstate, b.State, func(u pipeline.StateUpdate) string { return u.Source })
	if len(b.Events) > 0 {
		close(j.appended)
		j.appended = make(chan struct{})
	}
	return res, nil
}

func applyState(m map[string]map[string][]byte, updates []pipeline.StateUpdate, owner func(pipeline.StateUpdate) string) {
	for _, u := range updates {
		o := owner(u)
		if m[o] == nil {
			m[o] = map[string][]byte{}
		}
		if u.Delete {
			delete(m[o], u.Key)
		} else {
			m[o][u.Key] = append([]byte(nil), u.Value...)
		}
	}
}

// Read implements pipeline.Journal.
func (j *MemoryJournal) Read(ctx context.Context, from uint64, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	if limit.MaxRecords <= 0 {
		limit.MaxRecords = 256
	}
	from = max(from, 1)
	for {
		j.mu.Lock()
		if err := j.check(); err != nil {
			j.mu.Unlock()
			return nil, err
		}
		if n := uint64(len(j.records)); from <= n {
			end := min(n, from-1+uint64(limit.MaxRecords))
			out := make([]pipeline.Record, 0, end-from+1)
			for _, r := range j.records[from-1 : end] {
				r.Event.Data = append([]byte(nil), r.Event.Data...)
				out = append(out, r)
			}
			j.mu.Unlock()
			return out, nil
		}
		wait := j.appended
		j.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Cursor implements pipeline.Journal.
func (j *MemoryJournal) Cursor(_ context.Context, consumer string) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.check(); err != nil {
		return 0, err
	}
	if next, ok := j.cursors[consumer]; ok {
		return next, nil
	}
	j.cursors[consumer] = 1
	return 1, nil
}

// CommitCursor implements pipeline.Journal.
func (j *MemoryJournal) CommitCursor(_ context.Context, consumer string, next uint64, state ...pipeline.StateUpdate) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.check(); err != nil {
		return err
	}
	if next > uint64(len(j.records))+1 {
		return fmt.Errorf("commit cursor %q: next %d beyond the head %d", consumer, next, len(j.records))
	}
	if cur, ok := j.cursors[consumer]; !ok || next > cur {
		j.cursors[consumer] = max(next, 1)
	}
	applyState(j.cstate, state, func(pipeline.StateUpdate) string { return consumer })
	j.commits++
	return nil
}

// Commits returns how many CommitCursor calls succeeded.
func (j *MemoryJournal) Commits() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.commits
}

// ConsumerState implements pipeline.Journal.
func (j *MemoryJournal) ConsumerState(_ context.Context, consumer string) (map[string][]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.check(); err != nil {
		return nil, err
	}
	return cloneState(j.cstate[consumer]), nil
}

func cloneState(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = append([]byte(nil), v...)
	}
	return out
}

// SetCursor implements pipeline.Journal.
func (j *MemoryJournal) SetCursor(_ context.Context, consumer string, next uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.check(); err != nil {
		return err
	}
	j.cursors[consumer] = max(next, 1)
	return nil
}

// DeleteCursor implements pipeline.Journal.
func (j *MemoryJournal) DeleteCursor(_ context.Context, consumer string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.check(); err != nil {
		return err
	}
	delete(j.cursors, consumer)
	delete(j.cstate, consumer)
	return nil
}

// SourceState implements pipeline.Journal.
func (j *MemoryJournal) SourceState(_ context.Context, source string) (map[string][]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return cloneState(j.sstate[source]), j.check()
}

// SeqAtTime implements pipeline.Journal.
func (j *MemoryJournal) SeqAtTime(_ context.Context, t time.Time) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	i := sort.Search(len(j.records), func(i int) bool { return !j.records[i].AppendTime.Before(t) })
	return uint64(i) + 1, j.check()
}

// Stats implements pipeline.Journal: extent and cursors only.
func (j *MemoryJournal) Stats(context.Context) (pipeline.JournalStats, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := pipeline.JournalStats{Cursors: maps.Clone(j.cursors)}
	if n := uint64(len(j.records)); n > 0 {
		st.First, st.Last = 1, n
	}
	return st, j.check()
}

// Close implements pipeline.Journal.
func (j *MemoryJournal) Close(context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.closed {
		j.closed = true
		close(j.appended)
	}
	return nil
}
