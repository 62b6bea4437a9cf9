package vmfaultsource

import "fmt"

// verdict is what one server record says about its server.
type verdict int

const (
	// healthy clears an open episode.
	healthy verdict = iota
	// faulty raises one if none is open.
	faulty
	// unknown changes nothing: the record cannot tell (UNKNOWN, a down
	// cell, a status this version does not know).
	unknown
	// gone clears an open episode as deleted.
	gone
)

// Nova power states (OS-EXT-STS:power_state).
const (
	powerShutdown = 4
	powerCrashed  = 6
)

// stoppedStatuses are states a user asks for; faults only with
// stopped_is_fault.
var stoppedStatuses = map[string]bool{
	"SHUTOFF": true, "PAUSED": true, "SUSPENDED": true, "SHELVED": true, "SHELVED_OFFLOADED": true, "RESCUE": true,
}

// runningStatuses are healthy: the ONAP VES agent's healthy set (BUILD,
// ACTIVE, HARD_REBOOT, REBOOT, MIGRATING, PASSWORD) and the operations a
// user started that end in a running server again.
var runningStatuses = map[string]bool{
	"ACTIVE": true, "BUILD": true, "HARD_REBOOT": true, "REBOOT": true, "MIGRATING": true, "PASSWORD": true,
	"REBUILD": true, "RESIZE": true, "VERIFY_RESIZE": true, "REVERT_RESIZE": true,
}

// classify decides what a server record means and why:
//
//   - ERROR is a fault; so is a crashed guest (power_state 6) in any
//     status, and an ACTIVE server whose guest is shut down (power_state
//     4) with no task in progress, which Nova has not noticed yet.
//   - The running statuses are healthy.
//   - SHUTOFF, PAUSED, SUSPENDED, SHELVED, SHELVED_OFFLOADED and RESCUE
//     are healthy (a user asked for them) unless stoppedIsFault.
//   - DELETED and SOFT_DELETED are gone.
//   - UNKNOWN is unknown: since microversion 2.69 it is also how Nova
//     shows every server of a cell it cannot reach. So is any status Nova
//     does not document.
func classify(s server, stoppedIsFault bool) (verdict, string) {
	if s.PowerState != nil && *s.PowerState == powerCrashed && s.Status != "DELETED" && s.Status != "SOFT_DELETED" {
		return faulty, "guest crashed (power_state CRASHED)"
	}
	switch st := s.Status; {
	case st == "ERROR":
		if s.Fault != nil && s.Fault.Message != "" {
			return faulty, fmt.Sprintf("status ERROR: %s", s.Fault.Message)
		}
		return faulty, "status ERROR"
	case st == "ACTIVE" && s.PowerState != nil && *s.PowerState == powerShutdown && s.TaskState == nil:
		return faulty, "status ACTIVE but the guest is shut down (power_state SHUTDOWN)"
	case runningStatuses[st]:
		return healthy, "status " + st
	case stoppedStatuses[st]:
		if stoppedIsFault {
			return faulty, "status " + st
		}
		return healthy, "status " + st
	case st == "DELETED" || st == "SOFT_DELETED":
		return gone, "status " + st
	case st == "UNKNOWN":
		return unknown, "status UNKNOWN (the server's cell may be down)"
	}
	return unknown, fmt.Sprintf("undocumented status %q", s.Status)
}
