package pipelinetest

import (
	"cmp"
	"context"
	"slices"

	"github.com/sluice-dev/sluice/pipeline"
)

// This file is MemoryJournal's pipeline.DeadLetterStore.

// PutDeadLetters implements pipeline.DeadLetterStore.
func (j *MemoryJournal) PutDeadLetters(_ context.Context, letters []pipeline.DeadLetter) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.check(); err != nil {
		return err
	}
	for _, l := range letters {
		if j.letters[l.Sink] == nil {
			j.letters[l.Sink] = map[uint64]pipeline.DeadLetter{}
		}
		j.letters[l.Sink][l.Seq] = l
	}
	return nil
}

// matching returns the letters f matches, by sink then sequence.
func (j *MemoryJournal) matching(f pipeline.DeadLetterFilter) []pipeline.DeadLetter {
	var out []pipeline.DeadLetter
	for _, bySeq := range j.letters {
		for _, l := range bySeq {
			if f.Matches(&l) {
				out = append(out, l)
			}
		}
	}
	slices.SortFunc(out, func(a, b pipeline.DeadLetter) int {
		return cmp.Or(cmp.Compare(a.Sink, b.Sink), cmp.Compare(a.Seq, b.Seq))
	})
	return out
}

// DeadLetters implements pipeline.DeadLetterStore.
func (j *MemoryJournal) DeadLetters(_ context.Context, f pipeline.DeadLetterFilter, fn func(pipeline.DeadLetter) error) error {
	j.mu.Lock()
	letters, err := j.matching(f), j.check()
	j.mu.Unlock()
	if err != nil {
		return err
	}
	for _, l := range letters {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

// DeleteDeadLetters implements pipeline.DeadLetterStore.
func (j *MemoryJournal) DeleteDeadLetters(_ context.Context, f pipeline.DeadLetterFilter) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	letters := j.matching(f)
	for _, l := range letters {
		delete(j.letters[l.Sink], l.Seq)
	}
	return len(letters), j.check()
}

// RequestRedrive implements pipeline.DeadLetterStore.
func (j *MemoryJournal) RequestRedrive(_ context.Context, f pipeline.DeadLetterFilter) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	letters := j.matching(f)
	for _, l := range letters {
		l.RedriveRequested = true
		j.letters[l.Sink][l.Seq] = l
	}
	if len(letters) > 0 {
		close(j.redrive)
		j.redrive = make(chan struct{})
	}
	return len(letters), j.check()
}

// RedriveRequested implements pipeline.DeadLetterStore.
func (j *MemoryJournal) RedriveRequested() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.redrive
}
