package natsjournal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// forwarder publishes the journal, in sequence order, to the fleet stream
// and moves Consumer's cursor past each record once the stream has
// acknowledged it (and every record before it).
type forwarder struct {
	j       journal.Store
	pub     *fleet.Publisher
	cfg     fleet.AgentConfig
	agent   string
	subject string
	log     *slog.Logger
	clock   pipeline.Clock
	tel     *telemetry
	// lineSize is the average export line of the last batch, to size
	// the next batch's buffer (send's goroutine only).
	lineSize int
	// bufs holds the buffers of acknowledged batches for the next ones.
	bufs sync.Pool
}

// run forwards until ctx ends. Every failure is retried with the
// configured backoff: an outage of any length only grows the backlog,
// which the journal holds (and its retention keeps, since Consumer is a
// registered cursor).
func (f *forwarder) run(ctx context.Context) {
	b := f.cfg.Retry.NewBackOff(f.clock)
	for {
		_, err := fleet.EnsureStream(ctx, f.pub.JetStream(), f.cfg.Stream, f.log)
		if err == nil {
			break
		}
		f.log.Warn("fleet stream not available yet; the journal keeps the backlog", slog.Any("error", err))
		if !fleet.Wait(ctx, f.clock, b, f.cfg.Retry.Max) {
			return
		}
	}
	b.Reset()
	next, err := f.j.Cursor(ctx, Consumer)
	probe := false
	for err == nil && ctx.Err() == nil {
		f.tel.next.Store(int64(next))
		from := next
		var failed bool
		next, failed, err = f.round(ctx, next, probe)
		probe = failed
		if err != nil || !failed {
			continue
		}
		if next > from {
			b.Reset()
		}
		if !fleet.Wait(ctx, f.clock, b, f.cfg.Retry.Max) {
			return
		}
	}
	if err != nil && ctx.Err() == nil && !errors.Is(err, pipeline.ErrJournalClosed) {
		f.log.Error("fleet forwarder stopped: the journal failed; restart the engine", slog.Any("error", err))
	}
}

// inflight is a batch sent and not yet settled: records first,
// first+1, ... as msgs, their lines in buf.
type inflight struct {
	first  uint64
	msgs   []fleet.Outbound
	buf    *bytes.Buffer
	sent   *fleet.Pending
	start  time.Time
	oldest int64 // the append time of its first record, unix ns
	// settled, when not nil, is closed once round has its acks (a probe:
	// send waits for it before it sends anything after).
	settled chan struct{}
}

// round forwards from next on, pipelined: a reader (send) renders and
// sends batches ahead, up to max_in_flight records awaiting acks, while
// round waits for the oldest batch's acks and commits the cursor past
// each acknowledged prefix. It returns the next record to forward, and
// failed when a publish failed (the caller backs off; the next round
// sends everything from the first unacknowledged record again, with the
// same ids, and the stream stores each once). err is the journal's.
//
// Pipelining must never let a record reach the stream before its
// predecessor. Within a connection the server stores in the order it
// receives, so two things are guarded: send stops at a batch it could not
// send (a publish refused while reconnecting must not be followed by the
// next batch sent a moment later on the new connection), and with probe
// (the round after a failure) the first batch must be acknowledged before
// anything after it is sent (right after a server restart a publish can
// be answered "no responders" while the stream loads, and a later one be
// stored).
func (f *forwarder) round(ctx context.Context, next uint64, probe bool) (_ uint64, failed bool, _ error) {
	rctx, cancel := context.WithCancel(ctx)
	window := make(chan *inflight, max(f.cfg.MaxInFlight/f.cfg.Batch-2, 0))
	readErr := make(chan error, 1)
	go func() {
		defer close(window)
		readErr <- f.send(rctx, next, window, probe)
	}()
	defer func() {
		cancel()
		for range window { // batches sent after a failure: their acks no longer matter
		}
	}()
	for {
		var b *inflight
		var open bool
		select {
		case b, open = <-window:
		default:
			f.tel.oldest.Store(0) // caught up, or the next batch is being read
			b, open = <-window
		}
		if !open {
			err := <-readErr
			if ctx.Err() != nil {
				err = nil
			}
			return next, false, err
		}
		f.tel.oldest.Store(b.oldest)
		res, err := b.sent.Wait(ctx)
		if b.settled != nil {
			close(b.settled)
		}
		acked := len(b.msgs)
		var pe *fleet.PublishError
		if errors.As(err, &pe) {
			acked = pe.Acked()
		}
		if err == nil {
			// Every message of the batch was acknowledged: the client
			// holds none of them any more (a resend on "no responders"
			// reuses the message), so its lines' buffer can take the
			// next batch's. A failed batch's buffer is left to the GC.
			f.bufs.Put(b.buf)
		}
		if acked > 0 {
			f.tel.latency.Record(ctx, f.clock.Now().Sub(b.start).Seconds())
			f.tel.published.Add(ctx, int64(acked))
			f.tel.dupes.Add(ctx, int64(res.Duplicates))
			next = b.first + uint64(acked)
			if cerr := f.j.CommitCursor(ctx, Consumer, next); cerr != nil {
				f.log.Error("fleet forwarder: commit cursor", slog.Any("error", cerr))
			}
			f.tel.next.Store(int64(next))
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return next, false, nil
		}
		f.tel.failed(ctx, len(b.msgs)-acked, err)
		f.log.Warn("fleet publish failed; sending again", slog.Uint64("from", next), slog.Int("records", len(b.msgs)-acked),
			slog.String("reason", reason(err)), slog.Any("error", err))
		return next, true, nil
	}
}

