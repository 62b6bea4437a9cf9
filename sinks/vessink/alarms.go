package vessink

import (
	"slices"
)

// Bounds of the alarm table.
const (
	// maxEpisodes is how many raise-to-clear episodes are kept per alarm,
	// so that replaying a recent range finds its episodes again.
	maxEpisodes = 4
	// maxAlarms bounds the alarms tracked; past it the alarm whose last
	// episode ended longest ago is forgotten.
	maxAlarms = 10000
)

// episode is one raise-to-clear span of an alarm, in event time.
type episode struct {
	// Start is the startEpochMicrosec of every event of the episode.
	Start int64 `json:"start"`
	// Cleared is the clear's event time; 0 while the alarm is raised.
	Cleared int64 `json:"cleared,omitempty"`
	// EventID is the raise's delivery key, the eventId of the whole
	// episode with fault_event_id: alarm.
	EventID string `json:"event_id"`
	// Condition is the raise's alarmCondition, for a clear that names none.
	Condition string `json:"condition,omitempty"`
}

// alarmTable remembers when each alarm was raised, so that its clear
// carries the raise's startEpochMicrosec (and eventId).
//
// Resolution depends only on event times: an event at time t belongs to
// the latest episode with Start <= t that was open at t (not cleared, or
// cleared at or after t). So a retried or replayed raise, re-raise or clear
// resolves to the same episode and encodes to the same bytes, as long as
// the episode is still in the table. It is used by Deliver's goroutine
// only.
type alarmTable struct {
	alarms map[string][]episode
	// dirty holds the alarms changed or forgotten since the last flush.
	dirty map[string]bool
}

func newAlarmTable() *alarmTable {
	return &alarmTable{alarms: make(map[string][]episode), dirty: make(map[string]bool)}
}

// find returns the index of the episode of key that covers time t, or -1.
func (a *alarmTable) find(key string, t int64) int {
	eps := a.alarms[key]
	for i := len(eps) - 1; i >= 0; i-- {
		if eps[i].Start <= t && (eps[i].Cleared == 0 || t <= eps[i].Cleared) {
			return i
		}
	}
	return -1
}

// raise returns the episode a raise (or re-raise) at time t belongs to,
// opening one that starts at start (t when zero or later than t) if none
// covers t.
func (a *alarmTable) raise(key string, t, start int64, eventID, condition string) episode {
	if i := a.find(key, t); i >= 0 {
		return a.alarms[key][i]
	}
	if start == 0 || start > t {
		start = t
	}
	ep := episode{Start: start, EventID: eventID, Condition: condition}
	eps := slices.Clone(a.alarms[key])
	eps = append(eps, ep)
	slices.SortStableFunc(eps, func(x, y episode) int {
		switch {
		case x.Start < y.Start:
			return -1
		case x.Start > y.Start:
			return 1
		}
		return 0
	})
	if len(eps) > maxEpisodes {
		eps = slices.Delete(eps, 0, len(eps)-maxEpisodes)
	}
	a.alarms[key] = eps
	a.dirty[key] = true
	a.evict()
	return ep
}

// clear returns the episode a clear at time t ends, closing it; ok is
// false when no raise of the alarm is known.
func (a *alarmTable) clear(key string, t int64) (episode, bool) {
	i := a.find(key, t)
	if i < 0 {
		return episode{}, false
	}
	ep := &a.alarms[key][i]
	if ep.Cleared == 0 {
		ep.Cleared = t
		a.dirty[key] = true
	}
	return *ep, true
}

// evict forgets alarms beyond maxAlarms: first those whose last episode
// was cleared longest ago, then the oldest raised.
func (a *alarmTable) evict() {
	for len(a.alarms) > maxAlarms {
		victim, best, bestOpen := "", int64(0), true
		for k, eps := range a.alarms {
			last := eps[len(eps)-1]
			open := last.Cleared == 0
			at := last.Cleared
			if open {
				at = last.Start
			}
			if victim == "" || (!open && bestOpen) || (open == bestOpen && at < best) {
				victim, best, bestOpen = k, at, open
			}
		}
		delete(a.alarms, victim)
		a.dirty[victim] = true
	}
}

// open returns how many alarms are raised now.
func (a *alarmTable) open() int {
	n := 0
	for _, eps := range a.alarms {
		if eps[len(eps)-1].Cleared == 0 {
			n++
		}
	}
	return n
}
