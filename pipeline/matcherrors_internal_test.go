package pipeline

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stepClock is a clock tests move by hand.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time                 { return c.now }
func (c *stepClock) NewTimer(d time.Duration) Timer { return RealClock().NewTimer(d) }

// Match errors are logged at most once a minute per route, saying how
// many were not logged since.
func TestMatchErrorsLogOncePerMinutePerRoute(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	set := NopSettings("test")
	tel, err := newTelemetry(set)
	require.NoError(t, err)
	clock := &stepClock{now: time.Unix(1e9, 0)}
	m := newMatchErrors(tel, slog.New(slog.NewTextHandler(&buf, nil)), clock)
	e := &Event{ID: "x"}
	boom := errors.New("no such key")
	for range 5 {
		m.note("a", e, boom)
		clock.now = clock.now.Add(10 * time.Second)
	}
	m.note("b", e, boom)
	clock.now = clock.now.Add(20 * time.Second)
	m.note("a", e, boom)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3, buf.String())
	assert.Contains(t, lines[0], "route=a")
	assert.Contains(t, lines[1], "route=b")
	assert.Contains(t, lines[2], "route=a")
	assert.Contains(t, lines[2], "suppressed_since_last_log=4")
}
