package lbworkersource

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sluice-dev/sluice/pipeline"
)

// State keys of remembered replies. A reply is stored under
// seqPrefix + its order as 16 hex digits + "/" + its dedupe key, the
// reply's bytes as the value: keys in arrival order, so that the window's
// new keys go to the end of the journal's state bucket and its forgotten
// ones leave from the front (a transaction rewrites the few pages at both
// ends, not a page per request across the bucket), and no encoding.
// legacyPrefix + dedupe key with remembered's JSON is what earlier
// versions stored: still loaded, forgotten and revised by its key.
const (
	seqPrefix    = "r/"
	legacyPrefix = "reply/"
)

// seqKey is the state key of the reply to key, order-th in arrival order.
func seqKey(order uint64, key string) string {
	b := make([]byte, 0, len(seqPrefix)+16+1+len(key))
	b = append(b, seqPrefix...)
	const hex = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hex[order>>uint(shift)&0xf])
	}
	b = append(b, '/')
	b = append(b, key...)
	return string(b)
}

// parseSeqKey returns the order and dedupe key of a seqKey.
func parseSeqKey(k string) (uint64, string, bool) {
	rest, ok := strings.CutPrefix(k, seqPrefix)
	if !ok || len(rest) < 17 || rest[16] != '/' {
		return 0, "", false
	}
	order, err := strconv.ParseUint(rest[:16], 16, 64)
	if err != nil {
		return 0, "", false
	}
	return order, rest[17:], true
}

// remembered is the answer to a request with a dedupe key: its place in
// arrival order, the reply sent and the state key it is stored under. The
// JSON form is the legacy value.
type remembered struct {
	Order    uint64 `json:"order"`
	Reply    []byte `json:"reply"`
	stateKey string
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
		var r remembered
		var key string
		if order, seqKeyed, ok := parseSeqKey(k); ok {
			key, r = seqKeyed, remembered{Order: order, Reply: v}
		} else if legacy, ok := strings.CutPrefix(k, legacyPrefix); !ok || json.Unmarshal(v, &r) != nil {
			continue
		} else {
			key = legacy
		}
		r.stateKey = k
		prev, dup := d.replies[key]
		if dup && prev.Order >= r.Order {
			continue // both forms of one key (cannot happen): the newer wins
		}
		if !dup {
			d.queue = append(d.queue, key)
		}
		d.replies[key] = r
		d.next = max(d.next, r.Order+1)
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
	p := pending{key: key, entry: remembered{Order: d.next, Reply: reply, stateKey: seqKey(d.next, key)}}
	d.next++
	d.pending++
	p.updates = make([]pipeline.StateUpdate, 1, 2) // a full window forgets one per request
	p.updates[0] = pipeline.StateUpdate{Source: source, Key: p.entry.stateKey, Value: reply}
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
		p.updates = append(p.updates, pipeline.StateUpdate{Source: source, Key: d.replies[old].stateKey, Delete: true})
		excess--
	}
	return p
}

// revise replaces the reply remembered for key, keeping its place, and
// returns the state updates that store it (a legacy entry moves to its
// seqKey); none when key is no longer remembered.
func (d *dedupe) revise(source, key string, reply []byte) []pipeline.StateUpdate {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.replies[key]
	if !ok {
		return nil
	}
	var upd []pipeline.StateUpdate
	if _, _, seq := parseSeqKey(r.stateKey); !seq {
		upd = append(upd, pipeline.StateUpdate{Source: source, Key: r.stateKey, Delete: true})
		r.stateKey = seqKey(r.Order, key)
	}
	r.Reply = reply
	d.replies[key] = r
	return append(upd, pipeline.StateUpdate{Source: source, Key: r.stateKey, Value: reply})
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
