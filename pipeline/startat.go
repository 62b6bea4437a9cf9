package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// StartAt is where a sink that has no cursor yet begins (config sink
// start_at: oldest, newest or an RFC 3339 time). A sink that has a cursor
// always resumes from it.
type StartAt struct {
	// Newest begins after the newest record: the backlog is skipped.
	Newest bool
	// Time, when not zero, begins at the oldest retained record appended
	// at or after it (Journal.SeqAtTime).
	Time time.Time
}

// ErrInvalidStartAt is returned by ParseStartAt.
var ErrInvalidStartAt = errors.New("invalid start_at")

// ParseStartAt parses "oldest" (the zero StartAt), "newest" or an RFC 3339
// time.
func ParseStartAt(s string) (StartAt, error) {
	switch s {
	case "", "oldest":
		return StartAt{}, nil
	case "newest":
		return StartAt{Newest: true}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return StartAt{}, fmt.Errorf("%w: want oldest, newest or an RFC 3339 time, got %q", ErrInvalidStartAt, s)
	}
	return StartAt{Time: t}, nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseStartAt.
func (s *StartAt) UnmarshalText(text []byte) error {
	v, err := ParseStartAt(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// String returns the form ParseStartAt reads.
func (s StartAt) String() string {
	switch {
	case s.Newest:
		return "newest"
	case !s.Time.IsZero():
		return s.Time.Format(time.RFC3339Nano)
	}
	return "oldest"
}

// startPosition returns the sequence the consumer reads first: its
// cursor, or, for a sink that has none yet, the position its StartAt
// names, stored durably (SetCursor) before delivery begins and logged
// with the backlog the sink starts with.
func (s *sinkRunner) startPosition(ctx context.Context) (uint64, error) {
	st, err := s.journal.Stats(ctx)
	if err != nil {
		return 0, fmt.Errorf("journal stats: %w", err)
	}
	if _, ok := st.Cursors[s.name]; ok {
		next, err := s.journal.Cursor(ctx, s.name)
		if err != nil {
			return 0, fmt.Errorf("read cursor: %w", err)
		}
		return next, nil
	}
	at := s.spec.StartAt
	var next uint64
	switch {
	case at.Newest:
		next = st.Last + 1
	case !at.Time.IsZero():
		if next, err = s.journal.SeqAtTime(ctx, at.Time); err != nil {
			return 0, fmt.Errorf("start_at %s: %w", at, err)
		}
	default:
		if next, err = s.journal.Cursor(ctx, s.name); err != nil {
			return 0, fmt.Errorf("read cursor: %w", err)
		}
	}
	if at.Newest || !at.Time.IsZero() {
		if err := s.journal.SetCursor(ctx, s.name, next); err != nil {
			return 0, fmt.Errorf("start_at %s: set cursor: %w", at, err)
		}
	}
	var backlog uint64
	if st.Last >= next {
		backlog = st.Last + 1 - next
	}
	s.log.Info("sink has no cursor yet; starting", slog.String("start_at", at.String()),
		slog.Uint64("next", next), slog.Uint64("backlog", backlog))
	return next, nil
}

// registerSinks resolves the start position of every sink of sinks
// before it runs, which registers its cursor with the journal
// (Journal.Cursor or SetCursor): retention then keeps what a new sink
// starts at, even when a source's first append finds the journal past
// its size limit. Run calls it for every sink before any starts, Reload
// for the sinks it adds before it changes anything. A failure is only
// logged: the sink's consumer resolves its position again when it
// starts, and fails there.
func registerSinks(ctx context.Context, sinks []*sinkRunner) {
	for _, s := range sinks {
		if _, err := s.startPosition(ctx); err != nil {
			s.log.Warn("cannot register the sink's cursor before start", slog.String("error", err.Error()))
		}
	}
}
