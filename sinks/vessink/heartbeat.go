package vessink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// defaultReportedInterval is reported when neither the config, the
// collector nor the heartbeat itself says (VES's default).
const defaultReportedInterval = 60 * time.Second

// maxBeatIntervals bounds the intervals whose sent heartbeat is
// remembered: a day of one-minute intervals.
const maxBeatIntervals = 1440

// heartbeats holds the heartbeat interval in force and the thinning state.
// current may be read from any goroutine; decide and reset are used by
// Deliver's.
type heartbeats struct {
	configured time.Duration
	// commanded is the interval the collector asked for (nanoseconds), 0
	// when it has not.
	commanded atomic.Int64

	// sent maps an interval (its number since the epoch) to the delivery
	// key of the heartbeat sent in it; at most maxBeatIntervals, the
	// oldest forgotten first.
	sent map[int64]string
}

// current returns the interval in force: the collector's, else the
// configured one (0: none, report the source's).
func (h *heartbeats) current() time.Duration {
	if c := h.commanded.Load(); c > 0 {
		return time.Duration(c)
	}
	return h.configured
}

// decide reports whether the heartbeat with delivery key key at time t is
// sent. Of the heartbeats in one interval (aligned to the epoch) the first
// seen is sent and the others are not, whatever order their times arrive
// in; the same heartbeat delivered again (a retry, a replay) is sent
// again, so replays repeat what was sent. A heartbeat older than every
// interval remembered, when maxBeatIntervals are, is sent.
func (h *heartbeats) decide(key string, t time.Time) bool {
	c := h.current()
	if c <= 0 || t.IsZero() {
		return true
	}
	bucket := t.UnixMicro() / c.Microseconds()
	if t.UnixMicro() < 0 && t.UnixMicro()%c.Microseconds() != 0 {
		bucket-- // floor, so intervals stay aligned before the epoch
	}
	if k, ok := h.sent[bucket]; ok {
		return k == key
	}
	if h.sent == nil {
		h.sent = make(map[int64]string)
	}
	h.sent[bucket] = key
	if len(h.sent) > maxBeatIntervals {
		oldest := bucket
		for b := range h.sent {
			oldest = min(oldest, b)
		}
		delete(h.sent, oldest)
	}
	return true
}

// reset forgets the intervals: their numbering changes with the interval.
func (h *heartbeats) reset() { clear(h.sent) }

// reportedSeconds is the heartbeatInterval of a heartbeat whose source
// beats every source (0 if unknown) while interval is in force: the
// larger of the two, since thinning cannot make heartbeats more frequent,
// in whole seconds rounded up.
func reportedSeconds(interval, source time.Duration) int64 {
	d := max(interval, source)
	if d <= 0 {
		d = defaultReportedInterval
	}
	return max(1, int64((d+time.Second-1)/time.Second))
}

// command is one entry of a collector's commandList. VES 5.4.1's schema
// lists the command fields directly; its examples (and some collectors)
// wrap them in {"command": {...}}. Both are accepted; field names match
// case-insensitively.
type command struct {
	CommandType       string      `json:"commandType"`
	HeartbeatInterval json.Number `json:"heartbeatInterval"`
}

type commandEntry struct {
	command
	Command *command `json:"command"`
}

type commandResponse struct {
	CommandList []commandEntry `json:"commandList"`
}

// errBadCommand is returned by parseCommandList for a heartbeatIntervalChange
// whose interval is not a whole number of seconds between 1 and 86400.
var errBadCommand = errors.New("invalid heartbeatIntervalChange")

// parseCommandList reads a collector's answer and returns the last
// heartbeatIntervalChange interval in its commandList, if any, and the
// other command types (which the sink does not act on). A body that is not
// a JSON object (the reference collector answers "Successfully send
// event") has no commands.
func parseCommandList(body []byte) (interval time.Duration, others []string, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return 0, nil, nil
	}
	var resp commandResponse
	if json.Unmarshal(body, &resp) != nil {
		return 0, nil, nil
	}
	for _, e := range resp.CommandList {
		c := e.command
		if e.Command != nil {
			c = *e.Command
		}
		if c.CommandType != "heartbeatIntervalChange" {
			if c.CommandType != "" {
				others = append(others, c.CommandType)
			}
			continue
		}
		n, perr := strconv.ParseInt(c.HeartbeatInterval.String(), 10, 64)
		if perr != nil || n < 1 || n > int64(maxHeartbeatInterval/time.Second) {
			err = fmt.Errorf("%w: heartbeatInterval %q (want whole seconds from 1 to 86400)", errBadCommand, c.HeartbeatInterval.String())
			continue
		}
		interval = time.Duration(n) * time.Second
	}
	return interval, others, err
}
