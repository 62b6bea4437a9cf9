package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// deadLetterView is the JSON form of a dead letter, shared by the admin
// endpoints and `sluice journal dlq`. Event is the event as a CloudEvent.
type deadLetterView struct {
	Sink             string          `json:"sink"`
	Seq              uint64          `json:"seq"`
	Route            string          `json:"route"`
	Key              string          `json:"key"`
	Reason           string          `json:"reason"`
	Attempts         int             `json:"attempts"`
	Redrives         int             `json:"redrives"`
	RedriveRequested bool            `json:"redrive_requested"`
	FirstError       string          `json:"first_error"`
	LastError        string          `json:"last_error"`
	FirstAt          time.Time       `json:"first_at"`
	LastAt           time.Time       `json:"last_at"`
	Event            json.RawMessage `json:"event"`
}

func newDeadLetterView(l pipeline.DeadLetter) (deadLetterView, error) {
	ev := l.Event
	ev.Sequence = l.Seq
	b, err := pipeline.MarshalCloudEventJSON(&ev)
	if err != nil {
		return deadLetterView{}, fmt.Errorf("dead letter %s/%d: %w", l.Sink, l.Seq, err)
	}
	return deadLetterView{
		Sink: l.Sink, Seq: l.Seq, Route: l.Route, Key: l.Key, Reason: l.Reason, Attempts: l.Attempts,
		Redrives: l.Redrives, RedriveRequested: l.RedriveRequested, FirstError: l.FirstError, LastError: l.LastError,
		FirstAt: l.FirstAt.UTC(), LastAt: l.LastAt.UTC(), Event: b,
	}, nil
}

// errNoDeadLetter is returned by DeadLetter for an unknown (sink, seq).
var errNoDeadLetter = errors.New("no such dead letter")

// dlqFilterQuery encodes a filter as admin query parameters (times in
// RFC 3339 with nanoseconds).
func dlqFilterQuery(f pipeline.DeadLetterFilter) url.Values {
	q := url.Values{}
	if f.Sink != "" {
		q.Set("sink", f.Sink)
	}
	if f.Reason != "" {
		q.Set("reason", f.Reason)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	for _, s := range f.Seqs {
		q.Add("seq", strconv.FormatUint(s, 10))
	}
	return q
}

// parseDLQFilter decodes dlqFilterQuery's parameters.
func parseDLQFilter(q url.Values) (pipeline.DeadLetterFilter, error) {
	f := pipeline.DeadLetterFilter{Sink: q.Get("sink"), Reason: q.Get("reason")}
	var errs []error
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				errs = append(errs, fmt.Errorf("invalid %s %q: want RFC 3339", p.name, v))
			}
			*p.dst = t
		}
	}
	for _, v := range q["seq"] {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid seq %q", v))
			continue
		}
		f.Seqs = append(f.Seqs, s)
	}
	return f, errors.Join(errs...)
}

// filterSet reports whether f selects less than everything.
func filterSet(f pipeline.DeadLetterFilter) bool {
	return f.Sink != "" || f.Reason != "" || !f.Since.IsZero() || !f.Until.IsZero() || len(f.Seqs) > 0 || f.OnlyRedriveRequested
}

func (l localJournal) DeadLetters(ctx context.Context, f pipeline.DeadLetterFilter, emit func(deadLetterView) error) error {
	return l.j.DeadLetters(ctx, f, func(dl pipeline.DeadLetter) error {
		v, err := newDeadLetterView(dl)
		if err != nil {
			return err
		}
		return emit(v)
	})
}

func (l localJournal) DeadLetter(ctx context.Context, sink string, seq uint64) (deadLetterView, error) {
	return findDeadLetter(ctx, l, sink, seq)
}

// findDeadLetter looks one letter up through DeadLetters.
func findDeadLetter(ctx context.Context, v journalView, sink string, seq uint64) (deadLetterView, error) {
	var found *deadLetterView
	err := v.DeadLetters(ctx, pipeline.DeadLetterFilter{Sink: sink, Seqs: []uint64{seq}}, func(l deadLetterView) error {
		found = &l
		return nil
	})
	if err != nil {
		return deadLetterView{}, err
	}
	if found == nil {
		return deadLetterView{}, fmt.Errorf("%w: sink %q seq %d", errNoDeadLetter, sink, seq)
	}
	return *found, nil
}

func (l localJournal) RequestRedrive(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	return l.j.RequestRedrive(ctx, f)
}

func (l localJournal) PurgeDeadLetters(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	return l.j.DeleteDeadLetters(ctx, f)
}

func (r *remoteJournal) DeadLetters(ctx context.Context, f pipeline.DeadLetterFilter, emit func(deadLetterView) error) error {
	resp, err := r.call(ctx, http.MethodGet, "/dlq", dlqFilterQuery(f))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(bufio.NewReader(resp.Body))
	for {
		var v deadLetterView
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("decode dead letters: %w", err)
		}
		if err := emit(v); err != nil {
			return err
		}
	}
}

func (r *remoteJournal) DeadLetter(ctx context.Context, sink string, seq uint64) (deadLetterView, error) {
	resp, err := r.call(ctx, http.MethodGet, "/dlq/"+url.PathEscape(sink)+"/"+strconv.FormatUint(seq, 10), nil)
	if err != nil {
		return deadLetterView{}, err
	}
	defer resp.Body.Close()
	var v deadLetterView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return deadLetterView{}, fmt.Errorf("decode dead letter: %w", err)
	}
	return v, nil
}

func (r *remoteJournal) RequestRedrive(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	return r.count(ctx, "/dlq/redrive", dlqFilterQuery(f))
}

func (r *remoteJournal) PurgeDeadLetters(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	q := dlqFilterQuery(f)
	if !filterSet(f) {
		q.Set("all", "1")
	}
	return r.count(ctx, "/dlq/purge", q)
}

// count posts to a dead-letter action and returns the count it answers.
func (r *remoteJournal) count(ctx context.Context, path string, q url.Values) (int, error) {
	resp, err := r.call(ctx, http.MethodPost, path, q)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var res struct {
		Count int `json:"count"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return 0, fmt.Errorf("decode %s answer: %w", path, err)
	}
	return res.Count, nil
}

// call sends a request to the admin listener (POSTs with the header the
// admin requires of them) and turns a non-200 answer into an error
// carrying the admin's message; 404 matches errNoDeadLetter.
func (r *remoteJournal) call(ctx context.Context, method, path string, q url.Values) (*http.Response, error) {
	u := r.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	if method != http.MethodGet {
		req.Header.Set(adminHeader, "1")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if resp.StatusCode == http.StatusNotFound && e.Error != "" {
		return nil, fmt.Errorf("%w: %s", errNoDeadLetter, strings.TrimPrefix(msg, errNoDeadLetter.Error()+": "))
	}
	return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
}
