package kvpsink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// maxRetainedBuffer caps the encode buffer kept between batches.
const maxRetainedBuffer = 4 << 20

// sink writes events to a Hyper-V KVP pool file. Deliver is called by one
// goroutine at a time, but Close may race with it, so state is guarded by
// mu.
type sink struct {
	cfg    Config
	logger *slog.Logger
	clock  pipeline.Clock
	tel    *telemetry
	// uptimePath is /proc/uptime; tests point it elsewhere.
	uptimePath string

	mu      sync.Mutex
	started bool
	closed  bool
	// boot and bootErr are the boot clock read by Provision; provisioned
	// is set once it ran.
	boot        bootClock
	bootErr     error
	provisioned bool
	enc         Encoder
	pool        pool
	buf         []byte
	ends        []int
	records     []int
}

var (
	_ pipeline.Sink        = (*sink)(nil)
	_ pipeline.Provisioner = (*sink)(nil)
)

func newSink(set pipeline.Settings, cfg *Config) (*sink, error) {
	set = set.WithDefaults()
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("kvp sink telemetry: %w", err)
	}
	perm, err := parseFileMode(cfg.FileMode)
	if err != nil {
		return nil, fmt.Errorf("kvp sink file_mode: %w", err)
	}
	return &sink{
		cfg:        *cfg,
		logger:     set.Logger,
		clock:      set.Clock,
		tel:        tel,
		uptimePath: procUptime,
		enc:        Encoder{Prefix: cfg.Prefix, Mode: cfg.Mode, MaxMessage: int(cfg.MaxMessageBytes)},
		pool: pool{
			path:        cfg.Path,
			perm:        perm,
			maxBytes:    int64(cfg.MaxFileBytes),
			fsync:       cfg.FSync,
			lockTimeout: cfg.LockTimeout,
			startWait:   startLockWait,
			clock:       set.Clock,
			checkBoot:   cfg.TruncateOnBoot,
		},
	}, nil
}

// Provision implements pipeline.Provisioner: it reads the boot time
// (/proc/uptime), which gives the incarnation. It changes nothing, and it
// does not fail: without the boot time the incarnation is 0, as in
// cloud-init, which Start logs. The pool file is not checked: its
// directory may appear later (when hv_kvp_daemon starts).
func (s *sink) Provision(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.provisionLocked()
	return nil
}

func (s *sink) provisionLocked() {
	s.boot, s.bootErr = readBootClock(s.clock.Now(), s.uptimePath)
	s.provisioned = true
}

// Start runs Provision if nobody did, then computes the incarnation (boot time) and, with truncate_on_boot,
// empties a pool file written before this boot. Problems with the pool
// file are logged, not returned: the directory may appear later (when
// hv_kvp_daemon starts), and deliveries report them and are retried.
func (s *sink) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return fmt.Errorf("start %s: sink already started or closed", s.cfg.Path)
	}
	if !s.provisioned {
		s.provisionLocked()
	}
	boot, err := s.boot, s.bootErr
	if err != nil {
		// cloud-init uses incarnation 0 when the uptime cannot be read.
		s.logger.WarnContext(ctx, "kvp sink cannot tell the boot time; using incarnation 0 and not truncating the pool file",
			slog.String("error", err.Error()))
		s.pool.checkBoot = false
	} else {
		s.pool.boot, s.pool.bootKnown = boot, true
	}
	s.enc.Incarnation = boot.incarnation
	s.started = true

	if s.pool.checkBoot {
		prep, err := s.pool.checkAtStart(ctx)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			s.logger.DebugContext(ctx, "kvp pool file does not exist yet", slog.String("path", s.cfg.Path))
		case err != nil:
			s.logger.WarnContext(ctx, "kvp sink could not check the pool file at start; deliveries will retry",
				slog.String("path", s.cfg.Path), slog.String("error", err.Error()))
		default:
			s.logPrepared(ctx, prep)
		}
	}
	s.logger.InfoContext(ctx, "kvp sink started", slog.String("path", s.cfg.Path),
		slog.Int64("incarnation", s.enc.Incarnation), slog.String("mode", string(s.cfg.Mode)))
	return nil
}

