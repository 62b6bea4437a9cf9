package vessink

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/internal/partial"
)

// HeartbeatReporter is implemented by the VES sink (the pipeline.Sink the
// factory returns): HeartbeatInterval is the heartbeat interval in force,
// the configured heartbeat_interval until the collector sends a
// heartbeatIntervalChange command, then the commanded one. 0 means the
// heartbeat source's own interval is reported.
type HeartbeatReporter interface {
	HeartbeatInterval() time.Duration
}

// sink delivers events to a VES collector. Deliver is called by one
// goroutine at a time; Close may race with it, so the client is guarded
// by mu and closed is checked before every request.
type sink struct {
	cfg       Config
	log       *slog.Logger
	clock     pipeline.Clock
	tel       *telemetry
	m         *mapper
	singleURL string
	batchURL  string
	// target is the single-event URL, for errors, logs and spans.
	target    string
	spanAttrs []attribute.KeyValue

	creds *httpclient.Credentials
	// state is the sink's durable state (the alarm table); migration
	// moves a state_file into it once.
	state     pipeline.SinkState
	migration stateFileMigration

	mu      sync.Mutex
	client  *http.Client
	auth    pipeline.Secret
	started bool
	closed  atomic.Bool
}

var (
	_ pipeline.Sink     = (*sink)(nil)
	_ HeartbeatReporter = (*sink)(nil)
)

func newSink(ctx context.Context, set pipeline.Settings, cfg *Config) (*sink, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("ves sink telemetry: %w", err)
	}
	loc, err := loadZone(cfg.TimeZone)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err) // unreachable: Validate parsed it
	}
	p := strings.TrimSuffix(u.Path, "/")
	if _, ok := urlVersion(p); !ok {
		p += "/eventListener/v" + strconv.Itoa(cfg.Version)
	}
	single, batch := *u, *u
	single.Path, batch.Path = p, p+"/eventBatch"
	single.RawPath, batch.RawPath = "", ""
	reporting := cfg.ReportingEntityName
	if reporting == "" {
		if reporting, err = os.Hostname(); err != nil || reporting == "" {
			reporting = "sluice"
		}
	}
	s := &sink{
		cfg:       *cfg,
		log:       set.Logger,
		clock:     set.Clock,
		tel:       tel,
		singleURL: single.String(),
		batchURL:  batch.String(),
		target:    single.String(),
		state:     set.State,
		migration: stateFileMigration{path: cfg.StateFile},
		m: &mapper{
			enc:                 encoder{v5: cfg.Version == 5, listenerVersion: cfg.ListenerVersion, loc: loc},
			sinkName:            set.ID,
			reportingEntityName: reporting,
			reportingEntityID:   cfg.ReportingEntityID,
			publisher:           cfg.Publisher,
			faultEventID:        cfg.FaultEventID,
			rules:               slices.Clone(cfg.Rules),
			fallback:            Rule{Domain: cfg.DefaultDomain},
			log:                 set.Logger,
			alarms:              loadAlarmState(ctx, set.State, set.Logger),
			beats:               &heartbeats{configured: cfg.HeartbeatInterval},
		},
	}
	s.spanAttrs = []attribute.KeyValue{
		semconv.HTTPRequestMethodPost,
		semconv.ServerAddress(u.Hostname()),
		attribute.String("sluice.sink", set.ID),
	}
	if port, err := strconv.Atoi(u.Port()); err == nil {
		s.spanAttrs = append(s.spanAttrs, semconv.ServerPort(port))
	}
	s.creds = httpclient.NewCredentials(&s.cfg.TLS, func() (pipeline.Secret, error) { return authorization(&s.cfg) })
	return s, nil
}

