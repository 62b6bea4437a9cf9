package vmfaultsource

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// openStackSource polls Nova for the servers of its watch entries and
// raises and clears their fault episodes.
type openStackSource struct {
	set      pipeline.Settings
	cfg      Config
	nova     *novaClient
	tel      *telemetry
	retry    *retrier
	watchers []*watcher
	book     *book
	// sem bounds the polls in flight.
	sem chan struct{}
}

// watcher is one watch entry, polled by its own goroutine.
type watcher struct {
	entry   WatchEntry
	key     string
	project string // tenant name, or "" for auth's project
	every   time.Duration
}

func newOpenStackSource(set pipeline.Settings, cfg Config) (*openStackSource, error) {
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("vmfault telemetry: %w", err)
	}
	doer := &httpDoer{timeout: cfg.Timeout, limit: int64(cfg.MaxResponseBytes), now: set.Clock.Now}
	s := &openStackSource{
		set: set, cfg: cfg, tel: tel,
		nova:  &novaClient{ks: &keystone{http: doer, auth: cfg.Auth}, http: doer, microversion: cfg.Microversion, pageSize: cfg.PageSize},
		retry: &retrier{cfg: cfg.Retry, clock: set.Clock, tel: tel, log: set.Logger},
		sem:   make(chan struct{}, cfg.Concurrency),
	}
	if cfg.TLS.InsecureSkipVerify {
		set.Logger.Warn("TLS verification to Keystone and Nova is off")
	}
	keys := make([]string, 0, len(cfg.Watch))
	for _, w := range cfg.Watch {
		every := w.Interval
		if every == 0 {
			every = cfg.Interval
		}
		s.watchers = append(s.watchers, &watcher{entry: w, key: w.key(cfg.Auth.project()), project: w.Tenant, every: every})
		keys = append(keys, w.key(cfg.Auth.project()))
	}
	s.book = newBook(keys)
	return s, nil
}

// Provision implements pipeline.Provisioner (Provision(ctx) error): it
// reads the TLS files and builds the HTTP client, so that a missing CA
// bundle is reported before Run, by `sluice validate` too. It connects to
// nothing. Run provisions a source that was not provisioned.
func (s *openStackSource) Provision(ctx context.Context) error {
	if err := s.cfg.TLS.Provision(ctx); err != nil {
		return fmt.Errorf("provision vmfault source: %w", err)
	}
	tc, err := s.cfg.TLS.Client()
	if err != nil {
		return fmt.Errorf("provision vmfault source: %w", err)
	}
	s.nova.http.client = newHTTPClient(tc)
	return nil
}

// Run implements pipeline.Source: it restores the open episodes, then
// polls every entry on its own interval until ctx ends. Episodes of
// entries no longer configured are resolved once every entry answered.
func (s *openStackSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	if s.nova.http.client == nil {
		if err := s.Provision(ctx); err != nil {
			return err
		}
	}
	defer s.nova.http.client.CloseIdleConnections()
	state, err := host.State(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("load vmfault state: %w", err)
	}
	s.book.restore(state, s.set.Logger)
	var wg sync.WaitGroup
	for _, w := range s.watchers {
		wg.Go(func() { s.loop(ctx, host, w) })
	}
	wg.Wait()
	return nil
}

// loop polls w now and then every w.every after the previous poll ended.
func (s *openStackSource) loop(ctx context.Context, host pipeline.SourceHost, w *watcher) {
	for {
		if !s.retry.run(ctx, w.key, func(ctx context.Context) error { return s.poll(ctx, host, w) }) {
			return
		}
		if !sleep(ctx, s.set.Clock, w.every) {
			return
		}
	}
}

// poll observes w's servers once and emits the raises and clears they
// imply, with their state, in one batch. The book changes only after the
// batch is durable, so a failed poll leaves everything as it was.
func (s *openStackSource) poll(ctx context.Context, host pipeline.SourceHost, w *watcher) (err error) {
	ctx, span := s.tel.tracer.Start(ctx, "vmfault.poll", trace.WithAttributes(
		attribute.String("sluice.source", s.set.ID), attribute.String("sluice.vmfault.watch", w.key)))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, errorReason(err))
		}
		span.End()
	}()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	start := s.book.begin()
	ans, err := s.observe(ctx, w)
	<-s.sem
	if err != nil {
		s.book.abandon(start)
		return err
	}
	ans.start = start
	changes, err := s.apply(ctx, host, w, &ans)
	span.SetAttributes(attribute.Int("sluice.vmfault.changes", changes))
	return err
}

