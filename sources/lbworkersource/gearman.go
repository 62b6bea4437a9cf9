package lbworkersource

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
)

// gearmanWorker is one worker connection to one gearmand: it registers the
// function, grabs jobs one at a time and answers each with WORK_COMPLETE,
// also for failures (Libra's convention; WORK_EXCEPTION hangs gearman
// 1.1.20 clients). It reconnects with backoff and registers again after
// every reconnect.
type gearmanWorker struct {
	addr     string
	function string
	clientID string
	maxJob   int
	dialTO   time.Duration
	retry    pipeline.RetryConfig
	clock    pipeline.Clock
	log      *slog.Logger
	handle   func(ctx context.Context, in inbound) []byte
	// shutdown bounds a job in flight when the source stops.
	shutdown time.Duration
	// connected is called with true after registering, false on loss.
	connected func(up bool)
}

// run serves until ctx ends; it returns nil then.
func (w *gearmanWorker) run(ctx context.Context) error {
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

// session is one connection: register, then grab and answer jobs.
func (w *gearmanWorker) session(ctx context.Context) error {
	d := net.Dialer{Timeout: w.dialTO, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", w.addr)
	if err != nil {
		return fmt.Errorf("dial gearman %s: %w", w.addr, err)
	}
	defer func() { _ = conn.Close() }()
	// Stopping interrupts a blocking read; a job in flight still gets its
	// WORK_COMPLETE written, then the next read fails and the session ends.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	r := bufio.NewReaderSize(conn, 64<<10)
	wr := bufio.NewWriterSize(conn, 64<<10)
	if err := writePacket(wr, pktSetClientID, []byte(w.clientID)); err != nil {
		return fmt.Errorf("register with %s: %w", w.addr, err)
	}
	if err := writePacket(wr, pktCanDo, []byte(w.function)); err != nil {
		return fmt.Errorf("register with %s: %w", w.addr, err)
	}
	w.log.DebugContext(ctx, "gearman worker registered", slog.String("server", w.addr), slog.String("function", w.function))
	if w.connected != nil {
		w.connected(true)
		defer w.connected(false)
	}
	for {
		if err := writePacket(wr, pktGrabJobUniq); err != nil {
			return fmt.Errorf("grab job: %w", err)
		}
		p, err := w.nextReply(r)
		if err != nil {
			return err
		}
		switch p.typ {
		case pktNoJob:
			if err := w.sleep(r, wr); err != nil {
				return err
			}
		case pktJobAssignUniq, pktJobAssign:
			j, err := parseJobAssign(p)
			if err != nil {
				return err
			}
			reply := w.serveJob(ctx, j)
			if err := writePacket(wr, pktWorkComplete, j.handle, reply); err != nil {
				return fmt.Errorf("complete job %s: %w", j.handle, err)
			}
		case pktNoop:
			// A wake-up that crossed our GRAB; grab again.
		default:
			return fmt.Errorf("%w: unexpected packet type %d after GRAB_JOB_UNIQ", errProtocol, p.typ)
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

// sleep sends PRE_SLEEP and waits for the NOOP that says a job is there.
func (w *gearmanWorker) sleep(r *bufio.Reader, wr *bufio.Writer) error {
	if err := writePacket(wr, pktPreSleep); err != nil {
		return fmt.Errorf("pre-sleep: %w", err)
	}
	for {
		p, err := w.nextReply(r)
		if err != nil {
			return err
		}
		if p.typ == pktNoop {
			return nil
		}
	}
}

// serveJob answers one job. The handler runs detached from the source's
// context until the shutdown timeout after it ends, so a request whose
// append (or reply_after wait) is under way when the source stops still
// gets its reply.
func (w *gearmanWorker) serveJob(ctx context.Context, j job) []byte {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(w.shutdown)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-hctx.Done():
		}
	})
	defer stop()
	in := inbound{
		transport: libra.TransportGearman,
		client:    "gearman://" + w.addr + "/" + string(j.function),
		requestID: string(j.unique),
		body:      j.data,
		oversize:  j.oversize,
	}
	if len(j.unique) > 0 {
		in.dedupeKey = "gearman/" + string(j.function) + "/" + string(j.unique)
	} else {
		in.requestID = string(j.handle)
	}
	return w.handle(hctx, in)
}
