package hostpluginsink

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// channelKeyPrefix prefixes an observation's name in the sink state.
const channelKeyPrefix = "channel/"

// errChannelVersion is returned for a stored channel of an unknown format.
var errChannelVersion = errors.New("unknown observation state version")

// storedChannel is a channel as kept in the sink state: times as Unix
// nanoseconds, 0 for none.
type storedChannel struct {
	V             int   `json:"v"`
	FailingSince  int64 `json:"failing_since,omitempty"`
	LastReport    int64 `json:"last_report,omitempty"`
	Latest        int64 `json:"latest,omitempty"`
	Posted        bool  `json:"posted,omitempty"`
	PostedHealthy bool  `json:"posted_healthy,omitempty"`
}

func encodeChannel(c *channel) []byte {
	b, _ := json.Marshal(storedChannel{ // cannot fail: integers and booleans
		V: 1, FailingSince: unixNano(c.failingSince), LastReport: unixNano(c.lastReport), Latest: unixNano(c.latest),
		Posted: c.posted, PostedHealthy: c.postedHealthy,
	})
	return b
}

func decodeChannel(b []byte) (channel, error) {
	var sc storedChannel
	if err := json.Unmarshal(b, &sc); err != nil {
		return channel{}, fmt.Errorf("decode observation state: %w", err)
	}
	if sc.V != 1 {
		return channel{}, fmt.Errorf("%w %d", errChannelVersion, sc.V)
	}
	return channel{
		failingSince: fromUnixNano(sc.FailingSince), lastReport: fromUnixNano(sc.LastReport), latest: fromUnixNano(sc.Latest),
		posted: sc.Posted, postedHealthy: sc.PostedHealthy,
	}, nil
}

// sameDurable reports whether c and o store the same state.
func (c *channel) sameDurable(o *channel) bool {
	return c.failingSince.Equal(o.failingSince) && c.lastReport.Equal(o.lastReport) && c.latest.Equal(o.latest) &&
		c.posted == o.posted && c.postedHealthy == o.postedHealthy
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