// apply decides and commits what reading a of w changes, and returns the
// number of changes. The reading is settled only once its changes are
// durable; a failed commit abandons it and leaves the book as it was.
func (s *openStackSource) apply(ctx context.Context, host pipeline.SourceHost, w *watcher, a *reading) (int, error) {
	s.book.mu.Lock()
	defer s.book.mu.Unlock()
	changes := s.decide(ctx, w, a)
	if len(changes) > 0 || len(s.book.drop) > 0 {
		if err := s.commit(ctx, host, w, changes); err != nil {
			s.book.fresh.abandon(a.start)
			return len(changes), err
		}
	}
	s.book.fresh.settle(a.start, changes)
	return len(changes), nil
}

// reading is what one poll of a watch entry read: the servers listed, and
// the records (or 404s) of the episodes it owns that the listing lacked.
type reading struct {
	listed  []server
	missing []probe
	// start is the reading's freshness ticket.
	start uint64
}

// probe is a GET /servers/{id} of an owned episode's server.
type probe struct {
	id    string
	srv   server
	found bool
}

// change is one raise (open != nil), handover (to != "") or clear of an
// episode.
type change struct {
	id     string
	open   *episode
	to     string  // handover: the entry that owns the episode from now on
	record *server // the server's record, for a clear
	reason string  // clear reason
}

// observe fetches w's servers. Episodes w owns whose server is missing
// from the answer are read with GET /servers/{id}: only a 404 (or a
// DELETED record) is a deletion.
func (s *openStackSource) observe(ctx context.Context, w *watcher) (reading, error) {
	var a reading
	switch {
	case w.entry.All:
		all, err := s.nova.list(ctx, w.project, "")
		if err != nil {
			return a, err
		}
		a.listed = all
	case isServerID(w.entry.Server):
		srv, found, err := s.nova.show(ctx, w.project, w.entry.Server)
		if err != nil {
			return a, err
		}
		if found {
			a.listed = []server{srv}
		}
	default:
		named, err := s.nova.byName(ctx, w.project, w.entry.Server)
		if err != nil {
			return a, err
		}
		a.listed = named
	}
	present := make(map[string]bool, len(a.listed))
	for i := range a.listed {
		present[a.listed[i].ID] = true
	}
	for _, id := range s.book.ownedBy(w.key) {
		if present[id] {
			continue
		}
		srv, found, err := s.nova.show(ctx, w.project, id)
		if err != nil {
			return a, err
		}
		a.missing = append(a.missing, probe{id: id, srv: srv, found: found})
	}
	return a, nil
}

// decide returns the changes w's answer makes to the book (mu held): each
// server at most once, and none about a server whose episode another
// entry changed since this answer was asked for (freshness). It records the answer's servers as w's, and once
// every entry has answered it resolves the episodes of entries no longer
// configured.
func (s *openStackSource) decide(ctx context.Context, w *watcher, a *reading) []change {
	b := s.book
	now := s.set.Clock.Now().UTC()
	var out []change
	present := make(map[string]bool, len(a.listed))
	for i := range a.listed {
		srv := &a.listed[i]
		if present[srv.ID] {
			continue
		}
		present[srv.ID] = true
		if b.fresh.stale(a.start, srv.ID) {
			continue // another entry changed its episode since this answer was asked for
		}
		if c, ok := s.judge(ctx, w, srv, now); ok {
			out = append(out, c)
		}
	}
	b.seen[w.key] = present
	touched := make(map[string]bool, len(out))
	for _, c := range out {
		touched[c.id] = true
	}
	for _, p := range a.missing {
		if ep, ok := b.open[p.id]; !ok || ep.owner != w.key || present[p.id] {
			continue // cleared or handed over meanwhile, or listed now
		}
		if b.fresh.stale(a.start, p.id) {
			continue
		}
		touched[p.id] = true
		switch {
		case !p.found:
			out = append(out, change{id: p.id, reason: ClearDeleted})
		case !w.entry.All && !isServerID(w.entry.Server) && p.srv.Name != w.entry.Server: // renamed away
			out = append(out, s.handOver(w.key, p.id, &p.srv))
		default:
			if c, ok := s.judge(ctx, w, &p.srv, now); ok {
				out = append(out, c)
			}
		}
	}
	if b.orphans && b.allAnswered() {
		for _, id := range slices.Sorted(maps.Keys(b.open)) {
			if ep := b.open[id]; !b.configured[ep.owner] && !touched[id] {
				out = append(out, s.handOver(ep.owner, id, nil))
			}
		}
	}
	return out
}

