package natsjournal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/pipeline"
)

// RouterConfig is what OpenRouter needs: the fleet stream and how a
// router's sinks consume it.
type RouterConfig struct {
	// Stream is the fleet stream, as the agents name it.
	Stream fleet.StreamConfig
	// FilterSubject selects the agents consumed; empty is every agent.
	FilterSubject string
	// ConsumerPrefix starts every sink's durable consumer name
	// (DefaultConsumerPrefix); the rest is the sink name with '.' as '~'.
	ConsumerPrefix string
	// AckWait is how long the server waits for a router's ack before it
	// hands a record to another (a killed router's failover time); while
	// a record is handed out, in progress is sent every AckWait/2.
	AckWait time.Duration
	// MaxAckPending bounds a sink's records handed out across routers.
	MaxAckPending int
	// PinnedTTL, when positive, makes every sink's consumer a
	// pinned_client priority group (nats-server 2.11+): one router at a
	// time, per-agent order kept, failures retried in process.
	PinnedTTL time.Duration
	// DeadLetterBucket is the shared dead-letter bucket
	// (DefaultDeadLetterBucket).
	DeadLetterBucket string
	// StateBucket holds the sinks' consumer state (DefaultStateBucket).
	StateBucket string
	// Dedupe is the (sink, agent, sequence) bucket; Bucket "" is off.
	Dedupe fleet.DedupeConfig
}

// letterStore names the Router's embedded dead letters (the type's own
// name would hide its DeadLetters method).
type letterStore = DeadLetters

// Router defaults.
const (
	DefaultConsumerPrefix = "sluice-sink-"
	DefaultStateBucket    = "SLUICE_SINK_STATE"
)

// ErrRouterAppend is returned by a router's Append: a router's records
// are the agents'; sources run on agents.
var ErrRouterAppend = fmt.Errorf("a fleet router does not append (run sources on an agent): %w", errors.ErrUnsupported)

// Router is the journal of a fleet router: the fleet stream itself. Each
// sink reads it through its own durable pull consumer, named after the
// sink and shared by every router (pipeline.ConsumerReader): the server
// splits a sink's records among the routers, the ack follows delivery, a
// transient failure is a Nak with the retry policy's delay (shared) or
// retried in process (pinned), a permanent one a dead letter in the
// shared bucket and a Term. Sequences are the stream's, so a dead letter
// means the same record on every router. See doc.go, Routers.
type Router struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	cfg    RouterConfig
	log    *slog.Logger
	*letterStore
	state *stateBucket
	seen  *fleet.Seen

	mu        sync.Mutex
	consumers map[string]*sinkConsumer
	closed    bool
}

var (
	_ pipeline.Journal        = (*Router)(nil)
	_ pipeline.ConsumerReader = (*Router)(nil)
)

// OpenRouter makes sure the stream and the router's buckets exist and
// returns the router journal on js (whose connection the caller closes
// after Close).
func OpenRouter(ctx context.Context, js jetstream.JetStream, cfg RouterConfig, log *slog.Logger) (*Router, error) {
	if cfg.ConsumerPrefix == "" {
		cfg.ConsumerPrefix = DefaultConsumerPrefix
	}
	if cfg.DeadLetterBucket == "" {
		cfg.DeadLetterBucket = DefaultDeadLetterBucket
	}
	if cfg.StateBucket == "" {
		cfg.StateBucket = DefaultStateBucket
	}
	if cfg.FilterSubject == "" {
		cfg.FilterSubject = cfg.Stream.Subjects()
	}
	stream, err := fleet.EnsureStream(ctx, js, cfg.Stream, log)
	if err != nil {
		return nil, unavailable(err)
	}
	r := &Router{js: js, stream: stream, cfg: cfg, log: log, consumers: map[string]*sinkConsumer{}}
	if r.state, err = openState(ctx, js, cfg.StateBucket, cfg.Stream.Replicas); err != nil {
		return nil, unavailable(err)
	}
	if cfg.Dedupe.Bucket != "" {
		if r.seen, err = fleet.OpenSeen(ctx, js, cfg.Dedupe, cfg.Stream.Replicas); err != nil {
			return nil, unavailable(err)
		}
	}
	if r.letterStore, err = OpenDeadLetters(ctx, js, cfg.DeadLetterBucket, cfg.Stream.Replicas, log); err != nil {
		return nil, unavailable(err)
	}
	return r, nil
}

