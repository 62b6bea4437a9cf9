package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// SubscriberConfig describes the durable pull consumer a Subscriber
// shares with every other router naming the same consumer.
type SubscriberConfig struct {
	// Stream holds the messages.
	Stream string
	// FilterSubject selects the subjects consumed (<prefix>.> for all
	// agents).
	FilterSubject string
	// AckWait is how long the server waits for an ack before it delivers
	// the message again (to any router).
	AckWait time.Duration
	// MaxDeliver bounds deliveries of one message; -1 is unlimited.
	MaxDeliver int
	// MaxAckPending bounds the unacknowledged messages across all routers.
	MaxAckPending int
	// Outstanding is how many messages one subscription hands out before
	// any is acked or nacked (also the pull buffer). Watermill's contract
	// is 1; a router batching journal appends sets more.
	Outstanding int
	// NakDelay is the redelivery delay asked for on Nack.
	NakDelay time.Duration
	// PinnedTTL, when positive, makes the consumer a pinned_client
	// priority group (PriorityGroup; nats-server 2.11+): the server gives
	// every message to one subscriber at a time, the pinned one, and pins
	// another only after the pinned one sent no pull request for
	// PinnedTTL. Zero shares the messages among all subscribers.
	PinnedTTL time.Duration
}

// PriorityGroup is the priority group of a pinned consumer
// (SubscriberConfig.PinnedTTL).
const PriorityGroup = "sluice"

// ErrNoPriorityGroups is returned by Subscribe when a pinned consumer is
// asked for and the server did not keep its priority group: a server
// older than 2.11 ignores the setting.
var ErrNoPriorityGroups = errors.New("the server does not support pinned_client priority groups (nats-server 2.11 or later)")

// Metadata keys a Subscriber adds to every message, beside its headers.
const (
	MetaStreamSeq    = "_fleet_stream_seq"
	MetaNumDelivered = "_fleet_num_delivered"
	MetaNumPending   = "_fleet_num_pending"
	metaTerm         = "_fleet_term"
)

// Term marks m so that the Nack that follows terminates it (+TERM: never
// delivered again, kept in the stream) instead of asking for a
// redelivery: for a message retrying cannot fix.
func Term(m *message.Message) bool {
	m.Metadata.Set(metaTerm, "1")
	return m.Nack()
}

// Subscriber is a watermill message.Subscriber on a durable JetStream pull
// consumer (nats.go's jetstream API). Subscribe's topic is the consumer's
// durable name: every router subscribing with the same name shares the
// one consumer, and the server splits the messages among them. The
// consumer is created or updated with Durable set (never a Name-only
// consumer, which the server reaps after 5 s idle) and is never deleted
// by Close or by ending a subscription (unlike a QueueSubscribe durable,
// watermill#375; doc.go).
//
// Ack acknowledges the message to the server; Nack asks for a
// redelivery after NakDelay (Term first to terminate instead). A message
// neither acked nor nacked when the subscription ends is nacked at once,
// so another router can take it; one the server delivered to the client
// but never handed out is redelivered after AckWait.
type Subscriber struct {
	js  jetstream.JetStream
	cfg SubscriberConfig
	log *slog.Logger

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

var _ message.Subscriber = (*Subscriber)(nil)

// NewSubscriber returns a subscriber on js.
func NewSubscriber(js jetstream.JetStream, cfg SubscriberConfig, log *slog.Logger) *Subscriber {
	cfg.Outstanding = max(cfg.Outstanding, 1)
	return &Subscriber{js: js, cfg: cfg, log: log, closing: make(chan struct{})}
}

// ConsumerConfig returns the durable consumer durable as the server gets
// it.
func (s *Subscriber) ConsumerConfig(durable string) jetstream.ConsumerConfig {
	c := jetstream.ConsumerConfig{
		Durable:       durable,
		Description:   "Sluice routers (shared)",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.cfg.AckWait,
		MaxDeliver:    s.cfg.MaxDeliver,
		MaxAckPending: s.cfg.MaxAckPending,
		FilterSubject: s.cfg.FilterSubject,
	}
	if s.cfg.PinnedTTL > 0 {
		c.Description = "Sluice routers (one pinned at a time)"
		c.PriorityPolicy = jetstream.PriorityPolicyPinned
		c.PriorityGroups = []string{PriorityGroup}
		c.PinnedTTL = s.cfg.PinnedTTL
	}
	return c
}

// pullOptions returns the options of the subscription's pull requests: a
// pinned subscriber names its group and renews its requests well within
// PinnedTTL, so that it stays pinned while it runs.
func (s *Subscriber) pullOptions() []jetstream.PullConsumeOpt {
	opts := []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(max(s.cfg.Outstanding/2, 1))}
	if s.cfg.PinnedTTL > 0 {
		opts = append(opts, jetstream.PullPriorityGroup(PriorityGroup),
			jetstream.PullExpiry(min(30*time.Second, max(s.cfg.PinnedTTL/3, time.Second))))
	}
	return opts
}

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errors.New("fleet subscriber closed")

