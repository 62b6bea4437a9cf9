package natssource

import (
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/pipeline"
)

// agentKeyPrefix starts the source-state keys holding, per agent, the
// highest agent sequence this router has appended.
const agentKeyPrefix = "agent/"

// verdict is what the order check says about one record.
type verdict int

const (
	inOrder verdict = iota // the agent's next record (or its first here)
	gap                    // records are missing before it (taken by another router, or dropped by the agent's retention)
	late                   // at or below the last appended: a redelivery, or a record another router nacked
)

// order tracks, per agent, the highest sequence appended to this
// router's journal. It is the source's state (committed with the events,
// so it never disagrees with the journal).
//
// A late record is appended all the same: a nacked batch comes back
// after later records, and a consumer shared by several routers hands
// each a subset, so "at or below" never proves "already here". The
// sinks' idempotency keys (the agent's event source and id, which the
// router keeps) make a real duplicate harmless downstream.
type order struct {
	high map[string]uint64
}

func newOrder(state map[string][]byte) *order {
	o := &order{high: make(map[string]uint64)}
	for k, v := range state {
		if agent, ok := strings.CutPrefix(k, agentKeyPrefix); ok {
			if n, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				o.high[agent] = n
			}
		}
	}
	return o
}

// check judges agent's record seq against what pending (this batch so
// far) and the journal hold, and returns the verdict and how many records
// are missing before it.
func (o *order) check(pending map[string]uint64, agent string, seq uint64) (verdict, uint64) {
	h, ok := pending[agent]
	if !ok {
		h, ok = o.high[agent]
	}
	switch {
	case !ok || seq == h+1:
		return inOrder, 0
	case seq > h+1:
		return gap, seq - h - 1
	}
	return late, 0
}

// updates returns the state updates recording pending's sequences.
func (o *order) updates(source string, pending map[string]uint64) []pipeline.StateUpdate {
	out := make([]pipeline.StateUpdate, 0, len(pending))
	for agent, seq := range pending {
		if seq > o.high[agent] {
			out = append(out, pipeline.SourceStateUpdate(source, agentKeyPrefix+agent, []byte(strconv.FormatUint(seq, 10))))
		}
	}
	return out
}

// commit applies pending after its batch was appended.
func (o *order) commit(pending map[string]uint64) {
	for agent, seq := range pending {
		o.high[agent] = max(o.high[agent], seq)
	}
}
