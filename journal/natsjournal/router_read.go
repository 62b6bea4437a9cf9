package natsjournal

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/pipeline"
)

// sinkConsumer is one sink's durable as this router consumes it: the
// records handed out and not settled, kept in progress.
type sinkConsumer struct {
	cons jetstream.Consumer
	log  *slog.Logger
	// gen starts the consumer's dedupe keys: <hex sink>.<creation time>,
	// so a replay (SetCursor recreates the durable) is not taken for
	// duplicates of the first pass.
	gen string

	mu     sync.Mutex
	out    map[uint64]held
	cancel context.CancelFunc
	done   chan struct{}
}

// held is a record handed out: its message and its dedupe claim.
type held struct {
	msg   jetstream.Msg
	claim fleet.Claim
}

// consumerConfig is the sink's durable: MaxDeliver from the retry
// policy (pipeline.RetryConfig.Deliveries; -1 when it retries until
// success), AckWait and MaxAckPending from the router, a pinned priority
// group when pinned.
func (r *Router) consumerConfig(sink string, retry pipeline.RetryConfig) jetstream.ConsumerConfig {
	maxDeliver := retry.Deliveries()
	if maxDeliver == 0 {
		maxDeliver = -1
	}
	c := jetstream.ConsumerConfig{
		Durable: r.Durable(sink), Description: "Sluice routers: sink " + sink,
		DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: r.cfg.AckWait, MaxDeliver: maxDeliver, MaxAckPending: r.cfg.MaxAckPending,
		FilterSubject: r.cfg.FilterSubject,
	}
	if r.cfg.PinnedTTL > 0 {
		c.PriorityPolicy, c.PriorityGroups, c.PinnedTTL = jetstream.PriorityPolicyPinned, []string{fleet.PriorityGroup}, r.cfg.PinnedTTL
	}
	return c
}

// OpenConsumer implements pipeline.ConsumerReader: the sink's durable is
// created, or updated to the retry policy keeping where it starts.
// Shared consumers redeliver (Nak with delay); pinned ones keep order.
func (r *Router) OpenConsumer(ctx context.Context, sink string, retry pipeline.RetryConfig) (bool, error) {
	cfg := r.consumerConfig(sink, retry)
	if c, err := r.js.Consumer(ctx, r.cfg.Stream.Name, cfg.Durable); err == nil {
		have := c.CachedInfo().Config
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = have.DeliverPolicy, have.OptStartSeq, have.OptStartTime
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false, unavailable(err)
	}
	cons, err := r.js.CreateOrUpdateConsumer(ctx, r.cfg.Stream.Name, cfg)
	if err != nil {
		return false, fmt.Errorf("consumer %s: %w", cfg.Durable, unavailable(err))
	}
	if r.cfg.PinnedTTL > 0 && !slices.Contains(cons.CachedInfo().Config.PriorityGroups, fleet.PriorityGroup) {
		return false, fmt.Errorf("consumer %s: %w", cfg.Durable, fleet.ErrNoPriorityGroups)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false, pipeline.ErrJournalClosed
	}
	if old := r.consumers[sink]; old != nil {
		go old.stop()
	}
	r.consumers[sink] = r.startConsumer(cons)
	return r.cfg.PinnedTTL == 0, nil
}

