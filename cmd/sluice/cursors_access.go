package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// cursorView is one consumer's cursor as `sluice journal cursors list`
// and the admin's /journal/cursors show it.
type cursorView struct {
	Name string `json:"name"`
	// Next is the next sequence the consumer reads.
	Next uint64 `json:"next"`
	// Backlog counts retained records at or after Next.
	Backlog uint64 `json:"backlog"`
	// Sink is "configured" for a sink of the configuration, "orphan" for
	// a cursor no configured sink owns (it pins retention), "unknown"
	// when no configuration was given (--dir alone).
	Sink string `json:"sink"`
}

// Values of cursorView.Sink.
const (
	cursorConfigured = "configured"
	cursorOrphan     = "orphan"
	cursorUnknown    = "unknown"
)

// cursorViews lists st's cursors by name; sinks are the configured sink
// names, nil when unknown.
func cursorViews(st pipeline.JournalStats, sinks []string) []cursorView {
	out := make([]cursorView, 0, len(st.Cursors))
	for name, next := range st.Cursors {
		v := cursorView{Name: name, Next: next, Sink: cursorUnknown}
		if st.Last != 0 && next <= st.Last {
			v.Backlog = st.Last - max(next, st.First) + 1
		}
		if sinks != nil {
			v.Sink = cursorOrphan
			if slices.Contains(sinks, name) {
				v.Sink = cursorConfigured
			}
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b cursorView) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// cursorTarget is where `cursors set` moves a cursor: a sequence, or the
// first record appended at or after a time.
type cursorTarget struct {
	seq uint64
	at  time.Time
}

// parseCursorTarget reads SEQ (a number) or TIME (RFC 3339).
func parseCursorTarget(s string) (cursorTarget, error) {
	if seq, err := strconv.ParseUint(s, 10, 64); err == nil {
		if seq == 0 {
			return cursorTarget{}, errors.New("sequences start at 1")
		}
		return cursorTarget{seq: seq}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return cursorTarget{}, fmt.Errorf("%q is neither a sequence number nor an RFC 3339 time", s)
	}
	return cursorTarget{at: t}, nil
}

func (c cursorTarget) query() url.Values {
	if c.seq != 0 {
		return url.Values{"seq": {strconv.FormatUint(c.seq, 10)}}
	}
	return url.Values{"time": {c.at.UTC().Format(time.RFC3339Nano)}}
}

func parseCursorQuery(q url.Values) (cursorTarget, error) {
	if s := q.Get("seq"); s != "" {
		return parseCursorTarget(s)
	}
	if s := q.Get("time"); s != "" {
		return parseCursorTarget(s)
	}
	return cursorTarget{}, errors.New("want seq=N or time=RFC3339")
}

// resolve returns the sequence c names in j.
func (c cursorTarget) resolve(ctx context.Context, j seqAtTimer) (uint64, error) {
	if c.seq != 0 {
		return c.seq, nil
	}
	return j.SeqAtTime(ctx, c.at)
}

// Cursors implements journalView.
func (l localJournal) Cursors(ctx context.Context, sinks []string) ([]cursorView, error) {
	st, err := l.j.Stats(ctx)
	if err != nil {
		return nil, err
	}
	return cursorViews(st, sinks), nil
}

// SetCursor implements journalView.
func (l localJournal) SetCursor(ctx context.Context, name string, to cursorTarget) (uint64, error) {
	seq, err := to.resolve(ctx, l.j)
	if err != nil {
		return 0, err
	}
	return seq, l.j.SetCursor(ctx, name, seq)
}

// DeleteCursor implements journalView.
func (l localJournal) DeleteCursor(ctx context.Context, name string) error {
	return l.j.DeleteCursor(ctx, name)
}

// Cursors implements journalView; the running engine knows its sinks.
func (r *remoteJournal) Cursors(ctx context.Context, _ []string) ([]cursorView, error) {
	resp, err := r.call(ctx, http.MethodGet, "/journal/cursors", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []cursorView
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode cursors: %w", err)
	}
	return out, nil
}

// SetCursor implements journalView.
func (r *remoteJournal) SetCursor(ctx context.Context, name string, to cursorTarget) (uint64, error) {
	resp, err := r.call(ctx, http.MethodPost, "/journal/cursors/"+url.PathEscape(name)+"/set", to.query())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var v cursorView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, fmt.Errorf("decode cursor: %w", err)
	}
	return v.Next, nil
}

// DeleteCursor implements journalView.
func (r *remoteJournal) DeleteCursor(ctx context.Context, name string) error {
	resp, err := r.call(ctx, http.MethodPost, "/journal/cursors/"+url.PathEscape(name)+"/delete", nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
