package main

import (
	"context"
	"strconv"
	"time"
)

// rangeBound is one end of a --from/--to range: a journal sequence or an
// append time.
type rangeBound struct {
	seq  uint64
	t    time.Time
	time bool
}

// parseBound reads SEQ, an RFC 3339 time or a duration ago (such as 1h).
// An empty string is the zero bound (the journal's end).
func parseBound(name, v string, now time.Time) (rangeBound, error) {
	if v == "" {
		return rangeBound{}, nil
	}
	if seq, err := strconv.ParseUint(v, 10, 64); err == nil {
		return rangeBound{seq: seq}, nil
	}
	t, err := parseTimeFlag(name, v, now)
	if err != nil {
		return rangeBound{}, usageErrorf("--%s %q: want a sequence, an RFC 3339 time or a duration ago such as 1h", name, v)
	}
	return rangeBound{t: t, time: true}, nil
}

// seqAtTimer finds the first record appended at or after a time
// (journal.Admin.SeqAtTime).
type seqAtTimer interface {
	SeqAtTime(ctx context.Context, t time.Time) (uint64, error)
}

// resolveRange turns bounds into sequences: a from TIME is the first
// record appended at or after it, a to TIME the last appended at or
// before it. Zero means the journal's end. ok is false when the range is
// certainly empty (a to before every record, or to before from).
func resolveRange(ctx context.Context, j seqAtTimer, from, to rangeBound) (f, t uint64, ok bool, err error) {
	f, t = from.seq, to.seq
	if from.time {
		if f, err = j.SeqAtTime(ctx, from.t); err != nil {
			return 0, 0, false, err
		}
	}
	if to.time {
		next, err := j.SeqAtTime(ctx, to.t.Add(time.Nanosecond))
		if err != nil {
			return 0, 0, false, err
		}
		if next <= 1 {
			return f, 0, false, nil
		}
		t = next - 1
	}
	if t != 0 && t < max(f, 1) {
		return f, t, false, nil
	}
	return f, t, true, nil
}

// parseRange reads a --from/--to pair (see parseBound) and refuses one
// that ends before it starts: two sequences or two times out of order.
// (A sequence and a time cannot be compared before the journal is read;
// such a range may turn out empty.)
func parseRange(from, to string, now time.Time) (rangeBound, rangeBound, error) {
	f, err := parseBound("from", from, now)
	if err != nil {
		return rangeBound{}, rangeBound{}, err
	}
	t, err := parseBound("to", to, now)
	if err != nil {
		return rangeBound{}, rangeBound{}, err
	}
	if to == "" || from == "" || f.time != t.time {
		return f, t, nil
	}
	if (!f.time && t.seq < f.seq) || (f.time && t.t.Before(f.t)) {
		return rangeBound{}, rangeBound{}, usageErrorf("--to %s is before --from %s: the range is empty (--from is the first record, --to the last, both included)", to, from)
	}
	return f, t, nil
}