// startConsumer returns the consumer with its in-progress loop running:
// every AckWait/2 each record handed out is reported in progress, so
// that one waiting in this router (a long delivery, a retry in process)
// is not handed to another.
func (r *Router) startConsumer(cons jetstream.Consumer) *sinkConsumer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &sinkConsumer{cons: cons, log: r.log, out: map[uint64]held{}, cancel: cancel, done: make(chan struct{})}
	info := cons.CachedInfo()
	c.gen = hex.EncodeToString([]byte(info.Name)) + "." + strconv.FormatInt(info.Created.UnixNano(), 10)
	go func() {
		defer close(c.done)
		t := time.NewTicker(max(r.cfg.AckWait/2, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.mu.Lock()
				for _, h := range c.out {
					_ = h.msg.InProgress()
				}
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// stop hands back what is held (Nak, at once) and ends the loop.
func (c *sinkConsumer) stop() {
	c.cancel()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	for seq, h := range c.out {
		_ = h.msg.Nak()
		delete(c.out, seq)
	}
}

func (r *Router) consumer(ctx context.Context, sink string) (*sinkConsumer, error) {
	r.mu.Lock()
	c, closed := r.consumers[sink], r.closed
	r.mu.Unlock()
	switch {
	case closed:
		return nil, pipeline.ErrJournalClosed
	case c != nil:
		return c, nil
	}
	if _, err := r.OpenConsumer(ctx, sink, pipeline.DefaultRetryConfig()); err != nil {
		return nil, err
	}
	return r.consumer(ctx, sink)
}

// fetchWait bounds one pull request; ReadConsumer pulls again until a
// record comes or ctx ends.
const fetchWait = 5 * time.Second

// ReadConsumer implements pipeline.ConsumerReader: it pulls from the
// sink's durable until at least one record comes. Messages that are not
// fleet records are terminated; with dedupe, a record whose (agent,
// sequence) another copy already took for this sink is acked unseen.
func (r *Router) ReadConsumer(ctx context.Context, sink string, buf []pipeline.Record, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	c, err := r.consumer(ctx, sink)
	if err != nil {
		return nil, err
	}
	n := limit.MaxRecords
	if n <= 0 {
		n = 256
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fctx, cancel := context.WithTimeout(ctx, fetchWait)
		opts := []jetstream.FetchOpt{jetstream.FetchContext(fctx)}
		if r.cfg.PinnedTTL > 0 {
			opts = append(opts, jetstream.FetchPriorityGroup(fleet.PriorityGroup))
		}
		batch, err := c.cons.Fetch(n, opts...)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, unavailable(err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		cancel()
		out, err := r.take(ctx, sink, c, buf[:0], msgs)
		if err != nil || len(out) > 0 {
			return out, err
		}
		if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			return nil, unavailable(err)
		}
	}
}

// take turns fetched messages into records handed out to c.
func (r *Router) take(ctx context.Context, sink string, c *sinkConsumer, out []pipeline.Record, msgs []jetstream.Msg) ([]pipeline.Record, error) {
	var hs []held
	for _, m := range msgs {
		md, err := m.Metadata()
		if err != nil {
			_ = m.Term()
			continue
		}
		rec, in, err := parseRecord(m.Headers(), m.Data(), md.Sequence.Stream, md.Timestamp, int(md.NumDelivered)) //nolint:gosec // a delivery count fits
		if err != nil {
			r.log.Error("not a fleet record; terminated, it stays in the stream", slog.Uint64("stream_seq", md.Sequence.Stream), slog.Any("error", err))
			_ = m.Term()
			continue
		}
		out = append(out, rec)
		hs = append(hs, held{msg: m, claim: fleet.Claim{Agent: c.gen + "." + in.Agent, Seq: in.Seq, StreamSeq: rec.Seq}})
	}
	if r.seen != nil && len(hs) > 0 {
		claims := make([]fleet.Claim, len(hs))
		for i, h := range hs {
			claims[i] = h.claim
		}
		dup, err := r.seen.Claim(ctx, claims)
		if err != nil {
			for _, h := range hs {
				_ = h.msg.Nak()
			}
			return nil, unavailable(err)
		}
		keptR, keptH := out[:0], hs[:0]
		for i, h := range hs {
			if dup[i] {
				_ = h.msg.Ack()
				continue
			}
			keptR, keptH = append(keptR, out[i]), append(keptH, h)
		}
		out, hs = keptR, keptH
	}
	c.mu.Lock()
	for i, h := range hs {
		c.out[out[i].Seq] = h
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b pipeline.Record) int { return cmpSeq(a.Seq, b.Seq) })
	return out, nil
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Redeliver implements pipeline.ConsumerReader: a Nak with delay.
func (r *Router) Redeliver(_ context.Context, sink string, seq uint64, delay time.Duration) error {
	h, ok := r.release(sink, seq)
	if !ok {
		return nil
	}
	if err := h.msg.NakWithDelay(delay); err != nil {
		return unavailable(err)
	}
	return nil
}

// release removes seq from what sink's consumer holds.
func (r *Router) release(sink string, seq uint64) (held, bool) {
	r.mu.Lock()
	c := r.consumers[sink]
	r.mu.Unlock()
	if c == nil {
		return held{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.out[seq]
	delete(c.out, seq)
	return h, ok
}

// CommitCursor implements pipeline.Journal: the records handed out to
// consumer below next are marked taken (dedupe) and acked, after the
// state is stored. A failed ack is logged: the server hands the record
// out again (at least once).
func (r *Router) CommitCursor(ctx context.Context, consumer string, next uint64, state ...pipeline.StateUpdate) error {
	if err := r.state.apply(ctx, consumer, state); err != nil {
		return unavailable(err)
	}
	r.mu.Lock()
	c := r.consumers[consumer]
	r.mu.Unlock()
	if c == nil {
		return nil
	}
	c.mu.Lock()
	var done []held
	for seq, h := range c.out {
		if seq < next {
			done = append(done, h)
			delete(c.out, seq)
		}
	}
	c.mu.Unlock()
	if len(done) == 0 {
		return nil
	}
	if r.seen != nil {
		claims := make([]fleet.Claim, len(done))
		for i, h := range done {
			claims[i] = h.claim
		}
		if err := r.seen.Appended(ctx, claims); err != nil {
			r.log.Warn("marking records delivered in the dedupe bucket failed; a redelivery would be delivered again", slog.Any("error", err))
		}
	}
	for _, h := range done {
		if err := h.msg.Ack(); err != nil {
			r.log.Warn("ack failed; the record will be delivered again", slog.Any("error", err))
		}
	}
	return nil
}

// PutDeadLetters implements pipeline.DeadLetterStore: the letters go to
// the shared bucket, then each record they name is terminated (+TERM:
// never delivered again, kept in the stream).
func (r *Router) PutDeadLetters(ctx context.Context, letters []pipeline.DeadLetter) error {
	if err := r.letterStore.PutDeadLetters(ctx, letters); err != nil {
		return unavailable(err)
	}
	for _, l := range letters {
		if h, ok := r.release(l.Sink, l.Seq); ok {
			if err := h.msg.Term(); err != nil {
				r.log.Warn("term failed; the record will be delivered again", slog.Any("error", err))
			}
		}
	}
	return nil
}

// parseRecord decodes a fleet message as a router's record: the stream
// sequence is its Seq (and the event's Sequence), the event's Origin is
// the agent's source (routes name it), AppendTime is when the stream
// stored it and Hash the agent's chain hash.
func parseRecord(h nats.Header, data []byte, seq uint64, at time.Time, deliveries int) (pipeline.Record, fleet.Inbound, error) {
	m := message.NewMessage(h.Get(fleet.HeaderMsgID), data)
	for k := range h {
		m.Metadata.Set(k, h.Get(k))
	}
	in, err := fleet.ParseMessage(m)
	if err != nil {
		return pipeline.Record{}, in, err
	}
	ev := in.Event
	ev.Sequence, ev.Origin = seq, ev.Extensions[fleet.ExtOrigin]
	rec := pipeline.Record{Event: ev, Seq: seq, AppendTime: at, Size: len(data), Deliveries: deliveries}
	if b, err := hex.DecodeString(in.ChainHash); err == nil && len(b) == len(rec.Hash) {
		copy(rec.Hash[:], b)
	}
	return rec, in, nil
}

func recordOf(h nats.Header, data []byte, seq uint64, at time.Time, deliveries int) (pipeline.Record, error) {
	rec, _, err := parseRecord(h, data, seq, at, deliveries)
	return rec, err
}
