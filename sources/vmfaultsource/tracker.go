package vmfaultsource

import (
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// observation is one maintenance event as a provider lists it now, in
// Sluice's states (scheduled, started, completed, cancelled).
type observation struct {
	id        string
	state     string
	notBefore time.Time
	data      maintenanceData
}

// knownEvent is what the journal keeps of a provider event between polls
// and restarts ("PREFIX/ID"), to report each state once.
type knownEvent struct {
	State     string    `json:"state"`
	Type      string    `json:"type,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	NotBefore time.Time `json:"not_before,omitzero"`
	Approved  bool      `json:"approved,omitempty"`
}

// terminal reports whether state ends an event.
func terminal(state string) bool {
	return state == MaintenanceCompleted || state == MaintenanceCancelled
}

// tracker turns successive listings of a provider's maintenance events
// into sluice.vm.maintenance events, each (event, state) once.
type tracker struct {
	provider string
	prefix   string
	vm       string
	known    map[string]knownEvent
}

// newTracker tracks the events of provider whose state keys start with
// prefix (which no other tracker's prefix may start with).
func newTracker(provider, prefix, vm string) *tracker {
	return &tracker{provider: provider, prefix: prefix, vm: vm, known: map[string]knownEvent{}}
}

// restore loads the known events from the source's state.
func (t *tracker) restore(state map[string][]byte, log *slog.Logger) {
	for k, v := range state {
		id, ok := strings.CutPrefix(k, t.prefix)
		if !ok {
			continue
		}
		var kn knownEvent
		if err := json.Unmarshal(v, &kn); err != nil {
			log.Warn("vmfault state ignored", slog.String("key", k), slog.String("error", err.Error()))
			continue
		}
		t.known[id] = kn
	}
}

// diff returns the known events after a listing and the events of its
// changes. A state is reported when it is new for the event, except a
// step back (started to scheduled) or any change after a terminal state.
// An event that disappears while not terminal is reported completed if it
// had started or its not-before time has passed, else cancelled; a
// terminal one that disappears is forgotten silently.
func (t *tracker) diff(obs []observation, now time.Time) (map[string]knownEvent, []pipeline.Event, error) {
	next := make(map[string]knownEvent, len(obs))
	var out []pipeline.Event
	for _, o := range obs {
		kn, ok := t.known[o.id]
		if !ok {
			kn = knownEvent{FirstSeen: now, Type: o.data.Kind}
		}
		if !o.notBefore.IsZero() {
			kn.NotBefore = o.notBefore
		}
		back := kn.State == MaintenanceStarted && o.state == MaintenanceScheduled
		if kn.State != o.state && !back && !terminal(kn.State) {
			ev, err := maintenanceEvent(o.id, o.state, o.data, now)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, ev)
			kn.State = o.state
		}
		next[o.id] = kn
	}
	for _, id := range slices.Sorted(maps.Keys(t.known)) {
		kn := t.known[id]
		if _, listed := next[id]; listed || terminal(kn.State) {
			continue
		}
		state := MaintenanceCancelled
		if kn.State == MaintenanceStarted || !kn.NotBefore.IsZero() && !now.Before(kn.NotBefore) {
			state = MaintenanceCompleted
		}
		d := maintenanceData{Provider: t.provider, EventID: id, Kind: kn.Type, VM: t.vm, NotBefore: kn.NotBefore}
		ev, err := maintenanceEvent(id, state, d, now)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ev)
	}
	return next, out, nil
}

// updates returns the state updates that turn the known events into next.
func (t *tracker) updates(next map[string]knownEvent) ([]pipeline.StateUpdate, error) {
	var out []pipeline.StateUpdate
	for _, id := range slices.Sorted(maps.Keys(t.known)) {
		if _, ok := next[id]; !ok {
			out = append(out, pipeline.StateUpdate{Key: t.prefix + id, Delete: true})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(next)) {
		if old, ok := t.known[id]; ok && old == next[id] {
			continue
		}
		b, err := json.Marshal(next[id])
		if err != nil {
			return nil, err
		}
		out = append(out, pipeline.StateUpdate{Key: t.prefix + id, Value: b})
	}
	return out, nil
}
