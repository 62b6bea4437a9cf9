package kvpsink

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// procUptime is where the uptime is read from, as cloud-init's
// util.uptime() does.
const procUptime = "/proc/uptime"

// bootClock is when this boot started, computed as cloud-init does.
type bootClock struct {
	// at is time.time() - uptime, in epoch seconds.
	at float64
	// incarnation is int(at): the key's second field.
	incarnation int64
}

// readBootClock computes the boot time from now and the first field of
// the uptime file, as cloud-init's _get_incarnation_no and
// _truncate_guest_pool_file do: int(time.time() - float(uptime)).
func readBootClock(now time.Time, uptimePath string) (bootClock, error) {
	b, err := os.ReadFile(uptimePath)
	if err != nil {
		return bootClock{}, fmt.Errorf("read uptime: %w", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return bootClock{}, fmt.Errorf("read uptime: %s is empty", uptimePath)
	}
	up, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || math.IsNaN(up) || math.IsInf(up, 0) || up < 0 {
		return bootClock{}, fmt.Errorf("read uptime: %s: %q is not a number of seconds", uptimePath, fields[0])
	}
	return bootClockAt(now, up), nil
}

// bootClockAt is the boot clock for a wall time and an uptime in seconds.
func bootClockAt(now time.Time, uptime float64) bootClock {
	at := float64(now.UnixNano())/1e9 - uptime
	return bootClock{at: at, incarnation: int64(at)} // int() truncates toward zero
}

// isAfter reports whether the boot started after t (cloud-init:
// getmtime(file) < time.time() - uptime).
func (b bootClock) isAfter(t time.Time) bool {
	return float64(t.UnixNano())/1e9 < b.at
}
