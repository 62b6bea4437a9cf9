package pipeline

import (
	"slices"
	"time"
)

// Status is a snapshot of a pipeline, for the admin API's status.
type Status struct {
	// Ready is Ready().
	Ready bool
	// LastAppended is the newest sequence appended (0: none seen yet).
	LastAppended uint64
	Sources      []SourceStatus
	Sinks        []SinkStatus
}

// SourceStatus is one source in a Status.
type SourceStatus struct {
	Name, Type string
	// Running reports whether the source's Run is running.
	Running bool
	// Appended counts the events the source appended since the pipeline
	// was built, EmitErrors its failed emits (totals: a rate is the
	// difference of two snapshots over their interval).
	Appended, EmitErrors uint64
}

// SinkStatus is one sink in a Status.
type SinkStatus struct {
	Name, Type string
	// Running reports whether the sink's consumer is running.
	Running bool
	// Next is the next sequence the sink has not handled (0 before its
	// consumer first started); Lag counts the records appended but not
	// yet handled, LagAge is how long the oldest of them has waited
	// (zero when caught up).
	Next   uint64
	Lag    uint64
	LagAge time.Duration
	// OldestPending is the append time of the oldest record not yet
	// handled (zero when caught up).
	OldestPending time.Time
	// Totals since the pipeline was built (kept across reloads):
	// deliveries that took effect, retries scheduled, deliveries
	// dead-lettered, failed Deliver calls.
	Delivered, Retries, DeadLettered, Failures uint64
}

// Status returns a snapshot of the pipeline's components, in
// configuration order.
func (p *Pipeline) Status() Status {
	p.mu.Lock()
	sources, sinks := slices.Clone(p.sources), slices.Clone(p.sinks)
	types := map[string]string{}
	for _, s := range p.spec.Sources {
		types[sourceUnit(s.Name)] = s.Type
	}
	for _, s := range p.spec.Sinks {
		types[sinkUnit(s.Name)] = s.Type
	}
	running := map[string]bool{}
	for key, u := range p.units {
		select {
		case <-u.done:
		default:
			running[key] = true
		}
	}
	p.mu.Unlock()
	st := Status{Ready: p.ready.Load(), LastAppended: p.lastAppended.Load()}
	for _, s := range sources {
		st.Sources = append(st.Sources, SourceStatus{Name: s.name, Type: types[sourceUnit(s.name)], Running: running[sourceUnit(s.name)],
			Appended: s.host.counts.appended.Load(), EmitErrors: s.host.counts.emitErrors.Load()})
	}
	now := p.set.Clock.Now()
	for _, s := range sinks {
		ss := SinkStatus{Name: s.name, Type: types[sinkUnit(s.name)], Running: running[sinkUnit(s.name)], Next: s.next.Load(),
			Delivered: s.counts.delivered.Load(), Retries: s.counts.retries.Load(),
			DeadLettered: s.counts.deadLettered.Load(), Failures: s.counts.failures.Load()}
		if ss.Next != 0 && st.LastAppended+1 > ss.Next {
			ss.Lag = st.LastAppended + 1 - ss.Next
		}
		if oldest := s.oldestPending.Load(); ss.Lag > 0 && oldest != 0 {
			ss.OldestPending = time.Unix(0, oldest)
			ss.LagAge = max(0, now.Sub(ss.OldestPending))
		}
		st.Sinks = append(st.Sinks, ss)
	}
	return st
}
