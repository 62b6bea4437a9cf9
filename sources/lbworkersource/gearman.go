package lbworkersource

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
)

// gearmanWorker is one worker connection to one gearmand: it registers the
// function, grabs jobs, works up to jobs of them at once and answers each
// with WORK_COMPLETE, also for failures (Libra's convention;
// WORK_EXCEPTION hangs gearman 1.1.20 clients). It reconnects with
// backoff and registers again after every reconnect.
type gearmanWorker struct {
	addr     string
	function string
	clientID string
	maxJob   int
	// client is the requests' client: gearman://addr/function.
	client string
	// jobs bounds the jobs in flight on the connection (gearman.jobs_per_connection).
	jobs   int
	dialTO time.Duration
	retry  pipeline.RetryConfig
	clock  pipeline.Clock
	log    *slog.Logger
	handle func(ctx context.Context, in inbound) []byte
	// shutdown bounds a job in flight when the source stops.
	shutdown time.Duration
	// connected is called with true after registering, false on loss.
	connected func(up bool)
}

// run serves until ctx ends; it returns nil then.
func (w *gearmanWorker) run(ctx context.Context) error {
	w.client = "gearman://" + w.addr + "/" + w.function
	b := w.retry.NewBackOff(w.clock)
	for {
		start := w.clock.Now()
		err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if w.clock.Now().Sub(start) > w.retry.Max {
			b.Reset() // it was up for a while: start the backoff over
		}
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			wait = w.retry.Max
		}
		w.log.WarnContext(ctx, "gearman connection lost, reconnecting",
			slog.String("server", w.addr), slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := w.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}

// session is one connection: register, then grab jobs and answer each
// with WORK_COMPLETE, up to w.jobs at once (see conn). It returns once
// the connection failed or ctx ended and the jobs in flight are answered.
func (w *gearmanWorker) session(ctx context.Context) error {
	d := net.Dialer{Timeout: w.dialTO, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", w.addr)
	if err != nil {
		return fmt.Errorf("dial gearman %s: %w", w.addr, err)
	}
	defer func() { _ = nc.Close() }()
	// Stopping interrupts a blocking read; the jobs in flight still get
	// their WORK_COMPLETE written (below, before the connection closes).
	stop := context.AfterFunc(ctx, func() { _ = nc.SetReadDeadline(time.Now()) })
	defer stop()
	r := bufio.NewReaderSize(nc, 64<<10)
	c := &conn{nc: nc, wr: bufio.NewWriterSize(nc, 64<<10), limit: w.jobs, kick: make(chan struct{}, 1)}
	if err := c.register(w.clientID, w.function); err != nil {
		return fmt.Errorf("register with %s: %w", w.addr, err)
	}
	writerDone, written := make(chan struct{}), make(chan struct{})
	go func() { c.write(writerDone); close(written) }()
	defer func() { close(writerDone); <-written }() // after the jobs (below)
	w.log.DebugContext(ctx, "gearman worker registered", slog.String("server", w.addr), slog.String("function", w.function))
	if w.connected != nil {
		w.connected(true)
		defer w.connected(false)
	}
	jctx, release := w.detach(ctx)
	defer release()
	var jobs sync.WaitGroup
	defer jobs.Wait() // before the connection closes (deferred above)
	defer c.stop()
	if err := c.grab(); err != nil {
		return fmt.Errorf("grab job: %w", err)
	}
	for {
		p, err := w.nextReply(r)
		if err != nil {
			return err
		}
		switch p.typ {
		case pktNoJob:
			err = c.noJob()
		case pktNoop:
			err = c.wake()
		case pktJobAssignUniq, pktJobAssign:
			j, perr := parseJobAssign(p)
			if perr != nil {
				return perr
			}
			err = c.assigned()
			jobs.Go(func() {
				reply := w.serveJob(jctx, j)
				if err := c.complete(j.handle, reply); err != nil {
					w.log.WarnContext(ctx, "gearman reply not sent; the server hands the job out again and its unique id gets the first reply",
						slog.String("server", w.addr), slog.String("handle", string(j.handle)), slog.String("error", err.Error()))
				}
			})
		default:
			return fmt.Errorf("%w: unexpected packet type %d after GRAB_JOB_UNIQ", errProtocol, p.typ)
		}
		if err != nil {
			return fmt.Errorf("gearman %s: %w", w.addr, err)
		}
	}
}

// nextReply reads a packet, turning ERROR into an error.
func (w *gearmanWorker) nextReply(r *bufio.Reader) (packet, error) {
	p, err := readPacket(r, w.maxJob+headLimit)
	if err != nil {
		return p, fmt.Errorf("read from %s: %w", w.addr, err)
	}
	if p.typ == pktError {
		return p, fmt.Errorf("%w: server error %q", errProtocol, p.data)
	}
	return p, nil
}

// detach returns the context the jobs of a session run in: detached from
// the source's context ctx until the shutdown timeout after ctx ends, so
// that a request whose append (or reply_after wait) is under way when
// the source stops still gets its reply. stop releases it once the
// session's jobs are done.
func (w *gearmanWorker) detach(ctx context.Context) (jctx context.Context, stop func()) {
	jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	unhook := context.AfterFunc(ctx, func() {
		t := time.NewTimer(w.shutdown)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-jctx.Done():
		}
	})
	return jctx, func() { unhook(); cancel() }
}

// serveJob answers one job in jctx (see detach).
func (w *gearmanWorker) serveJob(jctx context.Context, j job) []byte {
	in := inbound{
		transport: libra.TransportGearman,
		client:    w.client,
		requestID: string(j.unique),
		body:      j.data,
		oversize:  j.oversize,
	}
	if string(j.function) != w.function { // gearmand assigns only the function registered
		in.client = "gearman://" + w.addr + "/" + string(j.function)
	}
	if len(j.unique) > 0 {
		in.dedupeKey = "gearman/" + string(j.function) + "/" + string(j.unique)
	} else {
		in.requestID = string(j.handle)
	}
	return w.handle(jctx, in)
}