// handOver gives the episode of id, owned by from, to another entry that
// lists the server, or clears it as unwatched when none does.
func (s *openStackSource) handOver(from, id string, record *server) change {
	if to, ok := s.book.heir(from, id); ok {
		return change{id: id, to: to}
	}
	return change{id: id, record: record, reason: ClearUnwatched}
}

// judge returns the change one record makes to the server's episode, if
// any, whichever entry owns it (mu held).
func (s *openStackSource) judge(ctx context.Context, w *watcher, srv *server, now time.Time) (change, bool) {
	v, reason := classify(*srv, s.cfg.StoppedIsFault)
	_, open := s.book.open[srv.ID]
	switch {
	case v == faulty && !open:
		ep := newEpisode(w.key, *srv, reason, now)
		return change{id: srv.ID, open: &ep}, true
	case v == healthy && open:
		return change{id: srv.ID, record: srv, reason: ClearRecovered}, true
	case v == gone && open:
		return change{id: srv.ID, record: srv, reason: ClearDeleted}, true
	case v == unknown:
		s.tel.add(ctx, s.tel.unknown, 1)
		s.set.Logger.Debug("vmfault server state unknown; episode unchanged", slog.String("server", srv.ID), slog.String("reason", reason))
	}
	return change{}, false
}

// commit emits the changes' events with their state updates (and the
// deletion of duplicate episodes' state), then applies them to the book
// (mu held).
func (s *openStackSource) commit(ctx context.Context, host pipeline.SourceHost, w *watcher, changes []change) error {
	b := s.book
	now := s.set.Clock.Now().UTC()
	events := make([]pipeline.Event, 0, len(changes))
	state := make([]pipeline.StateUpdate, 0, len(changes)+len(b.drop))
	for _, k := range b.drop {
		state = append(state, pipeline.StateUpdate{Key: k, Delete: true})
	}
	for _, c := range changes {
		switch {
		case c.open != nil:
			v, err := c.open.encode()
			if err != nil {
				return err
			}
			e, err := raiseEvent(w.key, *c.open)
			if err != nil {
				return err
			}
			events, state = append(events, e), append(state, pipeline.StateUpdate{Key: episodeKey(w.key, c.id), Value: v})
		case c.to != "":
			ep := b.open[c.id]
			v, err := ep.encode()
			if err != nil {
				return err
			}
			state = append(state, pipeline.StateUpdate{Key: episodeKey(ep.owner, c.id), Delete: true},
				pipeline.StateUpdate{Key: episodeKey(c.to, c.id), Value: v})
		default:
			ep := b.open[c.id]
			e, err := clearEvent(ep.owner, ep, c.record, c.reason, now)
			if err != nil {
				return err
			}
			events, state = append(events, e), append(state, pipeline.StateUpdate{Key: episodeKey(ep.owner, c.id), Delete: true})
		}
	}
	if _, err := host.Emit(ctx, events, state...); err != nil {
		return fmt.Errorf("%w: %w", errEmit, err)
	}
	b.drop = nil
	for _, c := range changes {
		switch {
		case c.open != nil:
			b.open[c.id] = *c.open
			s.tel.add(ctx, s.tel.raised, 1)
			s.set.Logger.Info("vm fault raised", slog.String("server", c.id), slog.String("name", c.open.ServerName), slog.String("reason", c.open.Reason))
		case c.to != "":
			ep := b.open[c.id]
			s.set.Logger.Info("vm fault episode handed over", slog.String("server", c.id), slog.String("from", ep.owner), slog.String("to", c.to))
			ep.owner = c.to
			b.open[c.id] = ep
		default:
			delete(b.open, c.id)
			s.tel.add(ctx, s.tel.cleared, 1, attribute.String("reason", c.reason))
			s.set.Logger.Info("vm fault cleared", slog.String("server", c.id), slog.String("reason", c.reason))
		}
	}
	b.orphans = false
	for _, ep := range b.open {
		b.orphans = b.orphans || !b.configured[ep.owner]
	}
	return nil
}
