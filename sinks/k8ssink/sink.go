package k8ssink

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/internal/partial"
)

// sink is the Kubernetes sink.
type sink struct {
	cfg    *Config
	rules  []*rule
	logger *slog.Logger
	clock  pipeline.Clock
	state  pipeline.SinkState
	tel    *telemetry
	// instance is the Events' reportingInstance.
	instance string
	// klog is the logger of client-go's logs about the sink's requests.
	klog logr.Logger

	provisionOnce sync.Once
	provisionErr  error
	client        *client

	// mu guards series and conds, and serialises condition writes with
	// the heartbeat, so that a heartbeat never writes a stale status.
	mu     sync.Mutex
	series map[string]*seriesState
	conds  map[string]*condState

	stop     chan struct{}
	done     chan struct{}
	started  bool
	closeMux sync.Once
}

var (
	_ pipeline.Sink        = (*sink)(nil)
	_ pipeline.Provisioner = (*sink)(nil)
)

func newSink(_ context.Context, set pipeline.Settings, cfg *Config) (*sink, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, err
	}
	s := &sink{
		cfg: cfg, logger: set.Logger, clock: set.Clock, state: set.State, tel: tel,
		stop: make(chan struct{}), done: make(chan struct{}),
		instance: cfg.ReportingInstance, klog: clientGoLogger(set.Logger),
	}
	if s.instance == "" {
		s.instance = defaultInstance()
	}
	for i := range cfg.Rules {
		r, err := compileRule(&cfg.Rules[i])
		if err != nil {
			return nil, pipeline.PrefixFieldErrors(indexField("rules", i), err)
		}
		s.rules = append(s.rules, r)
	}
	s.series, s.conds = loadState(set.State, s.logger)
	return s, nil
}

// Provision implements pipeline.Provisioner: it reads the kubeconfig (or
// the in-cluster service account) and the token file. It makes no
// request; the HTTP client is built at the first one. Start runs it when
// nobody did.
func (s *sink) Provision(context.Context) error {
	s.provisionOnce.Do(func() {
		routeKlog(s.logger.With(slog.String("library", "client-go")).Handler())
		s.client, s.provisionErr = loadClient(s.cfg, s.logger)
	})
	return s.provisionErr
}

// Start implements pipeline.Sink: it provisions and starts the condition
// heartbeat.
func (s *sink) Start(ctx context.Context) error {
	if err := s.Provision(ctx); err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "k8s sink ready", slog.String("config", s.client.source),
		slog.String("server", s.client.cfg.Host), slog.String("namespace", s.client.namespace))
	s.started = true
	go s.heartbeatLoop()
	return nil
}

// Close implements pipeline.Sink: it stops the heartbeat.
func (s *sink) Close(context.Context) error {
	s.closeMux.Do(func() {
		close(s.stop)
		if s.started {
			<-s.done
		}
	})
	return nil
}

// op is one API write covering the deliveries idx of a batch.
type op struct {
	action string
	idx    []int
	run    func(ctx context.Context) error
	commit func() // records the state change once run succeeded
}

// plan is what one Deliver call will send.
type plan struct {
	ops     []*op
	refused []pipeline.DeliveryFailure
	series  map[string]*seriesPlan
	conds   map[string]*condPlan
	scales  map[string]*op
}

// Deliver implements pipeline.Sink: one request per object written (an
// Event series, a node's condition, a scale, an applied manifest), every
// delivery of the batch about the same object folded into it. It returns
// a *pipeline.BatchError when some deliveries failed (see partial).
func (s *sink) Deliver(ctx context.Context, batch []pipeline.Delivery) error {
	ctx, span := s.tel.tracer.Start(ctx, "k8s deliver", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.Int("sluice.batch.size", len(batch))))
	defer span.End()
	if err := s.Provision(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &plan{series: map[string]*seriesPlan{}, conds: map[string]*condPlan{}, scales: map[string]*op{}}
	for i := range batch {
		d := &batch[i]
		r := ruleFor(s.rules, d.Route, d.Event.Type)
		if r == nil {
			s.tel.event(ctx, "", outcomeUnmapped, 1)
			p.refuse(i, fmt.Errorf("%w: type %q from route %q", ErrNoRule, d.Event.Type, d.Route))
			continue
		}
		v := newView(d)
		var err error
		switch r.Action {
		case actionEvent:
			err = s.planEvent(p, i, d, r, &v)
		case actionCondition:
			err = s.planCondition(ctx, p, i, d, r, &v)
		case actionScale:
			err = s.planScale(p, i, r, &v)
		case actionApply:
			err = s.planApply(p, i, r, &v)
		}
		if err != nil {
			outcome := outcomeFailed
			if pipeline.IsPermanent(err) {
				outcome = outcomeRefused
			}
			s.tel.event(ctx, r.Action, outcome, 1)
			p.refused = append(p.refused, pipeline.DeliveryFailure{Index: i, Err: err})
		}
	}
	var out partial.Outcomes
	for _, f := range p.refused {
		if pipeline.IsPermanent(f.Err) {
			out.Refused(f.Index, f.Err)
		} else {
			out.Failed(ctx, f.Err, false, f.Index)
		}
	}
	for _, o := range p.ops {
		if out.Stopped() != nil {
			out.Unsent(o.idx...)
			continue
		}
		err := o.run(ctx)
		switch {
		case err == nil:
			o.commit()
			out.Took()
			s.tel.event(ctx, o.action, outcomeApplied, 1)
			s.tel.event(ctx, o.action, outcomeAggregated, len(o.idx)-1)
		case pipeline.IsPermanent(err):
			s.tel.event(ctx, o.action, outcomeRefused, len(o.idx))
			for _, i := range o.idx {
				out.Refused(i, err)
			}
		default:
			s.tel.event(ctx, o.action, outcomeFailed, len(o.idx))
			code := statusCode(err)
			out.Failed(ctx, err, code == 0 || code == http.StatusTooManyRequests, o.idx...)
		}
	}
	s.pruneSeries()
	err := out.Err(len(batch))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// refuse records a permanent failure of delivery i.
func (p *plan) refuse(i int, err error) {
	p.refused = append(p.refused, pipeline.DeliveryFailure{Index: i, Err: pipeline.Permanent(err)})
}

// add appends an op.
func (p *plan) add(o *op) { p.ops = append(p.ops, o) }
