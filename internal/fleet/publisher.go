package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublisherConfig tunes a Publisher.
type PublisherConfig struct {
	// Stream is the stream every publish must land in
	// (Nats-Expected-Stream), so that a subject nobody stores is an error,
	// not a silent loss.
	Stream string
	// MaxInFlight bounds the publishes awaiting their ack.
	MaxInFlight int
	// AckTimeout fails a publish whose ack has not come by then.
	AckTimeout time.Duration
	// Domain is the JetStream domain of the stream's server (AgentConfig.Domain);
	// empty for the connected server's.
	Domain string
}

// Publisher is a watermill message.Publisher on nats.go's jetstream API
// that does what watermill-nats's publishers do not (doc.go): every
// message is published asynchronously with its UUID as Nats-Msg-Id, at
// most MaxInFlight awaiting their ack, and Publish returns only when each
// has been acknowledged by the stream or has failed, saying which.
type Publisher struct {
	js  jetstream.JetStream
	cfg PublisherConfig
}

var _ message.Publisher = (*Publisher)(nil)

// NewPublisher returns a publisher on nc. It does not own nc.
func NewPublisher(nc *nats.Conn, cfg PublisherConfig) (*Publisher, error) {
	if cfg.MaxInFlight < 1 || cfg.AckTimeout <= 0 || cfg.Stream == "" {
		return nil, fmt.Errorf("fleet publisher: stream, max in flight and ack timeout are required, got %+v", cfg)
	}
	opts := []jetstream.JetStreamOpt{
		jetstream.WithPublishAsyncMaxPending(cfg.MaxInFlight),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
	}
	var js jetstream.JetStream
	var err error
	if cfg.Domain != "" {
		js, err = jetstream.NewWithDomain(nc, cfg.Domain, opts...)
	} else {
		js, err = jetstream.New(nc, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("fleet publisher: %w", err)
	}
	return &Publisher{js: js, cfg: cfg}, nil
}

// JetStream returns the publisher's JetStream context.
func (p *Publisher) JetStream() jetstream.JetStream { return p.js }

// ErrNotSent marks a message of a batch that was not sent because an
// earlier one could not be (sending it would put it before its
// predecessor in the stream).
var ErrNotSent = errors.New("not sent: an earlier message of the batch failed")

// PublishError says which messages of a batch failed. Errs has one entry
// per message, nil for those the stream acknowledged.
type PublishError struct {
	Errs []error
}

// Error implements error with the first failure and the count.
func (e *PublishError) Error() string {
	n, first := 0, error(nil)
	for _, err := range e.Errs {
		if err != nil {
			if first == nil {
				first = err
			}
			n++
		}
	}
	return fmt.Sprintf("publish: %d of %d messages failed, first: %v", n, len(e.Errs), first)
}

// Unwrap returns the failures, so errors.Is finds nats.ErrDisconnected and
// the others.
func (e *PublishError) Unwrap() []error {
	out := make([]error, 0, len(e.Errs))
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// Acked returns how many messages at the start of the batch were
// acknowledged: the prefix a cursor may move past.
func (e *PublishError) Acked() int {
	for i, err := range e.Errs {
		if err != nil {
			return i
		}
	}
	return len(e.Errs)
}

// Result counts what the stream said about an acknowledged batch.
type Result struct {
	// Duplicates were already in the stream (same Nats-Msg-Id within the
	// duplicate window): stored once, acknowledged again.
	Duplicates int
}

// Publish implements message.Publisher: PublishBatch with the first
// message's context.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	_, err := p.PublishBatch(msgs[0].Context(), topic, msgs)
	return err
}

// PublishBatch publishes msgs in order on subject and waits for every ack:
// Send, then Wait.
func (p *Publisher) PublishBatch(ctx context.Context, subject string, msgs []*message.Message) (Result, error) {
	return p.Send(subject, msgs).Wait(ctx)
}

// Pending is a batch Send published, whose acks Wait collects.
type Pending struct {
	futures []jetstream.PubAckFuture
	errs    []error
}

// Send publishes msgs in order on subject without waiting for their acks,
// so that a caller can send the next batch while this one's acks travel.
// At most MaxInFlight publishes of the Publisher await acks at any time;
// beyond that Send waits for room, up to AckTimeout. A message that could
// not be sent stops the batch (the rest are ErrNotSent: sending them
// would put them before their predecessor in the stream).
func (p *Publisher) Send(subject string, msgs []*message.Message) *Pending {
	return p.send(len(msgs), func(i int) (*nats.Msg, string) { return natsMsg(subject, msgs[i]), msgs[i].UUID })
}

// SendRecords is Send for fleet records, each published exactly as
// NewMessage's message of it would be. It builds the NATS messages
// straight from recs, without a watermill message in between: the
// forwarder's path, where that intermediate copy of every record's
// headers was a measurable share of its cost (docs/benchmarks.md, Fleet).
func (p *Publisher) SendRecords(subject string, recs []Outbound) *Pending {
	return p.send(len(recs), func(i int) (*nats.Msg, string) {
		h := make(nats.Header, 6) // the record's four and the client's two (Nats-Msg-Id, Nats-Expected-Stream)
		vals := make([]string, 0, 4)
		recs[i].headers(func(k, v string) {
			vals = append(vals, v)
			h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
		})
		return &nats.Msg{Subject: subject, Data: recs[i].Line, Header: h}, MsgID(recs[i].Agent, recs[i].Seq)
	})
}

// send publishes n messages, msg(i) giving the i-th and its Nats-Msg-Id.
func (p *Publisher) send(n int, msg func(i int) (*nats.Msg, string)) *Pending {
	pd := &Pending{futures: make([]jetstream.PubAckFuture, n), errs: make([]error, n)}
	stream, stall := jetstream.WithExpectStream(p.cfg.Stream), jetstream.WithStallWait(p.cfg.AckTimeout)
	failed := false
	for i := range n {
		if failed {
			pd.errs[i] = ErrNotSent
			continue
		}
		nm, id := msg(i)
		f, err := p.js.PublishMsgAsync(nm, jetstream.WithMsgID(id), stream, stall)
		if err != nil {
			pd.errs[i], failed = err, true
			continue
		}
		pd.futures[i] = f
	}
	return pd
}

// Unsent reports whether a message of the batch could not even be sent
// (Send stopped there): no message after it may be sent before it is.
// Call it before Wait (which records the acks' failures too).
func (pd *Pending) Unsent() bool {
	return slices.ContainsFunc(pd.errs, func(err error) bool { return err != nil })
}

// natsMsg returns m as a NATS message on subject: the payload as data,
// the metadata as headers (one allocation for all their values; the
// client adds Nats-Msg-Id and Nats-Expected-Stream).
func natsMsg(subject string, m *message.Message) *nats.Msg {
	h := make(nats.Header, len(m.Metadata)+2)
	vals := make([]string, 0, len(m.Metadata))
	for k, v := range m.Metadata {
		vals = append(vals, v)
		h[k] = vals[len(vals)-1 : len(vals) : len(vals)] // as nats.Header.Set: keys as they are
	}
	return &nats.Msg{Subject: subject, Data: m.Payload, Header: h}
}

// Wait waits for every ack of the batch. It returns nil when all were
// acknowledged, or a *PublishError: acks that fail (nats.ErrDisconnected
// on a reconnect, jetstream.ErrAsyncPublishTimeout, a full stream's 503)
// leave the others standing. Ending ctx stops the wait: unacknowledged
// messages then fail with ctx's error (they may still be stored; a retry
// with the same id is de-duplicated).
func (pd *Pending) Wait(ctx context.Context) (Result, error) {
	var res Result
	for i, f := range pd.futures {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				res.Duplicates++
			}
		case err := <-f.Err():
			pd.errs[i] = err
		case <-ctx.Done():
			pd.errs[i] = ctx.Err()
		}
	}
	for _, err := range pd.errs {
		if err != nil {
			return res, &PublishError{Errs: pd.errs}
		}
	}
	return res, nil
}

// Close implements message.Publisher. It does not close the connection
// and does not wait: PublishBatch already waited for its acks, and a
// Pending is its caller's to wait for.
func (p *Publisher) Close() error { return nil }
