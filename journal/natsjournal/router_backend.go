package natsjournal

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// ErrRouterAdmin is returned by a router's integrity and export tools: a
// router has no journal of its own; verify and export the agents'.
var ErrRouterAdmin = fmt.Errorf("a fleet router has no journal of its own (verify, export and checkpoint the agents' journals): %w", errors.ErrUnsupported)

// routerStore is a Router as journal.Store (Backend.Open with role
// router), with its connection.
type routerStore struct {
	*Router
	nc *nats.Conn
}

var _ journal.Store = (*routerStore)(nil)

// openRouter connects and opens the router journal cfg describes (every
// mode: the engine, and the `sluice journal` tools, which then act on
// the shared durables and dead letters).
func openRouter(ctx context.Context, cfg fleet.AgentConfig, set pipeline.Settings) (*routerStore, error) {
	log := set.Logger.With("component", "fleet-router")
	nc, err := fleet.Connect(ctx, cfg.Conn, "sluice router", log)
	if err != nil {
		return nil, unavailable(err)
	}
	var js jetstream.JetStream
	if cfg.Domain != "" {
		js, err = jetstream.NewWithDomain(nc, cfg.Domain)
	} else {
		js, err = jetstream.New(nc)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	rc := cfg.Router
	r, err := OpenRouter(ctx, js, RouterConfig{
		Stream: cfg.Stream, FilterSubject: rc.FilterSubject, ConsumerPrefix: rc.ConsumerPrefix,
		AckWait: rc.AckWait, MaxAckPending: rc.MaxAckPending, PinnedTTL: pinnedTTL(rc),
		DeadLetterBucket: rc.DeadLetterBucket, StateBucket: rc.StateBucket, Dedupe: rc.Dedupe,
	}, log)
	if err != nil {
		nc.Close()
		return nil, err
	}
	log.Info("routing the fleet stream: each sink consumes it through its own shared durable consumer",
		"stream", cfg.Stream.Name, "ordering", rc.Ordering, "servers", fleet.RedactURL(cfg.Conn.URL))
	return &routerStore{Router: r, nc: nc}, nil
}

func pinnedTTL(c fleet.RouterConfig) time.Duration {
	if c.Ordering == fleet.OrderingPinned {
		return c.PinnedTTL
	}
	return 0
}

// Close closes the router journal, then its connection.
func (s *routerStore) Close(ctx context.Context) error {
	err := s.Router.Close(ctx)
	s.nc.Close()
	return err
}

// Verify implements journal.Admin: ErrRouterAdmin.
func (*routerStore) Verify(context.Context, uint64, uint64) (journal.VerifyReport, error) {
	return journal.VerifyReport{}, ErrRouterAdmin
}

// VerifyRange implements journal.Admin: ErrRouterAdmin.
func (*routerStore) VerifyRange(context.Context, journal.VerifyOptions) (journal.VerifyReport, error) {
	return journal.VerifyReport{}, ErrRouterAdmin
}

// Scan implements journal.Admin over the stream (Router.Read, page by
// page, without waiting).
func (s *routerStore) Scan(ctx context.Context, from, to uint64, fn func(pipeline.Record) error) error {
	for {
		rs, err := s.Read(ctx, from, pipeline.ReadLimit{})
		if err != nil || len(rs) == 0 {
			return err
		}
		for _, r := range rs {
			if to != 0 && r.Seq > to {
				return nil
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		from = rs[len(rs)-1].Seq + 1
	}
}

// Export implements journal.Admin: ErrRouterAdmin.
func (*routerStore) Export(context.Context, io.Writer, journal.ExportOptions) (journal.ExportManifest, error) {
	return journal.ExportManifest{}, ErrRouterAdmin
}

// WriteCheckpoint implements journal.Admin: ErrRouterAdmin.
func (*routerStore) WriteCheckpoint(context.Context, ed25519.PrivateKey) (journal.Checkpoint, error) {
	return journal.Checkpoint{}, ErrRouterAdmin
}

// Checkpoints implements journal.Admin: none.
func (*routerStore) Checkpoints() ([]journal.Checkpoint, error) { return nil, nil }

// VerifyCheckpoint implements journal.Admin: ErrRouterAdmin.
func (*routerStore) VerifyCheckpoint(context.Context, journal.Checkpoint) error {
	return ErrRouterAdmin
}
