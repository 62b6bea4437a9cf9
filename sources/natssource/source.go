package natssource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/pipeline"
)

type source struct {
	cfg *Config
	set pipeline.Settings
	log *slog.Logger
	tel *telemetry
}

var (
	_ pipeline.Source      = (*source)(nil)
	_ pipeline.Provisioner = (*source)(nil)
)

func newSource(set pipeline.Settings, cfg *Config) (*source, error) {
	tel, err := newTelemetry(set.MeterProvider, set.ID)
	if err != nil {
		return nil, fmt.Errorf("nats source telemetry: %w", err)
	}
	return &source{cfg: cfg, set: set, log: set.Logger, tel: tel}, nil
}

// Run implements pipeline.Source: it consumes the fleet stream through
// the shared durable consumer until ctx ends, appending each batch to the
// journal and only then acknowledging it.
func (s *source) Run(ctx context.Context, host pipeline.SourceHost) error {
	defer func() { _ = s.tel.reg.Unregister() }()
	nc, err := fleet.Connect(ctx, s.cfg.Conn, "sluice router "+s.set.ID, s.log)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("nats source: %w", err)
	}
	state, err := host.State(ctx)
	if err != nil {
		return fmt.Errorf("nats source state: %w", err)
	}
	ord := newOrder(state)
	sub := fleet.NewSubscriber(js, fleet.SubscriberConfig{
		Stream: s.cfg.Stream.Name, FilterSubject: s.cfg.filter(), AckWait: s.cfg.AckWait,
		MaxDeliver: s.cfg.MaxDeliver, MaxAckPending: s.cfg.MaxAckPending,
		Outstanding: 2 * s.cfg.Batch, NakDelay: s.cfg.NakDelay, PinnedTTL: s.cfg.pinnedTTL(),
	}, s.log)
	defer func() { _ = sub.Close() }()
	// The subscription outlives ctx by the batch in flight: it is acked
	// (or nacked) before Close ends the subscription.
	subCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	b := s.cfg.Retry.NewBackOff(s.set.Clock)
	for ctx.Err() == nil {
		ch, seen, err := s.subscribe(ctx, subCtx, js, sub)
		if errors.Is(err, fleet.ErrNoPriorityGroups) {
			// Retrying cannot help: the server is too old. Fatal, so that
			// the engine stops and says so, rather than a router that
			// never consumes.
			return fmt.Errorf("nats source %s: ordering pinned: %w", s.set.ID, err)
		}
		if err != nil {
			s.log.Warn("fleet consumer not available yet", slog.Any("error", err))
			if !fleet.Wait(ctx, s.set.Clock, b, s.cfg.Retry.Max) {
				break
			}
			continue
		}
		b.Reset()
		s.consume(ctx, host, ord, seen, ch)
	}
	return nil
}

// subscribe makes sure the stream and the dedupe bucket exist and
// subscribes to the consumer. seen is nil when dedupe is off.
func (s *source) subscribe(ctx, subCtx context.Context, js jetstream.JetStream, sub *fleet.Subscriber) (<-chan *message.Message, *fleet.Seen, error) {
	if _, err := fleet.EnsureStream(ctx, js, s.cfg.Stream, s.log); err != nil {
		return nil, nil, err
	}
	var seen *fleet.Seen
	if s.cfg.Dedupe.Bucket != "" {
		var err error
		if seen, err = fleet.OpenSeen(ctx, js, s.cfg.Dedupe, s.cfg.Stream.Replicas); err != nil {
			return nil, nil, err
		}
	}
	ch, err := sub.Subscribe(subCtx, s.cfg.Consumer)
	return ch, seen, err
}

// consume handles batches from ch until ctx ends or ch closes.
func (s *source) consume(ctx context.Context, host pipeline.SourceHost, ord *order, seen *fleet.Seen, ch <-chan *message.Message) {
	b := s.cfg.Retry.NewBackOff(s.set.Clock)
	for {
		batch, open := s.collect(ctx, ch)
		s.tel.received.Add(ctx, int64(len(batch)))
		for len(batch) > 0 {
			err := s.handle(ctx, host, ord, seen, batch)
			if err == nil {
				b.Reset()
				break
			}
			retained := s.cfg.Ordering == OrderingPinned && !errors.Is(err, errHandedBack)
			if retained {
				s.log.Error("appending fleet records failed; this router keeps them (in order) and tries again",
					slog.Int("records", len(batch)), slog.Any("error", err))
			} else {
				s.log.Error("appending fleet records failed; they will be delivered again", slog.Int("records", len(batch)), slog.Any("error", err))
			}
			if !fleet.Wait(ctx, s.set.Clock, b, s.cfg.Retry.Max) {
				if retained {
					nackAll(batch)
				}
				return
			}
			if !retained {
				break
			}
			batch = unsettled(batch)
		}
		if !open || ctx.Err() != nil {
			return
		}
	}
}

// errHandedBack marks a failure after which the batch was nacked.
var errHandedBack = errors.New("handed back to the stream")

// unsettled returns the messages of ms neither acked nor nacked (those
// terminated or acked as duplicates are not tried again).
func unsettled(ms []*message.Message) []*message.Message {
	out := ms[:0]
	for _, m := range ms {
		select {
		case <-m.Acked():
		case <-m.Nacked():
		default:
			out = append(out, m)
		}
	}
	return out
}

func nackAll(ms []*message.Message) {
	for _, m := range ms {
		m.Nack()
	}
}

