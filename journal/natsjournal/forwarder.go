package natsjournal

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/cenkalti/backoff/v4"

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
	for err == nil {
		f.tel.next.Store(int64(next))
		var recs []pipeline.Record
		recs, err = f.j.Read(ctx, next, pipeline.ReadLimit{MaxRecords: f.cfg.Batch})
		if err != nil {
			break
		}
		if recs[0].Seq > next {
			f.log.Warn("records were removed by retention before they were forwarded", slog.Uint64("from", next), slog.Uint64("to", recs[0].Seq-1))
		}
		f.tel.oldest.Store(recs[0].AppendTime.UnixNano())
		var msgs []*message.Message
		msgs, err = f.render(ctx, recs)
		if err != nil {
			break
		}
		next = f.publish(ctx, recs[0].Seq, msgs)
		f.tel.oldest.Store(0)
		err = ctx.Err()
	}
	if err != nil && ctx.Err() == nil && !errors.Is(err, pipeline.ErrJournalClosed) {
		f.log.Error("fleet forwarder stopped: the journal failed; restart the engine", slog.Any("error", err))
	}
}

// render turns recs into fleet messages: each record's journal export
// line (so the stream holds what `sluice journal export` would, chain
// hash and payload included) with its predecessor's chain hash.
func (f *forwarder) render(ctx context.Context, recs []pipeline.Record) ([]*message.Message, error) {
	var buf bytes.Buffer
	m, err := f.j.Export(ctx, &buf, journal.ExportOptions{From: recs[0].Seq, To: recs[len(recs)-1].Seq, Workers: 1})
	if err != nil {
		return nil, fmt.Errorf("render records %d-%d: %w", recs[0].Seq, recs[len(recs)-1].Seq, err)
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	if uint64(len(lines)) != m.Count+1 || m.From < recs[0].Seq {
		return nil, fmt.Errorf("render records %d-%d: export gave %d lines for %d records from %d", recs[0].Seq, recs[len(recs)-1].Seq, len(lines), m.Count, m.From)
	}
	msgs := make([]*message.Message, 0, m.Count)
	prev := m.PrevHash
	for i, line := range lines[:m.Count] {
		seq := m.From + uint64(i)
		msgs = append(msgs, fleet.NewMessage(fleet.Outbound{Agent: f.agent, Seq: seq, PrevHash: prev, Line: line}))
		h := recs[seq-recs[0].Seq].Hash
		prev = hex.EncodeToString(h[:])
	}
	return msgs, nil
}

// publish sends msgs (records first, first+1, ...) until every one is
// acknowledged or ctx ends, committing the cursor past each acknowledged
// prefix, and returns the next record to read. Failed messages are sent
// again with the same Nats-Msg-Id, so a retry inside the duplicate
// window is stored once.
func (f *forwarder) publish(ctx context.Context, first uint64, msgs []*message.Message) uint64 {
	var b *backoff.ExponentialBackOff
	for len(msgs) > 0 {
		start := f.clock.Now()
		res, err := f.pub.PublishBatch(ctx, f.subject, msgs)
		acked := len(msgs)
		var pe *fleet.PublishError
		if errors.As(err, &pe) {
			acked = pe.Acked()
		}
		if acked > 0 {
			f.tel.latency.Record(ctx, f.clock.Now().Sub(start).Seconds())
			f.tel.published.Add(ctx, int64(acked))
			f.tel.dupes.Add(ctx, int64(res.Duplicates))
			first += uint64(acked)
			msgs = msgs[acked:]
			if cerr := f.j.CommitCursor(ctx, Consumer, first); cerr != nil {
				f.log.Error("fleet forwarder: commit cursor", slog.Any("error", cerr))
			}
			f.tel.next.Store(int64(first))
		}
		if err == nil || ctx.Err() != nil {
			return first
		}
		f.tel.failed(ctx, len(msgs), err)
		if b == nil {
			b = f.cfg.Retry.NewBackOff(f.clock)
		}
		f.log.Warn("fleet publish failed; sending again", slog.Uint64("from", first), slog.Int("records", len(msgs)),
			slog.String("reason", reason(err)), slog.Any("error", err))
		if !fleet.Wait(ctx, f.clock, b, f.cfg.Retry.Max) {
			return first
		}
	}
	return first
}
