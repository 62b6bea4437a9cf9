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
	// sem bounds the polls in flight.
	sem chan struct{}
}

// watcher is one watch entry and its open episodes (server id ->
// episode). Only its own goroutine touches raised.
type watcher struct {
	entry   WatchEntry
	key     string
	project string // tenant name, or "" for auth's project
	every   time.Duration
	raised  map[string]episode
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
	for _, w := range cfg.Watch {
		every := w.Interval
		if every == 0 {
			every = cfg.Interval
		}
		s.watchers = append(s.watchers, &watcher{entry: w, key: w.key(cfg.Auth.project()), project: w.Tenant, every: every, raised: map[string]episode{}})
	}
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

// Run implements pipeline.Source: it restores the open episodes, clears
// those of entries no longer watched, then polls every entry on its own
// interval until ctx ends.
func (s *openStackSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	if s.nova.http.client == nil {
		if err := s.Provision(ctx); err != nil {
			return err
		}
	}
	defer s.nova.http.client.CloseIdleConnections()
	orphans, err := s.restore(ctx, host)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if len(orphans) > 0 && !s.retry.run(ctx, "clear unwatched", func(ctx context.Context) error { return s.clearOrphans(ctx, host, orphans) }) {
		return nil
	}
	var wg sync.WaitGroup
	for _, w := range s.watchers {
		wg.Go(func() { s.loop(ctx, host, w) })
	}
	wg.Wait()
	return nil
}

// orphan is an open episode of a watch entry that is no longer configured.
type orphan struct {
	watch string
	ep    episode
}

// restore loads the open episodes into their watchers and returns those
// of entries no longer configured.
func (s *openStackSource) restore(ctx context.Context, host pipeline.SourceHost) ([]orphan, error) {
	state, err := host.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("load vmfault state: %w", err)
	}
	byKey := make(map[string]*watcher, len(s.watchers))
	for _, w := range s.watchers {
		byKey[w.key] = w
	}
	var orphans []orphan
	for _, k := range slices.Sorted(maps.Keys(state)) {
		watch, id, ok := splitEpisodeKey(k)
		if !ok {
			continue
		}
		ep, err := decodeEpisode(state[k])
		if err != nil || ep.ServerID != id {
			s.set.Logger.Warn("vmfault state ignored", slog.String("key", k), slog.Any("error", err))
			continue
		}
		if w, ok := byKey[watch]; ok {
			w.raised[id] = ep
			continue
		}
		orphans = append(orphans, orphan{watch: watch, ep: ep})
	}
	return orphans, nil
}

// clearOrphans clears (and deletes the state of) episodes whose watch
// entry was removed from the configuration.
func (s *openStackSource) clearOrphans(ctx context.Context, host pipeline.SourceHost, orphans []orphan) error {
	now := s.set.Clock.Now().UTC()
	var events []pipeline.Event
	var state []pipeline.StateUpdate
	for _, o := range orphans {
		e, err := clearEvent(o.watch, o.ep, nil, ClearUnwatched, now)
		if err != nil {
			return err
		}
		events = append(events, e)
		state = append(state, pipeline.StateUpdate{Key: episodeKey(o.watch, o.ep.ServerID), Delete: true})
	}
	if _, err := host.Emit(ctx, events, state...); err != nil {
		return fmt.Errorf("%w: %w", errEmit, err)
	}
	s.tel.add(ctx, s.tel.cleared, int64(len(events)), attribute.String("reason", ClearUnwatched))
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
// imply, with their state, in one batch. w.raised changes only after the
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
	changes, err := s.observe(ctx, w)
	<-s.sem
	if err != nil {
		return err
	}
	span.SetAttributes(attribute.Int("sluice.vmfault.changes", len(changes)))
	if len(changes) == 0 {
		return nil
	}
	return s.commit(ctx, host, w, changes)
}

// change is one raise (open != nil) or clear of w's episodes.
type change struct {
	id     string
	open   *episode
	record *server // the server's record, for a clear
	reason string  // clear reason
}

// observe fetches w's servers and returns the changes to its episodes.
// Open episodes whose server is missing from the answer are confirmed
// with GET /servers/{id}: only a 404 (or a DELETED record) is a deletion.
func (s *openStackSource) observe(ctx context.Context, w *watcher) ([]change, error) {
	var seen []server
	switch {
	case w.entry.All:
		all, err := s.nova.list(ctx, w.project, "")
		if err != nil {
			return nil, err
		}
		seen = all
	case isServerID(w.entry.Server):
		srv, found, err := s.nova.show(ctx, w.project, w.entry.Server)
		if err != nil {
			return nil, err
		}
		if found {
			seen = []server{srv}
		}
	default:
		named, err := s.nova.byName(ctx, w.project, w.entry.Server)
		if err != nil {
			return nil, err
		}
		seen = named
	}
	now := s.set.Clock.Now().UTC()
	var out []change
	present := make(map[string]bool, len(seen))
	for i := range seen {
		present[seen[i].ID] = true
		if c, ok := s.judge(ctx, w, &seen[i], now); ok {
			out = append(out, c)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(w.raised)) {
		if present[id] {
			continue
		}
		srv, found, err := s.nova.show(ctx, w.project, id)
		if err != nil {
			return nil, err
		}
		switch {
		case !found:
			out = append(out, change{id: id, reason: ClearDeleted})
		case !w.entry.All && !isServerID(w.entry.Server) && srv.Name != w.entry.Server:
			out = append(out, change{id: id, record: &srv, reason: ClearUnwatched}) // renamed away
		default:
			if c, ok := s.judge(ctx, w, &srv, now); ok {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// judge returns the change one record makes to w's episodes, if any.
func (s *openStackSource) judge(ctx context.Context, w *watcher, srv *server, now time.Time) (change, bool) {
	v, reason := classify(*srv, s.cfg.StoppedIsFault)
	_, open := w.raised[srv.ID]
	switch {
	case v == faulty && !open:
		ep := newEpisode(*srv, reason, now)
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

// commit emits the changes' events with their state updates, then applies
// them to w.
func (s *openStackSource) commit(ctx context.Context, host pipeline.SourceHost, w *watcher, changes []change) error {
	now := s.set.Clock.Now().UTC()
	events := make([]pipeline.Event, 0, len(changes))
	state := make([]pipeline.StateUpdate, 0, len(changes))
	for _, c := range changes {
		key := episodeKey(w.key, c.id)
		if c.open != nil {
			b, err := c.open.encode()
			if err != nil {
				return err
			}
			e, err := raiseEvent(w.key, *c.open)
			if err != nil {
				return err
			}
			events, state = append(events, e), append(state, pipeline.StateUpdate{Key: key, Value: b})
			continue
		}
		e, err := clearEvent(w.key, w.raised[c.id], c.record, c.reason, now)
		if err != nil {
			return err
		}
		events, state = append(events, e), append(state, pipeline.StateUpdate{Key: key, Delete: true})
	}
	if _, err := host.Emit(ctx, events, state...); err != nil {
		return fmt.Errorf("%w: %w", errEmit, err)
	}
	for _, c := range changes {
		if c.open != nil {
			w.raised[c.id] = *c.open
			s.tel.add(ctx, s.tel.raised, 1)
			s.set.Logger.Info("vm fault raised", slog.String("server", c.id), slog.String("name", c.open.ServerName), slog.String("reason", c.open.Reason))
			continue
		}
		delete(w.raised, c.id)
		s.tel.add(ctx, s.tel.cleared, 1, attribute.String("reason", c.reason))
		s.set.Logger.Info("vm fault cleared", slog.String("server", c.id), slog.String("reason", c.reason))
	}
	return nil
}
