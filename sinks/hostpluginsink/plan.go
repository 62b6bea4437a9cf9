package hostpluginsink

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// planned is what a batch does to one observation channel.
type planned struct {
	name string
	// literal is true when the name is written in the config (it is then
	// a metric attribute).
	literal bool
	// state is the channel after the batch's events.
	state channel
	// report is the newest due report of the batch, nil when none was
	// due; index is its delivery (without a report, its last event's),
	// which orders the POSTs.
	report *Observation
	index  int
	// current is the reported event's own result; failingFor and
	// errorState explain a failure, for logs.
	current    bool
	failingFor time.Duration
	errorState time.Duration
	coalesced  int
	suppressed int
}

// plan is schedule with its metrics recorded and unmapped events
// logged: what Deliver runs.
func (s *sink) plan(ctx context.Context, batch []pipeline.Delivery) ([]planned, []pipeline.DeliveryFailure) {
	plan, failed := s.schedule(batch)
	for _, f := range failed {
		d := &batch[f.Index]
		s.tel.observation(ctx, "", outcomeUnmapped, nil, 1)
		s.logger.DebugContext(ctx, "hostplugin sink cannot map an event",
			slog.Uint64("seq", d.Event.Sequence), slog.String("type", d.Event.Type), slog.String("error", f.Err.Error()))
	}
	for i := range plan {
		p := &plan[i]
		s.tel.observation(ctx, p.metricName(), outcomeSuppressed, nil, p.suppressed)
		s.tel.observation(ctx, p.metricName(), outcomeCoalesced, nil, p.coalesced)
	}
	return plan, failed
}

// schedule maps the batch's events to observation channels and runs each
// channel's error state and report period over them, in order, on copies
// of the channels' states: it changes nothing, records nothing and logs
// nothing. Events no rule maps are returned as permanent failures.
func (s *sink) schedule(batch []pipeline.Delivery) ([]planned, []pipeline.DeliveryFailure) {
	var (
		plan   []planned
		failed []pipeline.DeliveryFailure
		byName map[string]int
	)
	for i := range batch {
		d := &batch[i]
		m, err := s.mapping.observe(d)
		if err != nil {
			failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: pipeline.Permanent(err)})
			continue
		}
		k, ok := byName[m.obs.Name]
		if !ok {
			if byName == nil {
				byName = make(map[string]int, 4)
			}
			k = len(plan)
			byName[m.obs.Name] = k
			plan = append(plan, planned{name: m.obs.Name, literal: m.literal, state: s.channels.get(m.obs.Name)})
		}
		p := &plan[k]
		if p.report == nil {
			p.index = i
		}
		st := p.state.observe(s.eventTime(&d.Event), m.obs.IsHealthy, m.failingSince, m.period, m.errorState)
		if !st.due {
			p.suppressed++
			continue
		}
		if p.report != nil {
			p.coalesced++
		}
		obs := m.obs
		obs.IsHealthy = st.healthy
		p.report, p.index = &obs, i
		p.current, p.failingFor, p.errorState = m.obs.IsHealthy, st.failingFor, m.errorState
	}
	slices.SortStableFunc(plan, func(a, b planned) int { return a.index - b.index })
	return plan, failed
}

// metricName is the observation attribute for metrics: the name when
// it is written in the config, "" for names taken from events.
func (p *planned) metricName() string {
	if p.literal {
		return p.name
	}
	return ""
}
