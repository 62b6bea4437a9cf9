package haproxysink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
)

// Sink state keys (Settings.State, committed with the sink's cursor).
const (
	// StateConfigHash is the SHA-256 (hex) of the configuration last made live.
	StateConfigHash = "config_hash"
	// StateSuspended is "true" while the load balancers are suspended.
	StateSuspended = "suspended"
	// StateDeleted is "true" after DELETE, until the next UPDATE.
	StateDeleted = "deleted"
	// StateLoadBalancers is the JSON of the last UPDATE's load balancers,
	// which ENABLE serves again.
	StateLoadBalancers = "load_balancers"
	// StateStats is the JSON of the last STATS: {"nodes":[NodeStatus...]}
	// or {"status":"DELETED"} or {"error":...}.
	StateStats = "stats"
	// StateMetrics is the JSON of the last METRICS: {"load_balancers":[BackendBytes...]}.
	StateMetrics = "metrics"
	// StateMetricsAt is when the last METRICS was answered (RFC 3339),
	// the next one's utc_start.
	StateMetricsAt = "metrics_at"
)

type sink struct {
	cfg     *Config
	log     *slog.Logger
	clock   pipeline.Clock
	started time.Time // utc_start of the first METRICS
	state   pipeline.SinkState
	params  renderParams
	apply   *applier
	tel     *telemetry
}

var _ pipeline.Sink = (*sink)(nil)

func newSink(set pipeline.Settings, cfg *Config) (*sink, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("haproxy sink telemetry: %w", err)
	}
	return &sink{
		cfg: cfg, log: set.Logger, clock: set.Clock, started: set.Clock.Now().UTC(), state: set.State, tel: tel,
		params: renderParams{
			statsSocket: cfg.StatsSocket, bind: cfg.BindAddress, user: cfg.User, group: cfg.Group,
			log: cfg.Log, maxConn: cfg.MaxConn,
		},
		apply: &applier{path: cfg.ConfigPath, binary: cfg.Binary, reload: cfg.Reload, log: set.Logger, timeout: cfg.Reload.Timeout},
	}, nil
}

// Start implements pipeline.Sink. When the configuration file does not
// exist yet it writes the base file (stats socket, no proxies), checked
// with haproxy -c, so that HAProxy can be started on it.
func (s *sink) Start(ctx context.Context) error {
	if _, err := os.Stat(s.cfg.ConfigPath); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	text := render(s.params, nil)
	tmp, err := s.apply.writeTemp(text)
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }()
	if err := s.apply.check(ctx, tmp); err != nil {
		return fmt.Errorf("haproxy sink: base configuration: %w", err)
	}
	return s.apply.install(tmp)
}

// Close implements pipeline.Sink.
func (s *sink) Close(context.Context) error { return nil }

// Deliver implements pipeline.Sink: it applies sluice.lb.request events in
// order and ignores other events. A permanent failure (a configuration
// HAProxy rejects) is reported for that delivery and the next ones are
// applied; a transient one (HAProxy not running) stops the batch there,
// and it and every later delivery are retried, so requests never apply
// out of order.
func (s *sink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	var failed []pipeline.DeliveryFailure
	for i, d := range batch {
		err := s.deliver(ctx, d)
		if err == nil {
			continue
		}
		if pipeline.IsPermanent(err) {
			failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: err})
			continue
		}
		for j := i; j < len(batch); j++ {
			failed = append(failed, pipeline.DeliveryFailure{Index: j, Err: err})
		}
		break
	}
	if len(failed) == 0 {
		return nil
	}
	if len(batch) == 1 {
		return failed[0].Err
	}
	return &pipeline.BatchError{Failed: failed}
}

// lbState is the sink's view of the load balancers.
type lbState struct {
	lbs       []libra.LoadBalancer
	suspended bool
	deleted   bool
}

func (s *sink) current() lbState {
	var st lbState
	if v, ok := s.state.Get(StateLoadBalancers); ok {
		_ = json.Unmarshal(v, &st.lbs)
	}
	_, st.suspended = s.state.Get(StateSuspended)
	_, st.deleted = s.state.Get(StateDeleted)
	return st
}

