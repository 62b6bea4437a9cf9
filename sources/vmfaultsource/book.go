package vmfaultsource

import (
	"log/slog"
	"maps"
	"slices"
	"sync"
)

// book is the open fault episodes of one openstack source: at most one
// per server, whatever the number of watch entries that cover it (a
// server matched by {all: true} and by its name is raised once). Each
// episode is owned by one watch entry, the one whose key its state key
// carries; any entry that sees the server may clear it.
//
// Watch entries poll concurrently; every decision about an episode and
// the Emit that makes it durable happen under mu, so that two entries
// never both raise the same server.
type book struct {
	mu sync.Mutex
	// open: server id -> episode (episode.owner set).
	open map[string]episode
	// seen: watch key -> the server ids of its last successful answer.
	seen map[string]map[string]bool
	// configured holds the watch keys of the configuration.
	configured map[string]bool
	// orphans is set while some episode's owner is not configured: those
	// are resolved once every entry has answered once (handed over to an
	// entry that lists the server, or cleared as unwatched).
	orphans bool
	// drop holds the state keys of duplicate episodes (a server raised by
	// two entries before one episode per server), deleted with the next
	// commit.
	drop []string
	// fresh keeps an entry's stale answer from undoing a newer one.
	fresh freshness
}

func newBook(keys []string) *book {
	b := &book{open: map[string]episode{}, seen: map[string]map[string]bool{}, configured: map[string]bool{}}
	for _, k := range keys {
		b.configured[k] = true
	}
	return b
}

// restore loads the episodes of the source's state. Of two episodes of
// one server, the one of a configured entry (else the earlier) is kept
// and the other's state is dropped at the next commit.
func (b *book) restore(state map[string][]byte, log *slog.Logger) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(state)) {
		watch, id, ok := splitEpisodeKey(k)
		if !ok {
			continue
		}
		ep, err := decodeEpisode(state[k])
		if err != nil || ep.ServerID != id {
			log.Warn("vmfault state ignored", slog.String("key", k), slog.Any("error", err))
			continue
		}
		ep.owner = watch
		if old, dup := b.open[id]; dup {
			keep, lose := old, ep
			if !b.configured[old.owner] && b.configured[ep.owner] || b.configured[old.owner] == b.configured[ep.owner] && ep.RaisedAt.Before(old.RaisedAt) {
				keep, lose = ep, old
			}
			b.drop = append(b.drop, episodeKey(lose.owner, id))
			ep = keep
		}
		b.open[id] = ep
		if !b.configured[ep.owner] {
			b.orphans = true
		}
	}
}

// begin returns the freshness ticket of a reading about to send its
// requests.
func (b *book) begin() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fresh.begin()
}

// abandon ends the reading of ticket start whose poll failed.
func (b *book) abandon(start uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fresh.abandon(start)
}

// ownedBy returns the ids of the episodes w owns.
func (b *book) ownedBy(watch string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for id, ep := range b.open {
		if ep.owner == watch {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// heir returns a configured entry other than from whose last answer
// listed id, if any (mu held).
func (b *book) heir(from, id string) (string, bool) {
	for _, k := range slices.Sorted(maps.Keys(b.seen)) {
		if k != from && b.configured[k] && b.seen[k][id] {
			return k, true
		}
	}
	return "", false
}

// allAnswered reports whether every configured entry has answered once
// (mu held).
func (b *book) allAnswered() bool {
	for k := range b.configured {
		if _, ok := b.seen[k]; !ok {
			return false
		}
	}
	return true
}