// unavailable marks err as the journal being temporarily unavailable
// (the server cannot be reached), so the pipeline waits and tries again.
func unavailable(err error) error {
	if err == nil || errors.Is(err, pipeline.ErrJournalUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", pipeline.ErrJournalUnavailable, err)
}

// Durable returns the durable consumer name of sink.
func (r *Router) Durable(sink string) string {
	return r.cfg.ConsumerPrefix + strings.ReplaceAll(sink, ".", "~")
}

// sinkOf is Durable's inverse; false for a consumer that is not a sink's.
func (r *Router) sinkOf(durable string) (string, bool) {
	rest, ok := strings.CutPrefix(durable, r.cfg.ConsumerPrefix)
	return strings.ReplaceAll(rest, "~", "."), ok && rest != ""
}

// Append implements pipeline.Journal: ErrRouterAppend.
func (r *Router) Append(context.Context, pipeline.AppendBatch) (pipeline.AppendResult, error) {
	return pipeline.AppendResult{}, ErrRouterAppend
}

// Read implements pipeline.Journal for tools that read by position
// (replay): the records with stream sequence >= from, without waiting
// (none when from is past the stream's last), each read by sequence.
func (r *Router) Read(ctx context.Context, from uint64, limit pipeline.ReadLimit) ([]pipeline.Record, error) {
	info, err := r.stream.Info(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	from = max(from, info.State.FirstSeq)
	n := limit.MaxRecords
	if n <= 0 {
		n = 256
	}
	var out []pipeline.Record
	for seq := from; seq <= info.State.LastSeq && len(out) < n; seq++ {
		m, err := r.stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return out, unavailable(err)
		}
		rec, err := recordOf(m.Header, m.Data, m.Sequence, m.Time, 0)
		if err != nil {
			continue // not a fleet record
		}
		out = append(out, rec)
	}
	return out, nil
}

// Cursor implements pipeline.Journal: the sink's consumer's ack floor
// plus one, or the stream's first sequence for a sink that has none.
func (r *Router) Cursor(ctx context.Context, consumer string) (uint64, error) {
	c, err := r.js.Consumer(ctx, r.cfg.Stream.Name, r.Durable(consumer))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		info, err := r.stream.Info(ctx)
		if err != nil {
			return 0, unavailable(err)
		}
		return max(info.State.FirstSeq, 1), nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	return cursorOf(c.CachedInfo()), nil
}

func cursorOf(info *jetstream.ConsumerInfo) uint64 {
	if info.AckFloor.Stream == 0 && info.Config.OptStartSeq > 0 {
		return info.Config.OptStartSeq
	}
	return info.AckFloor.Stream + 1
}

// SetCursor implements pipeline.Journal: the sink's durable is recreated
// to start at stream sequence next (DeliverByStartSequence; a durable's
// start cannot be changed in place), keeping its other settings. Records
// handed out by the old durable are abandoned (the routers' acks fail and
// the new durable hands them out again if they are at or after next).
func (r *Router) SetCursor(ctx context.Context, consumer string, next uint64) error {
	return r.restart(ctx, consumer, func(c *jetstream.ConsumerConfig) {
		c.DeliverPolicy, c.OptStartSeq, c.OptStartTime = jetstream.DeliverByStartSequencePolicy, max(next, 1), nil
	})
}

// SetCursorTime recreates the sink's durable to start at the first record
// the stream stored at or after t (DeliverByStartTime).
func (r *Router) SetCursorTime(ctx context.Context, consumer string, t time.Time) error {
	return r.restart(ctx, consumer, func(c *jetstream.ConsumerConfig) {
		c.DeliverPolicy, c.OptStartSeq, c.OptStartTime = jetstream.DeliverByStartTimePolicy, 0, &t
	})
}

func (r *Router) restart(ctx context.Context, consumer string, start func(*jetstream.ConsumerConfig)) error {
	cfg := r.consumerConfig(consumer, pipeline.DefaultRetryConfig())
	if c, err := r.js.Consumer(ctx, r.cfg.Stream.Name, r.Durable(consumer)); err == nil {
		cfg = c.CachedInfo().Config
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return unavailable(err)
	}
	if err := r.js.DeleteConsumer(ctx, r.cfg.Stream.Name, cfg.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return unavailable(err)
	}
	start(&cfg)
	if _, err := r.js.CreateConsumer(ctx, r.cfg.Stream.Name, cfg); err != nil {
		return fmt.Errorf("recreate consumer %s: %w", cfg.Durable, unavailable(err))
	}
	r.forget(consumer)
	return nil
}

// DeleteCursor implements pipeline.Journal: the sink's durable and its
// state are deleted.
func (r *Router) DeleteCursor(ctx context.Context, consumer string) error {
	err := r.js.DeleteConsumer(ctx, r.cfg.Stream.Name, r.Durable(consumer))
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return unavailable(err)
	}
	r.forget(consumer)
	return r.state.delete(ctx, consumer)
}