// collect waits for a first message, then takes more for up to Linger,
// at most Batch. open is false once ch is closed.
func (s *source) collect(ctx context.Context, ch <-chan *message.Message) (batch []*message.Message, open bool) {
	select {
	case m, ok := <-ch:
		if !ok {
			return nil, false
		}
		batch = append(batch, m)
	case <-ctx.Done():
		return nil, true
	}
	t := s.set.Clock.NewTimer(s.cfg.Linger)
	defer t.Stop()
	for len(batch) < s.cfg.Batch {
		select {
		case m, ok := <-ch:
			if !ok {
				return batch, false
			}
			batch = append(batch, m)
		case <-t.C():
			return batch, true
		case <-ctx.Done():
			return batch, true
		}
	}
	return batch, true
}

// handle appends batch's records (checked for order per agent) with the
// order state in one journal transaction, then acks them. On failure,
// with ordering shared, every one is nacked (delivered again after
// NakDelay, to any router) and the error matches errHandedBack; with
// ordering pinned they are kept unsettled (in progress) for the caller to
// try again, so that no later record overtakes them. With seen, copies
// of an (agent, sequence) another copy already took are acked without
// being appended.
func (s *source) handle(ctx context.Context, host pipeline.SourceHost, ord *order, seen *fleet.Seen, batch []*message.Message) error {
	take, ins := s.parse(ctx, batch)
	if len(take) == 0 {
		return nil
	}
	fail := func(err error) error {
		if s.cfg.Ordering == OrderingPinned {
			return err
		}
		nackAll(take)
		return fmt.Errorf("%w: %w", errHandedBack, err)
	}
	var claims []fleet.Claim
	if seen != nil {
		var err error
		if take, ins, claims, err = s.dedupe(ctx, seen, take, ins); err != nil {
			return fail(err)
		}
	}
	events := make([]pipeline.Event, 0, len(ins))
	pending := make(map[string]uint64)
	now := s.set.Clock.Now()
	for _, in := range ins {
		v, missing := ord.check(pending, in.Agent, in.Seq)
		s.tel.judged(ctx, v)
		if v == gap {
			s.tel.missing.Add(ctx, int64(missing))
			s.log.Debug("gap in an agent's records", slog.String("agent", in.Agent), slog.Uint64("seq", in.Seq), slog.Uint64("missing", missing))
		}
		pending[in.Agent] = max(pending[in.Agent], in.Seq, ord.high[in.Agent])
		s.tel.lag.Record(ctx, max(now.Sub(in.AppendTime), 0).Seconds())
		events = append(events, in.Event)
	}
	if len(take) == 0 {
		return nil
	}
	if _, err := host.Emit(ctx, events, ord.updates(s.set.ID, pending)...); err != nil {
		return fail(err)
	}
	ord.commit(pending)
	if seen != nil {
		if err := seen.Appended(ctx, claims); err != nil {
			s.log.Warn("marking records appended in the dedupe bucket failed; a redelivery of one would be appended again",
				slog.Int("records", len(claims)), slog.Any("error", err))
		}
	}
	for _, m := range take {
		m.Ack()
	}
	s.tel.appended.Add(ctx, int64(len(take)))
	return nil
}

// parse decodes batch, terminating what is not a fleet record.
func (s *source) parse(ctx context.Context, batch []*message.Message) ([]*message.Message, []fleet.Inbound) {
	take := make([]*message.Message, 0, len(batch))
	ins := make([]fleet.Inbound, 0, len(batch))
	for _, m := range batch {
		s.notePending(m)
		in, err := fleet.ParseMessage(m)
		if err != nil {
			s.tel.bad.Add(ctx, 1)
			s.log.Error("not a fleet record; terminated, it stays in the stream",
				slog.String("stream_seq", m.Metadata.Get(fleet.MetaStreamSeq)), slog.Any("error", err))
			fleet.Term(m)
			continue
		}
		take = append(take, m)
		ins = append(ins, in)
	}
	return take, ins
}

// dedupe claims the records in seen and acks the duplicates, returning
// the rest with their claims.
func (s *source) dedupe(ctx context.Context, seen *fleet.Seen, take []*message.Message, ins []fleet.Inbound) ([]*message.Message, []fleet.Inbound, []fleet.Claim, error) {
	claims := make([]fleet.Claim, len(ins))
	for i, in := range ins {
		streamSeq, _ := strconv.ParseUint(take[i].Metadata.Get(fleet.MetaStreamSeq), 10, 64)
		claims[i] = fleet.Claim{Agent: in.Agent, Seq: in.Seq, StreamSeq: streamSeq}
	}
	dup, err := seen.Claim(ctx, claims)
	if err != nil {
		return take, ins, nil, err
	}
	keptM, keptIn, keptC := take[:0], ins[:0], claims[:0]
	for i, m := range take {
		if dup[i] {
			s.tel.duplicates.Add(ctx, 1)
			s.log.Debug("a record already taken from another copy in the stream; acknowledged, not appended",
				slog.String("agent", ins[i].Agent), slog.Uint64("seq", ins[i].Seq), slog.Uint64("stream_seq", claims[i].StreamSeq))
			m.Ack()
			continue
		}
		keptM, keptIn, keptC = append(keptM, m), append(keptIn, ins[i]), append(keptC, claims[i])
	}
	return keptM, keptIn, keptC, nil
}

func (s *source) notePending(m *message.Message) {
	if n, err := strconv.ParseInt(m.Metadata.Get(fleet.MetaNumPending), 10, 64); err == nil {
		s.tel.pending.Store(n)
	}
}

// Provision implements pipeline.Provisioner: it reads the connection's
// TLS material and secret files, so that `sluice validate` reports a
// missing one. Run reads them again when it connects.
func (s *source) Provision(ctx context.Context) error {
	if err := s.cfg.Conn.Provision(ctx); err != nil {
		return fmt.Errorf("conn.%w", err)
	}
	return nil
}
