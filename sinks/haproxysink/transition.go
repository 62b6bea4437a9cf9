package haproxysink

import "github.com/sluice-dev/sluice/internal/libra"

// next returns the load balancer state after request ev, and whether ev
// is an action that rewrites the configuration (UPDATE, SUSPEND, ENABLE,
// DELETE); for the others st is returned as it is. It changes nothing.
func next(st lbState, ev *libra.RequestEvent) (lbState, bool) {
	switch ev.Action {
	case libra.ActionUpdate:
		st.lbs, st.deleted = ev.LoadBalancers, false
	case libra.ActionSuspend:
		st.suspended = true
	case libra.ActionEnable:
		st.suspended = false
	case libra.ActionDelete:
		st = lbState{deleted: true}
	default:
		return st, false
	}
	return st, true
}

// live returns the load balancers the running configuration serves: none
// while suspended.
func (st *lbState) live() []libra.LoadBalancer {
	if st.suspended {
		return nil
	}
	return st.lbs
}
