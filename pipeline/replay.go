package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/time/rate"
)

// ErrUnknownSink is returned by Replay for a sink the spec does not
// configure, and ErrUnknownRoute for a route that does not deliver to it.
var (
	ErrUnknownSink  = errors.New("unknown sink")
	ErrUnknownRoute = errors.New("unknown route")
)

// DefaultReplaySample is how many deliveries a dry run keeps when
// ReplayOptions.Sample is zero.
const DefaultReplaySample = 5

// ReplayOptions selects what Replay re-delivers and how.
type ReplayOptions struct {
	// Sink names the configured sink to deliver to.
	Sink string
	// From and To bound the journal sequences replayed, both included. A
	// To past the head when Replay starts means the head.
	From, To uint64
	// Route, when set, keeps only the events the sink receives through
	// that route (under the first-route-wins rule of live delivery).
	Route string
	// Match, when set, keeps only the events it selects, evaluated on the
	// event as journaled (before any route transform). An evaluation
	// error skips the event and counts it as rejected.
	Match EventMatcher
	// DryRun builds no sink and sends nothing; the report says what would
	// have been sent.
	DryRun bool
	// Rate bounds deliveries per second; zero means no limit.
	Rate float64
	// Sample is how many deliveries a dry run keeps for the report; zero
	// means DefaultReplaySample.
	Sample int
	// Progress, when set, is called about every ProgressInterval (default
	// 1s) and once at the end, from Replay's goroutine.
	Progress         func(ReplayProgress)
	ProgressInterval time.Duration
}

// ReplayProgress is how far a replay got.
type ReplayProgress struct {
	// From and To are the range being replayed (To resolved to the head).
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Next is the next sequence to read: everything before it is handled.
	Next uint64 `json:"next"`
	// Scanned counts journal records read; Selected the deliveries the
	// sink's routes (and Route and Match) chose among them.
	Scanned  uint64 `json:"scanned"`
	Selected uint64 `json:"selected"`
	// Delivered counts deliveries the sink accepted, Failed those it
	// failed permanently or after its retry policy gave up, and Rejected
	// the events whose match or transform failed. Replay never writes
	// dead letters: failures are only counted and reported.
	Delivered uint64 `json:"delivered"`
	Failed    uint64 `json:"failed"`
	Rejected  uint64 `json:"rejected"`
	// Elapsed is the time since the replay started.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// ReplayReport is the outcome of a Replay.
type ReplayReport struct {
	ReplayProgress
	DryRun bool
	// ByType and BySource count the selected deliveries by their event
	// type and source (after the route's transform).
	ByType, BySource map[string]uint64
	// First and Last are the first and last selected deliveries, Sample
	// the first few (in a dry run only).
	First, Last *Delivery
	Sample      []Delivery
	// Errors holds the first few delivery and rejection errors.
	Errors []string
	// Interrupted is true when ctx ended before the range was done; Next
	// says how far it got.
	Interrupted bool
}

// maxReplayErrors bounds ReplayReport.Errors.
const maxReplayErrors = 10

// Replay re-delivers the journal records opts.From..opts.To to one sink of
// spec, with the same routes, transforms and idempotency keys as live
// delivery, so a sink that de-duplicates by key sees no new effect.
//
// It builds a new instance of the sink from its factory and config (a
// running engine's own instance is never driven by a second goroutine),
// with an empty Settings.State (the live sink's state is neither read nor
// changed), provisions and starts it, delivers in batches of the sink's
// batch size with the sink's retry policy (through the live consumer's
// deliver, honouring BatchError), and closes it. It reads the journal with Read only: the
// sink's cursor is neither read nor moved, and no dead letter is written.
// Throttles are not applied (use Rate). When ctx ends it abandons the
// batch in flight (which may or may not have taken effect: its keys make
// doing it again harmless) and returns the report, with Interrupted set
// and Next at the first sequence not known to be handled, and ctx's error.
func Replay(ctx context.Context, spec Spec, regs Registries, j Journal, set Settings, opts ReplayOptions) (ReplayReport, error) {
	set = set.WithDefaults()
	r, err := newReplayer(ctx, spec, regs, set, opts)
	if err != nil {
		return ReplayReport{}, fmt.Errorf("replay: %w", err)
	}
	st, err := j.Stats(ctx)
	if err != nil {
		return ReplayReport{}, fmt.Errorf("replay: journal stats: %w", err)
	}
	r.rep.From, r.rep.To = max(opts.From, st.First, 1), opts.To
	if r.rep.To == 0 || r.rep.To > st.Last {
		r.rep.To = st.Last
	}
	r.rep.Next = r.rep.From
	if r.runner != nil {
		if err := r.runner.start(ctx); err != nil {
			return ReplayReport{}, fmt.Errorf("replay: start sink %s: %w", opts.Sink, err)
		}
	}
	runErr := r.run(ctx, j)
	if r.runner != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultShutdownTimeout)
		defer cancel()
		if err := r.runner.close(closeCtx); err != nil && runErr == nil {
			runErr = fmt.Errorf("close sink %s: %w", opts.Sink, err)
		}
	}
	r.rep.Elapsed = r.clock.Now().Sub(r.start)
	r.report()
	r.log.Info("replay finished", slog.Uint64("from", r.rep.From), slog.Uint64("to", r.rep.To),
		slog.Uint64("next", r.rep.Next), slog.Uint64("selected", r.rep.Selected), slog.Uint64("delivered", r.rep.Delivered),
		slog.Uint64("failed", r.rep.Failed), slog.Uint64("rejected", r.rep.Rejected), slog.Bool("dry_run", opts.DryRun),
		slog.Bool("interrupted", r.rep.Interrupted))
	if runErr != nil {
		return r.rep, fmt.Errorf("replay: %w", runErr)
	}
	return r.rep, nil
}