// Deliver encodes the batch and appends it to the pool file in one write
// under both locks, synced before it returns nil. Events that would grow
// the file beyond max_file_bytes fail permanently (a BatchError naming
// them); I/O and lock problems fail the batch, to be retried, and leave
// nothing of it behind.
func (s *sink) Deliver(ctx context.Context, batch []pipeline.Delivery) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.closed {
		return fmt.Errorf("deliver %s: %w", s.cfg.Path, ErrNotStarted)
	}
	ctx, span := s.tel.tracer.Start(ctx, "kvp.append", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(s.tel.sink, attribute.String("kvp.path", s.cfg.Path), attribute.Int("kvp.events", len(batch))))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()

	s.encode(ctx, batch)
	res, err := s.pool.append(ctx, s.buf, s.ends)
	if cap(s.buf) > maxRetainedBuffer {
		s.buf = nil
	}
	s.logPrepared(ctx, res.prep)
	if err != nil {
		return fmt.Errorf("deliver %s: %w", s.cfg.Path, err)
	}
	records := 0
	for _, n := range s.records[:res.events] {
		records += n
	}
	s.tel.recordAppend(ctx, &res, records)
	span.SetAttributes(attribute.Int("kvp.records", records), attribute.Int64("kvp.bytes", res.bytes),
		attribute.Int64("kvp.pool.size", res.sizeAfter))
	if res.events == len(batch) {
		return nil
	}
	return s.rejectFull(ctx, batch, &res)
}

// encode fills s.buf with the batch's records, s.ends with where each
// event's records end and s.records with how many each has.
func (s *sink) encode(ctx context.Context, batch []pipeline.Delivery) {
	s.buf, s.ends, s.records = s.buf[:0], s.ends[:0], s.records[:0]
	now := s.clock.Now()
	for i := range batch {
		d := &batch[i]
		r := ReportOf(&d.Event, now)
		var info Encoded
		s.buf, info = s.enc.Append(s.buf, &r, DeliveryID(d))
		s.ends = append(s.ends, len(s.buf))
		s.records = append(s.records, info.Records)
		if len(info.Truncated) > 0 {
			for _, f := range info.Truncated {
				s.tel.recordTruncated(ctx, f)
			}
			s.logger.WarnContext(ctx, "kvp sink cut event fields to fit their caps",
				slog.String("event_id", d.Event.ID), slog.Uint64("sequence", d.Event.Sequence),
				slog.String("fields", strings.Join(info.Truncated, ",")))
		}
	}
}

// rejectFull fails the deliveries that did not fit permanently.
func (s *sink) rejectFull(ctx context.Context, batch []pipeline.Delivery, res *appendResult) error {
	rejected := len(batch) - res.events
	s.tel.recordRejected(ctx, rejected)
	s.logger.ErrorContext(ctx, "kvp pool file full; events dead-lettered until it is emptied at the next boot",
		slog.String("path", s.cfg.Path), slog.Int64("size", res.sizeAfter),
		slog.String("max_file_bytes", s.cfg.MaxFileBytes.String()), slog.Int("rejected", rejected))
	be := &pipeline.BatchError{Failed: make([]pipeline.DeliveryFailure, 0, rejected)}
	for i := res.events; i < len(batch); i++ {
		need := s.ends[i]
		if i > 0 {
			need -= s.ends[i-1]
		}
		be.Failed = append(be.Failed, pipeline.DeliveryFailure{Index: i, Err: pipeline.Permanent(
			fmt.Errorf("%w: %s holds %d bytes, %d more would pass max_file_bytes %s (emptied at the next boot)",
				ErrPoolFull, s.cfg.Path, res.sizeAfter, need, s.cfg.MaxFileBytes))})
	}
	return be
}

func (s *sink) logPrepared(ctx context.Context, prep prepared) {
	if prep.truncated {
		s.logger.InfoContext(ctx, "kvp sink emptied a pool file written before this boot",
			slog.String("path", s.cfg.Path), slog.Int64("bytes", prep.truncatedBytes))
	}
	if prep.repairedBytes > 0 {
		s.logger.WarnContext(ctx, "kvp sink cut a partial record from the end of the pool file",
			slog.String("path", s.cfg.Path), slog.Int64("bytes", prep.repairedBytes))
	}
}

// Close stops deliveries. Files are closed after every append, so there
// is nothing to release; Close is idempotent and safe without Start.
func (s *sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
