package lbworkersource

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
)

// Source-state keys of the load balancers' states.
const (
	lbStatePrefix  = "lb/"          // + protocol: a tracked lbEntry
	lbSuspendedKey = "lb-suspended" // present while the device is suspended
)

// lbEntry is one load balancer as the tracker knows it. The key is the
// protocol: a Libra device has at most one load balancer per protocol, and
// the haproxy sink names its proxies by protocol.
type lbEntry struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Protocol string `json:"protocol"`
	Port     int    `json:"port,omitempty"`
	State    string `json:"state"`
}

// lbTracker follows the load balancers' states from the outcomes of the
// requests the reply_after sinks applied, and turns each change into a
// sluice.lb.state event. Its state is source state, written with the
// events. Changes are computed and emitted under one lock, in the order
// requests complete.
type lbTracker struct {
	mu        sync.Mutex
	lbs       map[string]lbEntry
	suspended bool
}

func newLBTracker() *lbTracker { return &lbTracker{lbs: map[string]lbEntry{}} }

// load restores the tracked states from the source's state.
func (t *lbTracker) load(state map[string][]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range state {
		if k == lbSuspendedKey {
			t.suspended = true
			continue
		}
		proto, ok := strings.CutPrefix(k, lbStatePrefix)
		var e lbEntry
		if ok && json.Unmarshal(v, &e) == nil {
			t.lbs[proto] = e
		}
	}
}

// lbChanges is what one completed request changes: the events, the state
// updates to write with them, and the tracker's next view.
type lbChanges struct {
	events    []pipeline.Event
	updates   []pipeline.StateUpdate
	next      map[string]lbEntry
	suspended bool
}

// outcome is a completed request as the tracker sees it.
type outcome struct {
	req       libra.Request
	requestID string
	failed    bool
	reason    string
	at        time.Time
}

// changes computes what o does to the load balancers (t.mu held):
// UPDATE makes its load balancers ACTIVE (SUSPENDED while the device is
// suspended) and those it no longer lists DELETED, or ERROR on failure;
// SUSPEND makes every one SUSPENDED, ENABLE the suspended ones ACTIVE,
// DELETE every one DELETED. Other actions, and failures of anything but
// UPDATE (HAProxy keeps serving what it had), change nothing.
func (t *lbTracker) changes(source, subject string, o outcome) lbChanges {
	c := lbChanges{next: make(map[string]lbEntry, len(t.lbs)), suspended: t.suspended}
	for k, v := range t.lbs {
		c.next[k] = v
	}
	set := func(e lbEntry, to, reason string) {
		from := t.lbs[e.Protocol].State
		e.State = to
		if to == eventtypes.LBDeleted {
			delete(c.next, e.Protocol)
			c.updates = append(c.updates, pipeline.StateUpdate{Source: source, Key: lbStatePrefix + e.Protocol, Delete: true})
		} else {
			c.next[e.Protocol] = e
			b, _ := json.Marshal(e)
			c.updates = append(c.updates, pipeline.StateUpdate{Source: source, Key: lbStatePrefix + e.Protocol, Value: b})
		}
		if from == to && reason == "" {
			return
		}
		c.events = append(c.events, lbStateEvent(subject, e, from, reason, o))
	}
	switch a := o.req.Action; {
	case a == libra.ActionUpdate && o.failed:
		for _, lb := range o.req.LoadBalancers {
			set(entryOf(lb, t.lbs[lb.Protocol]), eventtypes.LBError, o.reason)
		}
	case o.failed:
	case a == libra.ActionUpdate:
		to := eventtypes.LBActive
		if t.suspended {
			to = eventtypes.LBSuspended
		}
		listed := map[string]bool{}
		for _, lb := range o.req.LoadBalancers {
			listed[lb.Protocol] = true
			set(entryOf(lb, t.lbs[lb.Protocol]), to, "")
		}
		for proto, e := range t.lbs {
			if !listed[proto] {
				set(e, eventtypes.LBDeleted, "")
			}
		}
	case a == libra.ActionSuspend:
		c.suspended = true
		for _, e := range t.lbs {
			set(e, eventtypes.LBSuspended, "")
		}
	case a == libra.ActionEnable:
		c.suspended = false
		for _, e := range t.lbs {
			if e.State == eventtypes.LBSuspended {
				set(e, eventtypes.LBActive, "")
			}
		}
	case a == libra.ActionDelete:
		c.suspended = false
		for _, e := range t.lbs {
			set(e, eventtypes.LBDeleted, "")
		}
	}
	if c.suspended != t.suspended {
		c.updates = append(c.updates, pipeline.StateUpdate{Source: source, Key: lbSuspendedKey, Value: []byte("true"), Delete: !c.suspended})
	}
	return c
}

// apply makes c the tracker's view (t.mu held), once its events and
// updates are durable.
func (t *lbTracker) apply(c lbChanges) {
	t.lbs, t.suspended = c.next, c.suspended
}

// entryOf is lb as tracked, keeping what prev knew.
func entryOf(lb libra.LoadBalancer, prev lbEntry) lbEntry {
	e := lbEntry{ID: lb.ID, Name: lb.Name, Protocol: lb.Protocol, Port: lb.Port, State: prev.State}
	if e.ID == "" {
		e.ID = prev.ID
	}
	if e.Name == "" {
		e.Name = prev.Name
	}
	return e
}

func lbStateEvent(subject string, e lbEntry, from, reason string, o outcome) pipeline.Event {
	id := e.ID
	if id == "" {
		id = e.Protocol
	}
	data, _ := json.Marshal(eventtypes.LBStateData{
		LoadBalancer: id, Name: e.Name, Protocol: e.Protocol, Port: e.Port, From: from, To: e.State,
		Reason: reason, Action: string(o.req.Action), RequestID: o.requestID, At: o.at.UTC(),
	})
	sev := pipeline.SeverityNotice
	if e.State == eventtypes.LBError {
		sev = pipeline.SeverityWarning
	}
	return pipeline.Event{
		ID:              o.requestID + "/" + e.Protocol,
		Type:            libra.EventState,
		Subject:         subject,
		DataContentType: eventtypes.ContentType,
		Data:            data,
		Severity:        sev,
	}
}