// replayer is one Replay's state.
type replayer struct {
	opts    ReplayOptions
	routes  *sinkRoutes
	runner  *sinkRunner // nil in a dry run
	batch   BatchConfig
	limiter *rate.Limiter
	clock   Clock
	log     *slog.Logger
	start   time.Time
	lastRep time.Time
	rep     ReplayReport
	// records and deliveries are the last batch's arrays, reused.
	records    []Record
	deliveries []Delivery
}

func newReplayer(ctx context.Context, spec Spec, regs Registries, set Settings, opts ReplayOptions) (*replayer, error) {
	i := slices.IndexFunc(spec.Sinks, func(s SinkSpec) bool { return s.Name == opts.Sink })
	if i < 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownSink, opts.Sink)
	}
	ks := spec.Sinks[i]
	if opts.Route != "" && !slices.ContainsFunc(spec.Routes, func(r RouteSpec) bool {
		return r.Name == opts.Route && slices.Contains(r.To, ks.Name)
	}) {
		return nil, fmt.Errorf("%w %q: no such route delivers to sink %s", ErrUnknownRoute, opts.Route, ks.Name)
	}
	if opts.Rate < 0 {
		return nil, fmt.Errorf("%w: rate must not be negative, got %g", ErrInvalidConfig, opts.Rate)
	}
	if opts.Sample <= 0 {
		opts.Sample = DefaultReplaySample
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = time.Second
	}
	_, batch, err := sinkPolicies(&ks)
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", ks.Name, err)
	}
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	log := set.For("sink", ks.Name).Logger.With(slog.Bool("replay", true))
	r := &replayer{
		opts: opts, routes: newSinkRoutes(ks.Name, spec.Routes, newMatchErrors(tel, log, set.Clock)), batch: batch, clock: set.Clock, log: log,
		rep: ReplayReport{DryRun: opts.DryRun, ByType: map[string]uint64{}, BySource: map[string]uint64{}},
	}
	r.start = r.clock.Now()
	r.lastRep = r.start
	if opts.Rate > 0 {
		burst := int(min(float64(batch.MaxEvents), max(1, opts.Rate)))
		r.limiter = rate.NewLimiter(rate.Limit(opts.Rate), burst)
	}
	if opts.DryRun {
		return r, nil
	}
	set.Logger = set.Logger.With(slog.Bool("replay", true))
	runner, err := newSinkRunner(ctx, ks, &spec, regs, nil, set, tel, r.routes.matchErrs)
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", ks.Name, err)
	}
	if err := provision(ctx, runner.log, "sink "+ks.Name, runner.sink); err != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultShutdownTimeout)
		defer cancel()
		return nil, errors.Join(fmt.Errorf("sink %s: %w", ks.Name, err), runner.close(closeCtx))
	}
	runner.attrs = sinkAttrs(ks.Name, ks.Type, attribute.Bool("replay", true))
	r.runner = runner
	return r, nil
}

// run reads the range in batches and handles each.
func (r *replayer) run(ctx context.Context, j Journal) error {
	limit := ReadLimit{MaxRecords: r.batch.MaxEvents, MaxBytes: int(r.batch.MaxBytes)}
	for r.rep.Next <= r.rep.To {
		if err := ctx.Err(); err != nil {
			r.rep.Interrupted = true
			return err
		}
		records, err := readJournalInto(ctx, j, r.rep.Next, limit, r.records)
		r.records = records
		if err != nil {
			if ctx.Err() != nil {
				r.rep.Interrupted = true
			}
			return fmt.Errorf("read journal: %w", err)
		}
		if n := slices.IndexFunc(records, func(rec Record) bool { return rec.Seq > r.rep.To }); n >= 0 {
			records = records[:n]
		}
		if len(records) == 0 {
			break
		}
		if err := r.handle(ctx, records); err != nil {
			if ctx.Err() != nil {
				r.rep.Interrupted = true
			}
			return err
		}
		r.rep.Scanned += uint64(len(records))
		r.rep.Next = records[len(records)-1].Seq + 1
		clear(r.records)
		clear(r.deliveries)
		if now := r.clock.Now(); now.Sub(r.lastRep) >= r.opts.ProgressInterval {
			r.lastRep = now
			r.rep.Elapsed = now.Sub(r.start)
			r.report()
		}
	}
	return nil
}