func (s *sink) deliver(ctx context.Context, d pipeline.Delivery) (err error) {
	if d.Event.Type != libra.EventRequest {
		return nil
	}
	ctx, span := s.tel.tracer.Start(ctx, "haproxy.apply")
	defer span.End()
	ev, err := libra.ParseRequestEvent(d.Event.Data)
	if err != nil {
		return pipeline.Permanent(err)
	}
	defer func() { s.tel.record(ctx, string(ev.Action), err) }()
	log := s.log.With(slog.String("request_id", ev.RequestID), slog.String("action", string(ev.Action)), slog.Uint64("seq", d.Event.Sequence))
	st, changes := next(s.current(), &ev)
	switch {
	case changes:
	case ev.Action == libra.ActionStats:
		pipeline.SetResult(ctx, d, s.recordStats(ctx, log, st))
		return nil
	case ev.Action == libra.ActionMetrics:
		pipeline.SetResult(ctx, d, s.recordMetrics(ctx, log, st))
		return nil
	case ev.Action == libra.ActionArchive:
		pipeline.SetResult(ctx, d, libra.FailResult(errArchive, nil))
		return nil
	default:
		return nil // DISCOVER and DIAGNOSTICS change nothing here
	}
	live := st.live()
	if st.suspended {
		// Still prove the new load balancers load, so ENABLE cannot fail on them.
		if ev.Action == libra.ActionUpdate {
			if err := s.checkOnly(ctx, render(s.params, st.lbs)); err != nil {
				log.WarnContext(ctx, "update rejected", slog.String("error", err.Error()))
				return err
			}
		}
	}
	text := render(s.params, live)
	if err := s.makeLive(ctx, text); err != nil {
		log.WarnContext(ctx, "request not applied", slog.String("error", err.Error()), slog.Bool("permanent", pipeline.IsPermanent(err)))
		return err
	}
	s.save(st, text)
	log.InfoContext(ctx, "request applied", slog.Int("load_balancers", len(live)), slog.Bool("suspended", st.suspended))
	return nil
}

// makeLive applies text unless it is already live (a redelivered request).
func (s *sink) makeLive(ctx context.Context, text string) error {
	if h, ok := s.state.Get(StateConfigHash); ok && string(h) == hash(text) {
		if cur, err := os.ReadFile(s.cfg.ConfigPath); err == nil && bytes.Equal(cur, []byte(text)) {
			return nil
		}
	}
	return s.apply.apply(ctx, text)
}

func (s *sink) checkOnly(ctx context.Context, text string) error {
	tmp, err := s.apply.writeTemp(text)
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }()
	return s.apply.check(ctx, tmp)
}

func (s *sink) save(st lbState, text string) {
	s.state.Set(StateConfigHash, []byte(hash(text)))
	setFlag(s.state, StateSuspended, st.suspended)
	setFlag(s.state, StateDeleted, st.deleted)
	if st.lbs == nil {
		s.state.Delete(StateLoadBalancers)
		return
	}
	b, _ := json.Marshal(st.lbs)
	s.state.Set(StateLoadBalancers, b)
}

// recordStats reads the node statuses into the sink state and returns
// the reply_after result (statsResult).
func (s *sink) recordStats(ctx context.Context, log *slog.Logger, st lbState) []byte {
	var v any
	var nodes []NodeStatus
	var err error
	switch {
	case st.deleted:
		v = map[string]string{"status": "DELETED"}
	default:
		nodes, err = nodeStatuses(ctx, s.cfg.StatsSocket, s.cfg.Reload.Timeout)
		if err != nil {
			v = map[string]string{"error": err.Error()}
		} else {
			v = map[string]any{"nodes": nodes}
		}
	}
	b, _ := json.Marshal(v)
	s.state.Set(StateStats, b)
	log.InfoContext(ctx, "stats read", slog.String("stats", string(b)))
	return statsResult(st.deleted, nodes, err)
}

// recordMetrics reads each backend's bytes out into the sink state and
// returns the reply_after result (metricsResult).
func (s *sink) recordMetrics(ctx context.Context, log *slog.Logger, st lbState) []byte {
	var v any
	var lbs []BackendBytes
	var err error
	switch {
	case st.deleted:
		v = map[string]string{"status": "DELETED"}
	default:
		lbs, err = backendBytes(ctx, s.cfg.StatsSocket, s.cfg.Reload.Timeout)
		if err != nil {
			v = map[string]string{"error": err.Error()}
		} else {
			v = map[string]any{"load_balancers": lbs}
		}
	}
	b, _ := json.Marshal(v)
	s.state.Set(StateMetrics, b)
	log.InfoContext(ctx, "metrics read", slog.String("metrics", string(b)))
	now := s.clock.Now().UTC()
	start := s.started
	if prev, ok := s.state.Get(StateMetricsAt); ok {
		if t, err := time.Parse(time.RFC3339Nano, string(prev)); err == nil {
			start = t
		}
	}
	if err == nil {
		s.state.Set(StateMetricsAt, []byte(now.Format(time.RFC3339Nano)))
	}
	return metricsResult(st.deleted, start, now, lbs, err)
}

func setFlag(st pipeline.SinkState, key string, on bool) {
	if on {
		st.Set(key, []byte("true"))
	} else {
		st.Delete(key)
	}
}

func hash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}
