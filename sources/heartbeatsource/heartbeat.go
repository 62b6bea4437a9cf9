package heartbeatsource

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// stateCounter is the state key holding the last emitted counter.
const stateCounter = "counter"

type source struct {
	set     pipeline.Settings
	cfg     Config
	host    string
	started time.Time
}

var _ pipeline.Source = (*source)(nil)

func newSource(set pipeline.Settings, cfg *Config) *source {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return &source{set: set, cfg: *cfg, host: host}
}

// payload is the data of a heartbeat event.
type payload = eventtypes.HeartbeatData

// Run implements pipeline.Source: it emits a heartbeat at once and then
// every interval until ctx ends. A failed emit (a full journal) is logged
// and retried at the next tick; heartbeats are not queued up.
func (s *source) Run(ctx context.Context, host pipeline.SourceHost) error {
	s.started = s.set.Clock.Now()
	state, err := host.State(ctx)
	if err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	var counter uint64
	if b := state[stateCounter]; len(b) == 8 {
		counter = binary.BigEndian.Uint64(b)
	}
	timer := s.set.Clock.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C():
		}
		next := counter + 1
		if err := s.emit(ctx, host, next); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.set.Logger.Warn("heartbeat not recorded", slog.String("error", err.Error()))
		} else {
			counter = next
		}
		timer.Reset(s.cfg.Interval)
	}
}

func (s *source) emit(ctx context.Context, host pipeline.SourceHost, counter uint64) error {
	now := s.set.Clock.Now()
	data, err := json.Marshal(payload{
		Host: s.host, Counter: counter, Started: s.started.UTC(),
		UptimeSeconds: now.Sub(s.started).Seconds(), Interval: s.cfg.Interval.String(),
	})
	if err != nil {
		return err
	}
	subject := s.cfg.Subject
	if subject == "" {
		subject = s.host
	}
	ev := pipeline.Event{
		ID:   s.host + "-" + strconv.FormatInt(s.started.UnixNano(), 36) + "-" + strconv.FormatUint(counter, 10),
		Type: s.cfg.Type, Subject: subject, Time: now, Severity: s.cfg.Severity,
		DataContentType: eventtypes.ContentType, Data: data,
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], counter)
	_, err = host.Emit(ctx, []pipeline.Event{ev}, pipeline.StateUpdate{Key: stateCounter, Value: buf[:]})
	return err
}