// ConsumerState implements pipeline.Journal (the state bucket).
func (r *Router) ConsumerState(ctx context.Context, consumer string) (map[string][]byte, error) {
	return r.state.get(ctx, consumer)
}

// SourceState implements pipeline.Journal: a router has no sources.
func (r *Router) SourceState(context.Context, string) (map[string][]byte, error) {
	return map[string][]byte{}, nil
}

// SeqAtTime implements pipeline.Journal: the stream sequence of the
// first record stored at or after t (an ordered consumer started there),
// or the last sequence plus one.
func (r *Router) SeqAtTime(ctx context.Context, t time.Time) (uint64, error) {
	info, err := r.stream.Info(ctx)
	if err != nil {
		return 0, unavailable(err)
	}
	if info.State.Msgs == 0 || info.State.LastTime.Before(t) {
		return info.State.LastSeq + 1, nil
	}
	oc, err := r.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{r.cfg.FilterSubject}, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &t,
	})
	if err != nil {
		return 0, unavailable(err)
	}
	m, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		return 0, unavailable(err)
	}
	md, err := m.Metadata()
	if err != nil {
		return 0, err
	}
	return md.Sequence.Stream, nil
}

// Stats implements pipeline.Journal: the stream's extent and size, and
// the cursors of the sinks' durables.
func (r *Router) Stats(ctx context.Context) (pipeline.JournalStats, error) {
	info, err := r.stream.Info(ctx)
	if err != nil {
		return pipeline.JournalStats{}, unavailable(err)
	}
	st := pipeline.JournalStats{Bytes: int64(info.State.Bytes), Cursors: map[string]uint64{}} //nolint:gosec // a stream's size fits
	if info.State.Msgs > 0 {
		st.First, st.Last = info.State.FirstSeq, info.State.LastSeq
	}
	list := r.stream.ListConsumers(ctx)
	for ci := range list.Info() {
		if sink, ok := r.sinkOf(ci.Config.Durable); ok {
			st.Cursors[sink] = cursorOf(ci)
		}
	}
	if err := list.Err(); err != nil {
		return st, unavailable(err)
	}
	return st, nil
}

// Close hands back what this router holds (Nak: another router takes it
// at once) and stops the dead-letter watch. The connection stays open.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	cs := r.consumers
	r.consumers = map[string]*sinkConsumer{}
	r.mu.Unlock()
	for _, c := range cs {
		c.stop()
	}
	return r.letterStore.Close(ctx)
}

func (r *Router) forget(consumer string) {
	r.mu.Lock()
	c := r.consumers[consumer]
	delete(r.consumers, consumer)
	r.mu.Unlock()
	if c != nil {
		c.stop()
	}
}
