package pipeline

import (
	"cmp"
	"slices"
	"time"
)

// ThrottleSpec limits deliveries per key: at most one per Period, keeping
// the latest state (the shape of WALinuxAgent's should_report, except that
// what arrives inside a period is not lost but coalesced: the newest event
// per key is delivered when the period ends). With Escalate, events that
// Escalate.When selects (an unhealthy state) are held back until the
// condition has held for Escalate.After, so that a short blip is never
// reported; any event the condition does not select resets it.
type ThrottleSpec struct {
	// Key computes the throttle key of an event (e.g. its type and
	// subject); nil means one key per event type and subject.
	Key EventKeyer
	// Period is the least time between two deliveries of one key; zero
	// means no rate limit (only escalation).
	Period time.Duration
	// Escalate, when set, holds back unhealthy events.
	Escalate *EscalateSpec
	// MaxKeys bounds the keys tracked; past it, events are delivered
	// unthrottled (and counted). Zero means 10,000.
	MaxKeys int
}

// EscalateSpec is ThrottleSpec's error-state escalation.
type EscalateSpec struct {
	// When selects the events that report the unhealthy condition.
	When EventMatcher
	// After is how long the condition must hold before it is reported.
	After time.Duration
}

// EventKeyer computes a key for an event; compiled once, safe for
// concurrent use.
type EventKeyer interface {
	Key(e *Event) (string, error)
}

// throttle is one sink's throttle state for one ThrottleSpec. It is used
// only by the sink's consumer goroutine.
type throttle struct {
	spec ThrottleSpec
	keys map[string]*throttleKey
}

// throttleKey is the state of one key.
type throttleKey struct {
	lastDelivered time.Time
	// unhealthySince is when the escalation condition started holding;
	// zero when it does not hold.
	unhealthySince time.Time
	// pending is the newest event held back, if any.
	pending *Delivery
}

func newThrottle(spec ThrottleSpec) *throttle {
	if spec.MaxKeys <= 0 {
		spec.MaxKeys = 10000
	}
	return &throttle{spec: spec, keys: make(map[string]*throttleKey)}
}

// throttleResult is what offer decided for one delivery.
type throttleResult int

const (
	throttlePass       throttleResult = iota // deliver now
	throttleHeld                             // held back (pending for its key)
	throttleSuperseded                       // replaced an older pending delivery (returned as superseded)
	throttleOverflow                         // too many keys: delivered unthrottled
)

// offer takes one delivery at now. It returns whether to deliver it now,
// and the older pending delivery it superseded, if any.
func (t *throttle) offer(d Delivery, now time.Time) (throttleResult, *Delivery, error) {
	key, err := t.key(&d.Event)
	if err != nil {
		return throttlePass, nil, err
	}
	k, ok := t.keys[key]
	if !ok {
		if len(t.keys) >= t.spec.MaxKeys {
			return throttleOverflow, nil, nil
		}
		k = &throttleKey{}
		t.keys[key] = k
	}
	var superseded *Delivery
	if k.pending != nil {
		superseded = k.pending
		k.pending = nil
	}
	if esc := t.spec.Escalate; esc != nil {
		unhealthy, err := esc.When.Match(&d.Event)
		if err != nil {
			return throttlePass, superseded, err
		}
		if !unhealthy {
			k.unhealthySince = time.Time{}
		} else {
			if k.unhealthySince.IsZero() {
				k.unhealthySince = now
			}
			if now.Sub(k.unhealthySince) < esc.After {
				k.pending = &d
				return throttleHeld, superseded, nil
			}
		}
	}
	if t.spec.Period > 0 && !k.lastDelivered.IsZero() && now.Sub(k.lastDelivered) < t.spec.Period {
		k.pending = &d
		return throttleHeld, superseded, nil
	}
	k.lastDelivered = now
	return throttlePass, superseded, nil
}

// due returns the pending deliveries whose time has come at now, in
// sequence order, and marks them delivered.
func (t *throttle) due(now time.Time) []Delivery {
	var out []Delivery
	for _, k := range t.keys {
		if k.pending == nil || t.readyAt(k).After(now) {
			continue
		}
		out = append(out, *k.pending)
		k.pending = nil
		k.lastDelivered = now
	}
	sortBySequence(out)
	return out
}

// readyAt is when k's pending delivery may go.
func (t *throttle) readyAt(k *throttleKey) time.Time {
	at := time.Time{}
	if t.spec.Period > 0 && !k.lastDelivered.IsZero() {
		at = k.lastDelivered.Add(t.spec.Period)
	}
	if esc := t.spec.Escalate; esc != nil && !k.unhealthySince.IsZero() {
		if e := k.unhealthySince.Add(esc.After); e.After(at) {
			at = e
		}
	}
	return at
}

// next returns when the earliest pending delivery is due, and whether
// there is one.
func (t *throttle) next() (time.Time, bool) {
	var at time.Time
	found := false
	for _, k := range t.keys {
		if k.pending == nil {
			continue
		}
		if r := t.readyAt(k); !found || r.Before(at) {
			at, found = r, true
		}
	}
	return at, found
}

// oldestPending returns the smallest journal sequence held back, or 0.
func (t *throttle) oldestPending() uint64 {
	var oldest uint64
	for _, k := range t.keys {
		if k.pending != nil && (oldest == 0 || k.pending.Event.Sequence < oldest) {
			oldest = k.pending.Event.Sequence
		}
	}
	return oldest
}

func (t *throttle) key(e *Event) (string, error) {
	if t.spec.Key == nil {
		return e.Type + "\x00" + e.Subject, nil
	}
	return t.spec.Key.Key(e)
}

func sortBySequence(ds []Delivery) {
	slices.SortFunc(ds, func(a, b Delivery) int { return cmp.Compare(a.Event.Sequence, b.Event.Sequence) })
}