// Subscribe implements message.Subscriber. The channel is closed when ctx
// ends, Close is called or the consumer is deleted, after every
// handed-out message was settled.
//
// The messages come through nats.go's Consume (a callback on a plain
// subscription, whose queue has no fixed size), not Messages: Messages
// buffers in a channel of PullMaxMessages and, after a reconnect, pulls a
// whole batch again without counting what that channel still holds, so
// the surplus is dropped client-side ("slow consumer"). The server then
// redelivers the dropped messages only after AckWait, behind later ones,
// which broke per-agent order with a pinned consumer across a server
// restart (TestPinnedRouterKeepsOrderThroughServerRestarts).
func (s *Subscriber) Subscribe(ctx context.Context, durable string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	cons, err := s.js.CreateOrUpdateConsumer(ctx, s.cfg.Stream, s.ConsumerConfig(durable))
	if err != nil {
		return nil, fmt.Errorf("consumer %s on stream %s: %w", durable, s.cfg.Stream, err)
	}
	if s.cfg.PinnedTTL > 0 && !slices.Contains(cons.CachedInfo().Config.PriorityGroups, PriorityGroup) {
		return nil, fmt.Errorf("consumer %s: %w", durable, ErrNoPriorityGroups)
	}
	sctx, cancel := context.WithCancel(ctx)
	sub := &subscription{s: s, ctx: sctx, out: make(chan *message.Message), slots: make(chan struct{}, s.cfg.Outstanding)}
	opts := append(s.pullOptions(), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConnectionClosed) {
			s.log.Warn("fleet consumer gone; subscribing again", slog.String("consumer", durable), slog.Any("error", err))
			cancel()
			return
		}
		s.log.Warn("fleet consumer", slog.Any("error", err)) // missed heartbeats while the server is away
	}))
	cc, err := cons.Consume(sub.handle, opts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("consume %s: %w", durable, err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-sctx.Done():
		case <-s.closing:
		case <-cc.Closed(): // nats.go stopped consuming (the connection closed for good)
		}
		cancel()
		sub.stop(cc)
	}()
	return sub.out, nil
}

// subscription is one Subscribe: Consume's callback (handle) hands each
// message out, at most Outstanding unsettled at a time.
type subscription struct {
	s     *Subscriber
	ctx   context.Context
	out   chan *message.Message
	slots chan struct{}

	mu      sync.Mutex
	stopped bool
	busy    sync.WaitGroup // callbacks running
	settle  sync.WaitGroup // messages handed out and not settled
}

// stop ends the subscription once its context ended: it stops Consume,
// waits for the callbacks and settlements, and closes out.
func (sub *subscription) stop(cc jetstream.ConsumeContext) {
	cc.Stop()
	sub.mu.Lock()
	sub.stopped = true
	sub.mu.Unlock()
	sub.busy.Wait()
	sub.settle.Wait()
	close(sub.out)
}

// handle is Consume's callback: it waits for a slot and for the reader to
// take the message, then settles it in the background. A message that
// arrives as the subscription ends is nacked at once.
func (sub *subscription) handle(jm jetstream.Msg) {
	sub.mu.Lock()
	if sub.stopped {
		sub.mu.Unlock()
		_ = jm.Nak()
		return
	}
	sub.busy.Add(1)
	sub.mu.Unlock()
	defer sub.busy.Done()
	ctx := sub.ctx
	select {
	case sub.slots <- struct{}{}:
	case <-ctx.Done():
		_ = jm.Nak()
		return
	}
	m := sub.s.toMessage(ctx, jm)
	select {
	case sub.out <- m:
	case <-ctx.Done():
		_ = jm.Nak()
		<-sub.slots
		return
	}
	sub.settle.Add(1)
	go func() {
		defer sub.settle.Done()
		defer func() { <-sub.slots }()
		sub.s.settle(ctx, jm, m)
	}()
}

// settle turns the watermill Ack/Nack of m into the server's. Until then
// it tells the server every AckWait/2 that m is in progress, so that a
// message waiting its turn in a router is not delivered to another.
func (s *Subscriber) settle(ctx context.Context, jm jetstream.Msg, m *message.Message) {
	tick := time.NewTicker(max(s.cfg.AckWait/2, 100*time.Millisecond))
	defer tick.Stop()
	var err error
	for done := false; !done; {
		done = true
		select {
		case <-m.Acked():
			err = jm.Ack()
		case <-m.Nacked():
			if m.Metadata.Get(metaTerm) != "" {
				err = jm.Term()
			} else {
				err = jm.NakWithDelay(s.cfg.NakDelay)
			}
		case <-tick.C:
			err, done = jm.InProgress(), false
		case <-ctx.Done():
			// Not settled by its handler: hand it back now. A handler
			// that acks later loses the race harmlessly (the message
			// comes again).
			select {
			case <-m.Acked():
				err = jm.Ack()
			default:
				err = jm.Nak()
			}
		}
		if err != nil {
			s.log.Warn("fleet consumer: settling a message failed; the server will deliver it again", slog.Any("error", err))
		}
	}
}

func (s *Subscriber) toMessage(ctx context.Context, jm jetstream.Msg) *message.Message {
	h := jm.Headers()
	m := message.NewMessage(h.Get(HeaderMsgID), jm.Data())
	for k := range h {
		m.Metadata.Set(k, h.Get(k))
	}
	if md, err := jm.Metadata(); err == nil {
		m.Metadata.Set(MetaStreamSeq, strconv.FormatUint(md.Sequence.Stream, 10))
		m.Metadata.Set(MetaNumDelivered, strconv.FormatUint(md.NumDelivered, 10))
		m.Metadata.Set(MetaNumPending, strconv.FormatUint(md.NumPending, 10))
	}
	m.SetContext(ctx)
	return m
}

// Close implements message.Subscriber: every subscription ends (handed-out
// messages not yet settled are nacked) and Close waits for them. The
// durable consumer stays.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
