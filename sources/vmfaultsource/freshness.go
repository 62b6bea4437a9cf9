package vmfaultsource

// freshness orders the readings of watch entries that poll concurrently,
// so that no server is judged on an answer older than one already
// applied. Entries read Nova outside the book's lock: an entry that read
// a server as faulty can reach the book after another entry read it
// healthy and cleared its episode, and would raise it again from the
// stale answer.
//
// Each reading takes a ticket when its requests are about to be sent, and
// each change a reading makes to an episode (raise, clear, handover) is
// stamped with a ticket when it becomes durable. A reading does not judge
// a server whose episode changed after its own ticket was taken: its
// answer may predate what that change was decided on. It is skipped for
// that server only; the entry's next poll, asked after the change, judges
// it. Answers that change nothing stamp nothing, so an entry is never
// starved by another that merely polls more often: only a new change,
// which is an event, makes an answer stale. All methods are called with
// the book's mu held.
type freshness struct {
	tick uint64
	// inFlight holds the start tickets of the readings not yet applied
	// or abandoned.
	inFlight map[uint64]struct{}
	// changed: server id -> the ticket at which its episode last
	// changed. Entries older than every reading in flight are dropped:
	// they can make no reading stale.
	changed map[string]uint64
}

// begin returns the start ticket of a reading about to send its requests.
func (f *freshness) begin() uint64 {
	if f.inFlight == nil {
		f.inFlight, f.changed = map[uint64]struct{}{}, map[string]uint64{}
	}
	f.tick++
	f.inFlight[f.tick] = struct{}{}
	return f.tick
}

// stale reports whether the reading of ticket start must not judge id:
// its episode changed after start was taken.
func (f *freshness) stale(start uint64, id string) bool {
	return f.changed[id] > start
}

// settle stamps the changes the reading of ticket start made durable and
// ends it.
func (f *freshness) settle(start uint64, changes []change) {
	f.tick++
	for _, c := range changes {
		f.changed[c.id] = f.tick
	}
	f.abandon(start)
}

// abandon ends the reading of ticket start without applying it (its poll
// failed) and drops the entries no reading in flight can be stale to.
func (f *freshness) abandon(start uint64) {
	delete(f.inFlight, start)
	oldest := f.tick + 1
	for t := range f.inFlight {
		oldest = min(oldest, t)
	}
	for id, t := range f.changed {
		if t < oldest {
			delete(f.changed, id)
		}
	}
}
