package pipeline

import (
	"context"
	"strings"
	"time"
)

// DeadLetter is a delivery a sink gave up on: a permanent failure, or
// retries exhausted under a finite RetryConfig.MaxElapsed. Its identity is
// (Sink, Seq): storing a letter again replaces it.
type DeadLetter struct {
	// Sink and Route name where the delivery was going.
	Sink  string
	Route string
	// Seq is the event's journal sequence.
	Seq uint64
	// Event is the event as the route delivered it (after transforms), with
	// its Sequence; Key is its idempotency key.
	Event Event
	Key   string
	// Reason says why the sink gave up: "permanent", "retries exhausted",
	// "transform failed" or "match failed".
	Reason string
	// Attempts counts delivery attempts, over all redrives.
	Attempts int
	// FirstError and LastError are the first and last errors, with when
	// they happened.
	FirstError string
	LastError  string
	FirstAt    time.Time
	LastAt     time.Time
	// Redrives counts how often the letter was redriven and failed again.
	Redrives int
	// RedriveRequested marks a letter the sink should deliver again; the
	// running engine picks it up, or the next one on start.
	RedriveRequested bool
}

// DeadLetterFilter selects dead letters. Zero fields select everything.
type DeadLetterFilter struct {
	Sink string
	// Reason selects letters whose Reason or LastError contains it.
	Reason string
	// Since and Until bound LastAt.
	Since, Until time.Time
	// Seqs selects letters by journal sequence.
	Seqs []uint64
	// OnlyRedriveRequested selects letters waiting for a redrive.
	OnlyRedriveRequested bool
}

// Matches reports whether l passes the filter.
func (f DeadLetterFilter) Matches(l *DeadLetter) bool {
	if f.Sink != "" && l.Sink != f.Sink {
		return false
	}
	if f.Reason != "" && !containsFold(l.Reason, f.Reason) && !containsFold(l.LastError, f.Reason) {
		return false
	}
	if !f.Since.IsZero() && l.LastAt.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && l.LastAt.After(f.Until) {
		return false
	}
	if f.OnlyRedriveRequested && !l.RedriveRequested {
		return false
	}
	if len(f.Seqs) > 0 {
		for _, s := range f.Seqs {
			if s == l.Seq {
				return true
			}
		}
		return false
	}
	return true
}

// DeadLetterStore keeps dead letters durably beside the journal.
//
// All methods are safe for concurrent use.
type DeadLetterStore interface {
	// PutDeadLetters stores letters durably (fsync'd before it returns).
	// A letter whose (Sink, Seq) is already stored replaces it; callers
	// carry the history (Attempts, FirstError, FirstAt, Redrives) over.
	PutDeadLetters(ctx context.Context, letters []DeadLetter) error
	// DeadLetters calls fn for each stored letter that f matches, ordered
	// by sink, then sequence, with bounded memory. fn's error stops the
	// walk and is returned.
	DeadLetters(ctx context.Context, f DeadLetterFilter, fn func(DeadLetter) error) error
	// DeleteDeadLetters removes the letters f matches and returns how
	// many it removed.
	DeleteDeadLetters(ctx context.Context, f DeadLetterFilter) (int, error)
	// RequestRedrive marks the letters f matches for redrive and returns
	// how many it marked. Sinks learn of it through RedriveRequested.
	RequestRedrive(ctx context.Context, f DeadLetterFilter) (int, error)
	// RedriveRequested returns a channel that is closed the next time
	// RequestRedrive marks a letter (a broadcast to every waiting sink);
	// call it again for the time after.
	RedriveRequested() <-chan struct{}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