// send reads the journal from next on and sends it, batch by batch, into
// window (which bounds how far it runs ahead), until ctx ends, the
// journal fails or a batch could not be sent (round then sees it fail).
// With probe it sends the first batch alone and waits for round to have
// its acks before it goes on. Read only waits for the batch's first
// record (and says where retention left the journal); Export reads and
// renders the batch.
func (f *forwarder) send(ctx context.Context, next uint64, window chan<- *inflight, probe bool) error {
	for {
		first, err := f.j.Read(ctx, next, pipeline.ReadLimit{MaxRecords: 1})
		if err != nil {
			return err
		}
		if first[0].Seq > next {
			f.log.Warn("records were removed by retention before they were forwarded", slog.Uint64("from", next), slog.Uint64("to", first[0].Seq-1))
		}
		oldest := first[0].AppendTime.UnixNano()
		f.tel.oldest.CompareAndSwap(0, oldest)
		b, err := f.render(ctx, first[0].Seq)
		if err != nil {
			return err
		}
		b.start, b.oldest = f.clock.Now(), oldest
		if probe {
			b.settled = make(chan struct{})
		}
		b.sent = f.pub.SendRecords(f.subject, b.msgs)
		unsent := b.sent.Unsent() // before round may Wait on it
		select {
		case window <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		if unsent {
			return nil
		}
		if probe {
			select {
			case <-b.settled:
			case <-ctx.Done():
				return ctx.Err()
			}
			probe = false
		}
		next = b.first + uint64(len(b.msgs))
	}
}

// chainHashAttr precedes the chain hash (64 hex digits) near the start
// of every export line, in the attribute order journal/doc.go fixes.
const chainHashAttr = `","chainhash":"`

// render exports up to Batch records from seq on as fleet messages: each
// record's journal export line (so the stream holds what `sluice journal
// export` would, chain hash and payload included) with its predecessor's
// chain hash (the manifest's for the first, the line before's for the
// others). The lines share one buffer, sized from the previous batch's
// and reused from an acknowledged batch when there is one.
func (f *forwarder) render(ctx context.Context, seq uint64) (*inflight, error) {
	buf, _ := f.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	buf.Grow(f.cfg.Batch * (f.lineSize + f.lineSize/8))
	to := seq + uint64(f.cfg.Batch) - 1
	m, err := f.j.Export(ctx, buf, journal.ExportOptions{From: seq, To: to, Workers: 1})
	if err != nil {
		return nil, fmt.Errorf("render records %d-%d: %w", seq, to, err)
	}
	if m.Count == 0 || m.From < seq {
		return nil, fmt.Errorf("render records %d-%d: export gave %d records from %d", seq, to, m.Count, m.From)
	}
	f.lineSize = buf.Len() / int(m.Count)
	msgs := make([]fleet.Outbound, 0, m.Count)
	prev, rest := m.PrevHash, buf.Bytes()
	for i := range m.Count {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		h := bytes.Index(line, []byte(chainHashAttr)) + len(chainHashAttr)
		if !ok || h < len(chainHashAttr) || len(line) < h+64 {
			return nil, fmt.Errorf("render record %d: not an export line: %.80q", m.From+i, line)
		}
		msgs = append(msgs, fleet.Outbound{Agent: f.agent, Seq: m.From + i, PrevHash: prev, Line: line})
		prev, rest = string(line[h:h+64]), after
	}
	return &inflight{first: m.From, msgs: msgs, buf: buf}, nil
}
