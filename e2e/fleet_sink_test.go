package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// idemSink is the routers' HTTP peer: an idempotent receiver that applies
// each event once by its idempotency key (the "idempotencykey" attribute
// the http sink sets from the delivery key) and counts everything else.
// Event ids are "<agent>-<n>", so it keeps, per agent, the order in which
// events took effect.
type idemSink struct {
	srv *httptest.Server

	mu       sync.Mutex
	applied  map[string]string   // idempotency key -> event id: the effects
	keyOf    map[string]string   // event id -> the key it first came with
	order    map[string][]string // agent -> event ids in the order they took effect
	received int                 // events received, repeats included
	repeats  int                 // events received again under a key already applied (absorbed)
	twice    []string            // event ids that took effect under a second key: duplicate effects
	bad      int                 // requests whose whole body came and was not CloudEvents
	cut      int                 // requests whose body ended early: the client went away (a router killed mid-request)
}

func newIdemSink(t testing.TB) *idemSink {
	t.Helper()
	s := &idemSink{applied: map[string]string{}, keyOf: map[string]string{}, order: map[string][]string{}}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *idemSink) url() string { return s.srv.URL + "/events" }

type sinkEvent struct {
	ID  string `json:"id"`
	Key string `json:"idempotencykey"`
}

// ServeHTTP applies a request's events. A body that ends before its end
// (the router was killed while sending it) is counted as cut, not bad:
// nothing of it is applied and the client never sees an answer, which is
// what a real receiver does with a broken request; only a whole body
// that does not parse is the router's fault.
func (s *idemSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.mu.Lock()
		s.cut++
		s.mu.Unlock()
		return
	}
	var events []sinkEvent
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/cloudevents-batch+json") {
		err = json.Unmarshal(body, &events)
	} else {
		var one sinkEvent
		err = json.Unmarshal(body, &one)
		events = append(events, one)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	for _, e := range events {
		s.received++
		if _, done := s.applied[e.Key]; done {
			s.repeats++
			continue
		}
		s.applied[e.Key] = e.ID
		if _, seen := s.keyOf[e.ID]; seen {
			s.twice = append(s.twice, e.ID)
			continue
		}
		s.keyOf[e.ID] = e.Key
		agent := e.ID[:max(strings.LastIndexByte(e.ID, '-'), 0)]
		s.order[agent] = append(s.order[agent], e.ID)
	}
	w.WriteHeader(http.StatusOK)
}

// missing returns how many of ids have not taken effect.
func (s *idemSink) missing(ids []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range ids {
		if _, ok := s.keyOf[id]; !ok {
			n++
		}
	}
	return n
}

// effects returns, per agent, a copy of the event ids in the order they
// took effect.
func (s *idemSink) effects() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]string, len(s.order))
	for a, ids := range s.order {
		out[a] = append([]string(nil), ids...)
	}
	return out
}

// sinkCounts is what the sink saw, for the report.
type sinkCounts struct {
	Received         int `json:"received"`
	Applied          int `json:"applied"`
	RepeatsAbsorbed  int `json:"repeats_absorbed"`
	DuplicateEffects int `json:"duplicate_effects"`
	BadRequests      int `json:"bad_requests"`
	CutRequests      int `json:"cut_requests"`
}

func (s *idemSink) counts() sinkCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sinkCounts{Received: s.received, Applied: len(s.keyOf), RepeatsAbsorbed: s.repeats, DuplicateEffects: len(s.twice), BadRequests: s.bad, CutRequests: s.cut}
}
