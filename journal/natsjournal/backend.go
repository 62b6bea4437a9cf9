package natsjournal

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// Backend is the journal backend "nats": the bbolt journal of
// journal.BBolt, and, when the engine opens it (journal.ReadWrite), a
// forwarder publishing every record to the fleet stream. Tools
// (ReadOnly, Existing) get the plain bbolt journal and forward nothing.
type Backend struct{}

var _ journal.Backend = Backend{}

// Name implements journal.Backend.
func (Backend) Name() string { return journal.BackendNATS }

// CheckFree implements journal.Backend (the bbolt journal's lock).
func (Backend) CheckFree(ctx context.Context, cfg journal.Config) error {
	if cfg.NATS.Role == fleet.RoleRouter {
		return nil // no local journal to lock
	}
	return journal.BBolt{}.CheckFree(ctx, cfg)
}

// Open implements journal.Backend. It opens the bbolt journal, reads or
// stores the agent id, and starts the forwarder; it does not wait for
// NATS (an unreachable server is a backlog, not an error).
//
// With journal.nats.role: router it opens no local journal: the Router on
// the fleet stream (router_backend.go), in every mode.
func (Backend) Open(ctx context.Context, cfg journal.Config, mode journal.Mode, set pipeline.Settings) (journal.Store, error) {
	if cfg.NATS.Role == fleet.RoleRouter {
		return openRouter(ctx, cfg.NATS, set.WithDefaults())
	}
	inner, err := journal.BBolt{}.Open(ctx, cfg, mode, set)
	if err != nil || mode != journal.ReadWrite {
		return inner, err
	}
	s, err := start(ctx, inner, cfg.NATS, set.WithDefaults())
	if err != nil {
		return nil, errors.Join(err, inner.Close(ctx))
	}
	return s, nil
}

// Store is the nats backend's journal: the bbolt journal with its
// forwarder. AgentID says under which id it publishes.
type Store struct {
	journal.Store
	agent  string
	nc     *nats.Conn
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	tel    *telemetry
}

// AgentID returns the agent id stored in the journal.
func (s *Store) AgentID() string { return s.agent }

func start(ctx context.Context, j journal.Store, cfg fleet.AgentConfig, set pipeline.Settings) (*Store, error) {
	log := set.Logger.With("component", "fleet")
	agent, err := agentID(ctx, j, cfg.AgentID)
	if err != nil {
		return nil, err
	}
	nc, err := fleet.Connect(ctx, cfg.Conn, "sluice agent "+agent, log, fleet.PublisherOptions()...)
	if err != nil {
		return nil, err
	}
	pub, err := fleet.NewPublisher(nc, fleet.PublisherConfig{Stream: cfg.Stream.Name, MaxInFlight: cfg.MaxInFlight, AckTimeout: cfg.AckTimeout, Domain: cfg.Domain})
	if err != nil {
		nc.Close()
		return nil, err
	}
	tel, err := newTelemetry(set.MeterProvider, set.Clock.Now, func(ctx context.Context) (uint64, error) {
		st, err := j.Stats(ctx)
		return st.Last, err
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("fleet telemetry: %w", err)
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Store{Store: j, agent: agent, nc: nc, cancel: cancel, done: make(chan struct{}), tel: tel}
	f := &forwarder{
		j: j, pub: pub, cfg: cfg, agent: agent, subject: cfg.Stream.Subject(agent),
		log: log.With("agent", agent), clock: set.Clock, tel: tel,
	}
	log.Info("forwarding the journal to the fleet stream", "agent", agent, "stream", cfg.Stream.Name,
		"subject", f.subject, "servers", fleet.RedactURL(cfg.Conn.URL))
	go func() {
		defer close(s.done)
		f.run(fctx)
	}()
	return s, nil
}

// Close stops the forwarder (records published and not yet acknowledged
// are sent again by the next start, de-duplicated by their ids), closes
// the NATS connection and then the journal.
func (s *Store) Close(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		s.cancel()
		select {
		case <-s.done:
		case <-ctx.Done():
		}
		s.nc.Close()
		if s.tel.reg != nil {
			err = s.tel.reg.Unregister()
		}
	})
	return errors.Join(err, s.Store.Close(ctx))
}
