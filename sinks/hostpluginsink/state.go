package hostpluginsink

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// maxChannels bounds the observations whose state is kept. Only
// name_from rules can make more than a handful; past the bound the
// channel touched longest ago is forgotten (its next event starts afresh).
const maxChannels = 4096

// channel is the reporting state of one observation name: WALinuxAgent's
// ErrorState and last report time, measured in event time.
type channel struct {
	// failingSince is the time of the first failure of the current run
	// of failures; zero while healthy (ErrorState.timestamp).
	failingSince time.Time
	// lastReport is the event time of the last report; zero before the
	// first (should_report's last_timestamp).
	lastReport time.Time
	// latest is the newest event time seen. The channel's clock never
	// runs backwards: an event older than latest counts as observed at
	// latest, as WALinuxAgent, which reads the wall clock when it
	// observes, would have seen it.
	latest time.Time
	// posted and postedHealthy are the health last sent, for logging
	// transitions.
	posted, postedHealthy bool
	// touched orders channels for eviction.
	touched uint64
}

// step is the outcome of one event for its channel.
type step struct {
	// due is true when the event is reported (should_report).
	due bool
	// healthy is the health to report: false only once the channel has
	// failed for at least the error-state duration.
	healthy bool
	// failingFor is how long the channel has been failing, at t.
	failingFor time.Duration
}

// observe applies one event at event time t with its own result ok,
// WALinuxAgent's should_report followed by ErrorState.is_triggered:
// a success resets the error state, a failure starts it if needed (at
// since when the source says when its failures began); the
// event is due when no report was made yet, the period is zero, or at
// least the period has passed since the last report. An event older
// than the newest seen is taken at the newest's time, so events out of
// time order never make a failing-for duration negative, nor turn a
// failure that is reported unhealthy back into a healthy report.
// Reprocessing the same events in order leaves the channel as it was,
// so a batch the runner delivers again changes nothing.
func (c *channel) observe(t time.Time, ok bool, since time.Time, period, errorState time.Duration) step {
	if t.Before(c.latest) {
		t = c.latest
	}
	c.latest = t
	switch {
	case ok:
		c.failingSince = time.Time{}
	case !since.IsZero() && !since.After(t):
		c.failingSince = since
	case c.failingSince.IsZero():
		c.failingSince = t
	}
	var s step
	if !c.failingSince.IsZero() {
		s.failingFor = t.Sub(c.failingSince)
	}
	s.healthy = c.failingSince.IsZero() || s.failingFor < errorState
	s.due = period <= 0 || c.lastReport.IsZero() || !t.Before(c.lastReport.Add(period))
	if s.due && t.After(c.lastReport) {
		c.lastReport = t
	}
	return s
}

// channels is the sink's per-observation state, kept in the sink's
// durable state (pipeline.SinkState, committed by the runner with the
// cursor) under "channel/NAME", so that a restart neither forgets a
// failure in progress nor reports again inside a period. It is used by
// Deliver only, one call at a time.
type channels struct {
	m     map[string]*channel
	clock uint64
	state pipeline.SinkState
}

// newChannels returns the channels stored in state. A value that does not
// decode (written by a newer version, or damaged) is dropped with a
// warning: that observation starts afresh.
func newChannels(ctx context.Context, state pipeline.SinkState, log *slog.Logger) *channels {
	cs := &channels{m: make(map[string]*channel), state: state}
	all := state.All()
	for _, k := range slices.Sorted(maps.Keys(all)) {
		name, ok := strings.CutPrefix(k, channelKeyPrefix)
		if !ok {
			continue
		}
		c, err := decodeChannel(all[k])
		if err != nil {
			log.WarnContext(ctx, "hostplugin sink drops an unreadable observation state", slog.String("observation", name), slog.String("error", err.Error()))
			state.Delete(k)
			continue
		}
		cs.clock++
		c.touched = cs.clock
		cs.m[name] = &c
	}
	return cs
}

// get returns a copy of the named channel's state (zero if unknown).
func (cs *channels) get(name string) channel {
	if c, ok := cs.m[name]; ok {
		return *c
	}
	return channel{}
}

// put stores a channel's new state, in memory and, when it changed, in
// the durable state.
func (cs *channels) put(name string, c channel) {
	cs.clock++
	c.touched = cs.clock
	if old, ok := cs.m[name]; ok {
		changed := !old.sameDurable(&c)
		*old = c
		if changed {
			cs.state.Set(channelKeyPrefix+name, encodeChannel(&c))
		}
		return
	}
	if len(cs.m) >= maxChannels {
		var oldest string
		var at uint64
		for k, v := range cs.m {
			if oldest == "" || v.touched < at {
				oldest, at = k, v.touched
			}
		}
		delete(cs.m, oldest)
		cs.state.Delete(channelKeyPrefix + oldest)
	}
	cs.m[name] = &c
	cs.state.Set(channelKeyPrefix+name, encodeChannel(&c))
}