// handle selects the deliveries among records and delivers them.
func (r *replayer) handle(ctx context.Context, records []Record) error {
	if r.opts.Match != nil {
		kept := records[:0:0]
		for _, rec := range records {
			ok, err := r.opts.Match.Match(&rec.Event)
			if err != nil {
				r.rep.Rejected++
				r.noteError(fmt.Errorf("seq %d: match: %w", rec.Seq, err))
				continue
			}
			if ok {
				kept = append(kept, rec)
			}
		}
		records = kept
	}
	b, rejected := r.routes.batch(records, r.deliveries[:0])
	r.deliveries = b.deliveries
	for _, rej := range rejected {
		r.rep.Rejected++
		r.noteError(fmt.Errorf("seq %d: route %s: %s: %w", rej.delivery.Event.Sequence, rej.delivery.Route, rej.reason, rej.err))
	}
	deliveries := b.deliveries
	if r.opts.Route != "" {
		deliveries = slices.DeleteFunc(deliveries, func(d Delivery) bool { return d.Route != r.opts.Route })
	}
	for i := range deliveries {
		r.note(&deliveries[i])
	}
	if r.runner == nil || len(deliveries) == 0 {
		return nil
	}
	for len(deliveries) > 0 {
		n := len(deliveries)
		if r.limiter != nil {
			n = min(n, r.limiter.Burst())
			if err := r.wait(ctx, n); err != nil {
				return err
			}
		}
		if err := r.deliver(ctx, deliveries[:n]); err != nil {
			return err
		}
		deliveries = deliveries[n:]
	}
	return nil
}

// note counts a selected delivery for the report.
func (r *replayer) note(d *Delivery) {
	r.rep.Selected++
	r.rep.ByType[d.Event.Type]++
	r.rep.BySource[d.Event.Source]++
	if r.rep.First == nil {
		first := *d
		r.rep.First = &first
	}
	last := *d
	r.rep.Last = &last
	if r.opts.DryRun && len(r.rep.Sample) < r.opts.Sample {
		r.rep.Sample = append(r.rep.Sample, *d)
	}
}

func (r *replayer) noteError(err error) {
	if len(r.rep.Errors) < maxReplayErrors {
		r.rep.Errors = append(r.rep.Errors, err.Error())
	}
}

// wait takes n tokens from the rate limiter, sleeping on the clock.
func (r *replayer) wait(ctx context.Context, n int) error {
	now := r.clock.Now()
	res := r.limiter.ReserveN(now, n)
	delay := res.DelayFrom(now)
	if delay <= 0 {
		return nil
	}
	t := r.clock.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		res.CancelAt(r.clock.Now())
		return ctx.Err()
	}
}

// deliver hands deliveries to the sink through the same deliver as live
// delivery (with the sink's retry policy, honouring BatchError), with r as
// its outcomes: deliveries that fail permanently, or once the policy gives
// up, are counted as failed, never dead-lettered. Only ctx ends it with an
// error.
func (r *replayer) deliver(ctx context.Context, deliveries []Delivery) error {
	err := r.runner.deliver(ctx, ctx, batch{deliveries: deliveries}, r)
	if errors.Is(err, errStopping) {
		return ctx.Err()
	}
	return err
}

var _ outcomes = (*replayer)(nil)

// delivered implements outcomes.
func (r *replayer) delivered(_ context.Context, b batch) error {
	r.rep.Delivered += uint64(len(b.deliveries))
	return nil
}

// pending implements outcomes: replay moves no cursor.
func (r *replayer) pending(context.Context, batch) error { return nil }

// handBack implements outcomes: replay retries in process.
func (r *replayer) handBack(context.Context, batch, []error, history) (bool, error) {
	return false, nil
}

// failed implements outcomes.
func (r *replayer) failed(_ context.Context, b batch, errs []error, reason string, _ history) error {
	r.rep.Failed += uint64(len(b.deliveries))
	for i, d := range b.deliveries {
		if i > 0 && errs[i] == errs[i-1] { //nolint:errorlint // the same error value for a whole batch
			continue
		}
		r.noteError(fmt.Errorf("seq %d: %s: %w", d.Event.Sequence, reason, errs[i]))
	}
	r.log.Error("replay deliveries failed", slog.String("reason", reason), slog.Int("events", len(b.deliveries)),
		slog.Uint64("first_seq", b.deliveries[0].Event.Sequence), slog.String("error", errs[0].Error()))
	return nil
}

func (r *replayer) report() {
	if r.opts.Progress != nil {
		r.opts.Progress(r.rep.ReplayProgress)
	}
}
