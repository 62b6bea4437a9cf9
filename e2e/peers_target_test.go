//go:build peers

package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// peerEvent is one event as the peer job's target reads it from a
// delivery: its number and, when the client stamped it, its send time
// (unix nanoseconds).
type peerEvent struct {
	n, sent int64
}

// peerTarget is the loopback server the peer job delivers to: it
// acknowledges every POST it can parse with 200, and records per event
// number how often it arrived and when it first did.
type peerTarget struct {
	parse func(body []byte) ([]peerEvent, error)
	srv   *httptest.Server

	mu        sync.Mutex
	count     map[int64]int
	latencies []time.Duration // send to first arrival, for stamped events
	bytes     int64           // bodies of the deliveries parsed
	events    int64           // events in them
	first     []byte          // the first delivery of job events, its first 600 bytes
	arrived   chan struct{}   // closed and replaced on every delivery
}

// newPeerTarget starts a target reading deliveries with parse; it is
// closed when tb ends.
func newPeerTarget(tb testing.TB, parse func([]byte) ([]peerEvent, error)) *peerTarget {
	tb.Helper()
	t := &peerTarget{parse: parse, count: map[int64]int{}, arrived: make(chan struct{})}
	t.srv = httptest.NewServer(t)
	tb.Cleanup(t.srv.Close)
	return t
}

func (t *peerTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	events, err := t.parse(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	t.mu.Lock()
	if t.first == nil && len(events) > 0 && events[0].n > 0 {
		t.first = slices.Clone(body[:min(len(body), 600)])
	}
	t.bytes += int64(len(body))
	t.events += int64(len(events))
	for _, e := range events {
		t.count[e.n]++
		if t.count[e.n] == 1 && e.sent != 0 {
			t.latencies = append(t.latencies, now.Sub(time.Unix(0, e.sent)))
		}
	}
	close(t.arrived)
	t.arrived = make(chan struct{})
	t.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// delivered reports how many of the events numbered in want arrived at
// least once, and how many arrivals of them were repeats.
func (t *peerTarget) delivered(want []int64) (got, duplicates int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range want {
		if c := t.count[n]; c > 0 {
			got++
			duplicates += c - 1
		}
	}
	return got, duplicates
}

// bytesPerEvent is the size of the deliveries' bodies per event in them
// (envelope included), 0 before any.
func (t *peerTarget) bytesPerEvent() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.events == 0 {
		return 0
	}
	return float64(t.bytes) / float64(t.events)
}

// firstDelivery is the first 600 bytes of the first delivery of job
// events (not a warm-up) as the target received it.
func (t *peerTarget) firstDelivery() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.first)
}

// distinct is the number of different events that arrived.
func (t *peerTarget) distinct() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.count)
}

// waitDistinct waits until at least n different events arrived, or
// until timeout; it reports whether they did.
func (t *peerTarget) waitDistinct(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		t.mu.Lock()
		got, arrived := len(t.count), t.arrived
		t.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-arrived:
		case <-deadline:
			return false
		}
	}
}

// waitAll waits until every event numbered in want arrived, or until no
// delivery came for quiet, or until timeout, whichever is first.
func (t *peerTarget) waitAll(want []int64, quiet, timeout time.Duration) {
	deadline := time.After(timeout)
	for {
		t.mu.Lock()
		arrived := t.arrived
		t.mu.Unlock()
		if got, _ := t.delivered(want); got == len(want) {
			return
		}
		select {
		case <-arrived:
		case <-time.After(quiet):
			return
		case <-deadline:
			return
		}
	}
}

// takeLatencies returns the send-to-arrival latencies recorded so far,
// sorted, and forgets them.
func (t *peerTarget) takeLatencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	ds := t.latencies
	t.latencies = nil
	slices.Sort(ds)
	return ds
}
