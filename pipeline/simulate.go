package pipeline

import (
	"fmt"
	"time"
)

// SimulatedInput is one event for Simulate, as a source would emit it.
type SimulatedInput struct {
	// Event is the event; its Origin names the source that emits it.
	Event Event
	// At is when it is appended, and the throttles' now when it is
	// routed.
	At time.Time
}

// SimulatedDelivery is a delivery Simulate hands to a sink, and when.
type SimulatedDelivery struct {
	Delivery
	// At is when the consumer would pass it to the sink's Deliver: its
	// input's At, or, for a delivery a throttle held back, when the
	// throttle let it go.
	At time.Time
}

// SimulatedRejection is an event a route dead-letters for a sink instead
// of delivering it (a match that failed under on_error: dead_letter, a
// transform that failed).
type SimulatedRejection struct {
	Delivery
	// Reason is the dead letter's reason (ReasonMatchFailed,
	// ReasonTransformFailed).
	Reason string
	// Err is why.
	Err error
}

// SinkSimulation is what one sink receives in a simulation.
type SinkSimulation struct {
	// Sink names the sink.
	Sink string
	// Deliveries are the deliveries in the order Deliver would get them.
	Deliveries []SimulatedDelivery
	// Rejected are the dead letters, in journal order.
	Rejected []SimulatedRejection
}

// Simulate runs inputs through spec's routes (match, transform) and
// throttles for every sink, with the consumer's own code, and returns
// what each sink's Deliver would be handed, in Spec.Sinks order. Nothing
// is built, started or contacted: no source, no sink, no journal. Inputs
// get the sequences 1, 2, … in order (they must be in At order), and a
// zero Time becomes At, as the journal stores the append time. After the
// last input, time runs on until every throttle has let its held
// deliveries go, as the engine would if no other event came. Match
// errors under on_error: no_match are logged to set.Logger, as the
// engine logs them. It is what `sluice test` checks a config with.
func Simulate(spec Spec, inputs []SimulatedInput, set Settings) ([]SinkSimulation, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	records := make([]Record, len(inputs))
	for i, in := range inputs {
		if i > 0 && in.At.Before(inputs[i-1].At) {
			return nil, fmt.Errorf("%w: input %d is at %s, before input %d", ErrInvalidConfig, i+1, in.At.Format(time.RFC3339Nano), i)
		}
		e := in.Event
		e.Sequence = uint64(i + 1)
		if e.Time.IsZero() && !e.TimeGiven {
			e.Time = in.At
		}
		records[i] = Record{Event: e, Seq: e.Sequence, AppendTime: in.At}
	}
	matchErrs := newMatchErrors(tel, set.Logger.With("component", "routes"), set.Clock)
	out := make([]SinkSimulation, 0, len(spec.Sinks))
	for _, ks := range spec.Sinks {
		out = append(out, simulateSink(ks, spec.Routes, inputs, records, matchErrs))
	}
	return out, nil
}

// simulateSink is Simulate for one sink: each record is read alone at
// its input's At, after the throttles' due deliveries up to then.
func simulateSink(ks SinkSpec, routes []RouteSpec, inputs []SimulatedInput, records []Record, matchErrs *matchErrors) SinkSimulation {
	sim := SinkSimulation{Sink: ks.Name}
	sr := newSinkRoutes(ks.Name, routes, matchErrs)
	th := newSinkThrottles(ks.Throttle, routes, ks.Name)
	quiet := func(string, *Delivery, error) {}
	emit := func(at time.Time, ds []Delivery) {
		for _, d := range ds {
			sim.Deliveries = append(sim.Deliveries, SimulatedDelivery{Delivery: d, At: at})
		}
	}
	// flushUntil delivers what the throttles' timers would release up to
	// limit (forever when limit is zero).
	flushUntil := func(limit time.Time) {
		for {
			at, ok := th.next()
			if !ok || (!limit.IsZero() && at.After(limit)) {
				return
			}
			emit(at, th.pass(at, nil, quiet))
		}
	}
	for i := range records {
		now := inputs[i].At
		flushUntil(now)
		b, rejected := sr.batch(records[i:i+1], nil)
		for _, r := range rejected {
			sim.Rejected = append(sim.Rejected, SimulatedRejection{Delivery: r.delivery, Reason: r.reason, Err: r.err})
		}
		if th.empty() {
			emit(now, b.deliveries)
			continue
		}
		emit(now, th.pass(now, b.deliveries, quiet))
	}
	flushUntil(time.Time{})
	return sim
}
