package haproxysink

import (
	"fmt"

	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Encoder = (*sink)(nil)

// Encode implements pipeline.Encoder: for each delivery in order, the
// haproxy.cfg Deliver would write for an UPDATE (rendered from a copy of
// the sink's load balancer state, so an UPDATE while suspended shows the
// configuration without load balancers that goes live), and one line
// saying what Deliver would do for any other action or event. It assumes
// every request before it applies; it reads no file, runs no haproxy and
// changes no state. A request that does not decode is an error.
func (s *sink) Encode(batch []pipeline.Delivery) ([]byte, error) {
	st := s.current()
	var out []byte
	for i := range batch {
		e := &batch[i].Event
		if e.Type != libra.EventRequest {
			out = fmt.Appendf(out, "%s event: not a load balancer request, nothing to do\n", e.Type)
			continue
		}
		ev, err := libra.ParseRequestEvent(e.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", e.Sequence, err)
		}
		var changes bool
		st, changes = next(st, &ev)
		switch {
		case ev.Action == libra.ActionUpdate:
			out = append(out, render(s.params, st.live())...)
		case changes:
			out = fmt.Appendf(out, "%s: write %s with %d load balancers live (suspended: %t) and reload haproxy\n",
				ev.Action, s.cfg.ConfigPath, len(st.live()), st.suspended)
		default:
			out = fmt.Appendf(out, "%s: %s\n", ev.Action, describe(ev.Action, &st))
		}
	}
	return out, nil
}

// describe says what Deliver does for an action that leaves the
// configuration as it is.
func describe(a libra.Action, st *lbState) string {
	switch a {
	case libra.ActionStats:
		if st.deleted {
			return "reply DELETED"
		}
		return "read the node statuses from the stats socket and reply with them"
	case libra.ActionMetrics:
		return "read the traffic counters from the stats socket and reply with them"
	case libra.ActionArchive:
		return "reply FAIL (archiving is not supported)"
	}
	return "nothing to do"
}
