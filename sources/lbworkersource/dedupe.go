package lbworkersource

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sluice-dev/sluice/pipeline"
)

// statePrefix prefixes the source-state keys of remembered replies.
const statePrefix = "reply/"

// remembered is the stored answer to a request with a dedupe key: its
// place in arrival order and the reply sent.
type remembered struct {
	Order uint64 `json:"order"`
	Reply []byte `json:"reply"`
}

// marshal encodes r as encoding/json does ({"order":N,"reply":"<base64>"},
// what load reads), in one allocation.
func (r remembered) marshal() []byte {
	b := make([]byte, 0, len(`{"order":,"reply":""}`)+20+base64.StdEncoding.EncodedLen(len(r.Reply)))
	b = append(b, `{"order":`...)
	b = strconv.AppendUint(b, r.Order, 10)
	if r.Reply == nil {
		return append(b, `,"reply":null}`...)
	}
	b = append(b, `,"reply":"`...)
	b = base64.StdEncoding.AppendEncode(b, r.Reply)
	return append(b, `"}`...)
}

// dedupe remembers the replies to the last window requests that carried a
// key (a Gearman unique id, an HTTP Idempotency-Key), in the source's
// durable state, written in the same transaction as the request's event:
// a resubmitted request gets the first reply again and is not journaled
// (so not applied) twice, across restarts too. Concurrent requests with
// one key are serialized.
//
// Requests with different keys are prepared and appended concurrently
// (so they share the journal's commits): each prepare claims the oldest
// remembered keys that no other request in flight claimed, so that the
// remembered and the pending replies together stay within the window
// however many requests are in flight, and each old key is deleted by one
// transaction.
type dedupe struct {
	window int

	mu       sync.Mutex
	replies  map[string]remembered
	queue    []string // remembered keys, oldest first
	next     uint64
	inflight map[string]chan struct{}
	// claimed are the keys of queue that prepared requests forget when
	// they commit; pending counts the prepared requests.
	claimed map[string]struct{}
	pending int
}

func newDedupe(window int) *dedupe {
	return &dedupe{
		window: window, replies: map[string]remembered{},
		inflight: map[string]chan struct{}{}, claimed: map[string]struct{}{},
	}
}

// load restores the remembered replies from the source's state.
func (d *dedupe) load(state map[string][]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, v := range state {
		key, ok := strings.CutPrefix(k, statePrefix)
		if !ok {
			continue
		}
		var r remembered
		if json.Unmarshal(v, &r) == nil {
			d.replies[key] = r
			d.queue = append(d.queue, key)
			d.next = max(d.next, r.Order+1)
		}
	}
	slices.SortFunc(d.queue, func(a, b string) int {
		return cmp.Or(cmp.Compare(d.replies[a].Order, d.replies[b].Order), strings.Compare(a, b))
	})
}

// acquire waits until no other request with key is in flight, then
// returns the remembered reply (if any) and a release function that must
// be called once the request is answered.
func (d *dedupe) acquire(ctx context.Context, key string) ([]byte, func(), error) {
	for {
		d.mu.Lock()
		if r, ok := d.replies[key]; ok {
			d.mu.Unlock()
			return r.Reply, func() {}, nil
		}
		wait, busy := d.inflight[key]
		if !busy {
			done := make(chan struct{})
			d.inflight[key] = done
			d.mu.Unlock()
			return nil, func() {
				d.mu.Lock()
				delete(d.inflight, key)
				d.mu.Unlock()
				close(done)
			}, nil
		}
		d.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// pending is a reply to remember once its append succeeded.
type pending struct {
	key     string
	entry   remembered
	evict   []string
	updates []pipeline.StateUpdate
}

// prepare returns the state updates that remember reply for key and
// forget the oldest entries beyond the window. Every prepare ends with
// commit (the append succeeded) or abort (it failed).
func (d *dedupe) prepare(source, key string, reply []byte) pending {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := pending{key: key, entry: remembered{Order: d.next, Reply: reply}}
	d.next++
	d.pending++
	p.updates = []pipeline.StateUpdate{{Source: source, Key: statePrefix + key, Value: p.entry.marshal()}}
	excess := len(d.queue) - len(d.claimed) + d.pending - d.window
	for _, old := range d.queue {
		if excess <= 0 {
			break
		}
		if _, taken := d.claimed[old]; taken {
			continue
		}
		d.claimed[old] = struct{}{}
		p.evict = append(p.evict, old)
		p.updates = append(p.updates, pipeline.StateUpdate{Source: source, Key: statePrefix + old, Delete: true})
		excess--
	}
	return p
}

// revise replaces the reply remembered for key, keeping its place, and
// returns the state update that stores it; false when key is no longer
// remembered.
func (d *dedupe) revise(source, key string, reply []byte) (pipeline.StateUpdate, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.replies[key]
	if !ok {
		return pipeline.StateUpdate{}, false
	}
	r.Reply = reply
	d.replies[key] = r
	return pipeline.StateUpdate{Source: source, Key: statePrefix + key, Value: r.marshal()}, true
}

// commit records p after its append succeeded: its key is remembered,
// the keys it claimed are forgotten.
func (d *dedupe) commit(p pending) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending--
	if len(p.evict) > 0 {
		gone := make(map[string]struct{}, len(p.evict))
		for _, old := range p.evict {
			gone[old] = struct{}{}
			delete(d.claimed, old)
			delete(d.replies, old)
		}
		d.queue = dropOldest(d.queue, gone)
	}
	d.replies[p.key] = p.entry
	d.queue = append(d.queue, p.key)
}

// abort releases what p claimed after its append failed: nothing of it
// is durable, so the old keys stay remembered.
func (d *dedupe) abort(p pending) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending--
	for _, old := range p.evict {
		delete(d.claimed, old)
	}
}

// dropOldest removes the keys in gone from queue, which holds them near
// its front (claims take the oldest keys): it stops at the last one, so
// the cost is the claimed prefix, not the window.
func dropOldest(queue []string, gone map[string]struct{}) []string {
	want, kept := len(gone), 0
	for i, k := range queue {
		if _, ok := gone[k]; !ok {
			queue[kept] = k
			kept++
			continue
		}
		if want--; want == 0 {
			copy(queue[i+1-kept:], queue[:kept])
			clear(queue[:i+1-kept])
			return queue[i+1-kept:]
		}
	}
	clear(queue[kept:])
	return queue[:kept]
}