// Start runs Provision if nobody did (it reads the password and TLS
// files and a state_file to migrate), migrates the state_file into the
// sink state (see stateFileMigration) and builds the HTTP client. It does not contact the collector: an
// unreachable collector is a delivery error, retried, not a start error.
func (s *sink) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed.Load() {
		return fmt.Errorf("start ves sink %s: already started or closed", s.target)
	}
	auth, err := s.creds.Ensure(ctx)
	if err != nil {
		return fmt.Errorf("start ves sink: %w", err)
	}
	client, err := newClient(&s.cfg)
	if err != nil {
		return fmt.Errorf("start ves sink: %w", err)
	}
	client.Transport = s.tel.transport(client.Transport)
	s.migration.apply(ctx, s.state, s.m.alarms, s.log)
	s.m.alarms.flush(s.state)
	if s.cfg.TLS.InsecureSkipVerify {
		s.log.WarnContext(ctx, "TLS CERTIFICATE VERIFICATION IS DISABLED (tls.insecure_skip_verify): anyone on the path can read and change the events and the password; use tls.ca_file instead",
			slog.String("url", s.target))
	}
	s.client, s.auth, s.started = client, auth, true
	s.tel.heartbeat.Record(ctx, int64(s.m.beats.current()/time.Second), metricAttrs(s.tel))
	s.tel.alarms.Record(ctx, int64(s.m.alarms.open()), metricAttrs(s.tel))
	s.log.InfoContext(ctx, "ves sink started", slog.String("url", s.target), slog.Int("version", s.cfg.Version),
		slog.Bool("basic_auth", s.cfg.Username != ""), slog.Bool("client_cert", s.cfg.TLS.CertFile != ""))
	return nil
}

// Deliver maps the batch to VES events and sends them in journal order:
// runs of consecutive events of one domain, split by max_batch_events and
// max_batch_bytes, each run as one request (eventBatch, or the
// single-event endpoint for one event). It returns nil when the collector
// took every event (or a heartbeat was thinned out), and otherwise
// reports each event's outcome: a *pipeline.BatchError lists exactly the
// events that were refused or could not be mapped (permanent) and those
// of requests that failed transiently, so the runner retries only those
// (eventIds are stable: a retried event is sent with the same bytes).
// After a transient failure it goes on with the next request while the
// collector answers, and stops (the rest fail with that error) after a
// request that got no answer, a 429, partial.MaxStreak failures in a row
// or the end of ctx. A batch of one gets its error itself, and a batch of
// which nothing was taken or refused gets its first transient error.
func (s *sink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	s.mu.Lock()
	client, auth := s.client, s.auth
	s.mu.Unlock()
	if client == nil || s.closed.Load() {
		return fmt.Errorf("deliver to %s: %w", s.target, ErrNotStarted)
	}
	defer s.saveState(ctx)

	items := make([]item, 0, len(batch))
	out := &partial.Outcomes{Ordered: s.cfg.Ordering.Ordered()}
	for i := range batch {
		m, err := s.m.mapDelivery(ctx, &batch[i])
		switch {
		case err != nil:
			s.log.WarnContext(ctx, "ves sink cannot map event", slog.Uint64("seq", batch[i].Event.Sequence), slog.String("error", err.Error()))
			s.tel.event(ctx, s.m.ruleFor(batch[i].Route, &batch[i].Event).Domain, outcomeUnmappable, 1)
			out.Refused(i, err)
		case m.skip:
			s.tel.event(ctx, m.domain, outcomeThinned, 1)
		default:
			items = append(items, item{index: i, domain: m.domain, body: m.body})
		}
	}
	b := bisector{s: s, c: client, auth: auth, out: out}
	for _, chunk := range chunks(items, s.cfg.MaxBatchEvents, int(s.cfg.MaxBatchBytes)) {
		switch {
		case b.fatal != nil:
			// The collector refused the credentials: the rest would be
			// refused alike, so it is not sent.
			for _, it := range chunk {
				out.Refused(it.index, b.fatal)
			}
			s.tel.event(ctx, chunk[0].domain, outcomeRefused, len(chunk))
		case out.Stopped() != nil:
			for _, it := range chunk {
				out.Unsent(it.index)
			}
		default:
			b.send(ctx, chunk)
		}
	}
	return out.Err(len(batch))
}

// saveState writes the alarms changed by a Deliver into the sink state,
// which the runner commits with the cursor covering that Deliver.
func (s *sink) saveState(ctx context.Context) {
	if s.m.alarms.flush(s.state) {
		s.tel.alarms.Record(ctx, int64(s.m.alarms.open()), metricAttrs(s.tel))
	}
}

// HeartbeatInterval implements HeartbeatReporter.
func (s *sink) HeartbeatInterval() time.Duration { return s.m.beats.current() }

// Close closes idle connections; it is idempotent and safe without Start.
func (s *sink) Close(context.Context) error {
	s.closed.Store(true)
	s.mu.Lock()
	client := s.client
	s.client = nil
	s.mu.Unlock()
	if client != nil {
		client.CloseIdleConnections()
	}
	return nil
}
