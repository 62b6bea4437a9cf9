package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultOrphanCursorTTL is how long an orphaned cursor is kept when
// Spec.OrphanCursorTTL is zero.
const DefaultOrphanCursorTTL = 24 * time.Hour

// ToolConsumerPrefix starts the journal consumer names that belong to
// tools and other parts of Sluice rather than to sinks ("sluice:export",
// "sluice:fleet:node-1"). Sink names can never contain ':' (the config
// name rule), so these are never taken for a sink's cursor and never
// treated as orphans. Consumers named otherwise that are not sinks must
// be listed in Spec.KeepCursors.
const ToolConsumerPrefix = "sluice:"

// OrphanedSinceKey is the consumer-state key under which Run records since
// when an orphaned cursor's consumer has not been a configured sink (an
// RFC 3339 time). Keys beginning "sluice." in a sink's state are reserved
// for the runner; a sink never sees them in Settings.State.
const OrphanedSinceKey = "sluice.orphaned_since"

// isKeptConsumer reports whether consumer is a tool's or listed in
// Spec.KeepCursors.
func (p *Pipeline) isKeptConsumer(consumer string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.HasPrefix(consumer, ToolConsumerPrefix) || slices.Contains(p.spec.KeepCursors, consumer)
}

// orphanTTL is the configured TTL (negative: never remove).
func (p *Pipeline) orphanTTL() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.spec.OrphanCursorTTL == 0 {
		return DefaultOrphanCursorTTL
	}
	return p.spec.OrphanCursorTTL
}

// reconcileCursors handles the journal's cursors at Run start and then
// whenever an orphan is due: a cursor whose consumer is not a configured
// sink (nor a kept consumer) is logged at WARN with its backlog and marked
// orphaned in its own consumer state; once marked longer than the TTL it
// is deleted, so that it no longer pins retention. A configured sink
// whose cursor carries the mark (it came back) has it cleared. It returns
// when the next orphan is due (zero when none is pending).
func (p *Pipeline) reconcileCursors(ctx context.Context) (time.Time, error) {
	st, err := p.journal.Stats(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("journal stats: %w", err)
	}
	now := p.set.Clock.Now()
	ttl := p.orphanTTL()
	var due time.Time
	for _, consumer := range slices.Sorted(maps.Keys(st.Cursors)) {
		next := st.Cursors[consumer]
		if p.isKeptConsumer(consumer) {
			continue
		}
		state, err := p.journal.ConsumerState(ctx, consumer)
		if err != nil {
			return due, fmt.Errorf("consumer state %s: %w", consumer, err)
		}
		mark, marked := state[OrphanedSinceKey]
		if p.sinkNamed(consumer) != nil {
			if marked {
				if err := p.journal.CommitCursor(ctx, consumer, next, StateUpdate{Key: OrphanedSinceKey, Delete: true}); err != nil {
					return due, fmt.Errorf("clear orphan mark of %s: %w", consumer, err)
				}
				p.set.Logger.Info("sink is configured again; its cursor is no longer orphaned", slog.String("consumer", consumer))
			}
			continue
		}
		var backlog uint64
		if st.Last >= next {
			backlog = st.Last + 1 - next
		}
		since, perr := time.Parse(time.RFC3339Nano, string(mark))
		if !marked || perr != nil {
			since = now
			if err := p.journal.CommitCursor(ctx, consumer, next, StateUpdate{Key: OrphanedSinceKey, Value: []byte(now.UTC().Format(time.RFC3339Nano))}); err != nil {
				return due, fmt.Errorf("mark orphaned cursor %s: %w", consumer, err)
			}
		}
		if ttl >= 0 && !now.Before(since.Add(ttl)) {
			if err := p.journal.DeleteCursor(ctx, consumer); err != nil {
				return due, fmt.Errorf("delete orphaned cursor %s: %w", consumer, err)
			}
			p.tel.orphansRemoved.Add(ctx, 1)
			p.set.Logger.Warn("orphaned journal cursor removed: it no longer pins retention", slog.String("consumer", consumer),
				slog.Uint64("next", next), slog.Uint64("backlog", backlog), slog.Time("orphaned_since", since), slog.Duration("ttl", ttl))
			continue
		}
		attrs := []any{slog.String("consumer", consumer), slog.Uint64("next", next), slog.Uint64("backlog", backlog),
			slog.Time("orphaned_since", since)}
		if ttl >= 0 {
			at := since.Add(ttl)
			attrs = append(attrs, slog.Time("removed_at", at))
			if due.IsZero() || at.Before(due) {
				due = at
			}
		}
		if !marked || perr != nil || !p.orphansLogged {
			p.set.Logger.Warn("journal cursor of a consumer that is not a configured sink; it pins retention until removed", attrs...)
		}
	}
	p.orphansLogged = true
	return due, nil
}

// watchOrphans runs reconcileCursors again whenever an orphan is due,
// until ctx ends. A failure is logged, never fatal: delivery goes on.
// A Reload kicks it (orphansKick), since a removed sink leaves an orphan.
func (p *Pipeline) watchOrphans(ctx context.Context, due time.Time) error {
	for {
		var tc <-chan time.Time
		var t Timer
		if !due.IsZero() {
			t = p.set.Clock.NewTimer(max(0, due.Sub(p.set.Clock.Now())))
			tc = t.C()
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return nil
		case <-tc:
		case <-p.orphansKick:
			if t != nil {
				t.Stop()
			}
		}
		var err error
		if due, err = p.reconcileCursors(ctx); err != nil && ctx.Err() == nil {
			p.set.Logger.Error("orphaned journal cursors could not be handled; retrying at the next start",
				slog.String("error", err.Error()))
		}
	}
}
