package probesource

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestThresholds checks the state machine with Kubernetes semantics over
// sequences of check results ("+" healthy, "-" failed): the state after
// each check.
func TestThresholds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		failure, success  int
		checks            string
		states            string // one letter per check: u unknown, H healthy, X unhealthy
		finalFails, finOK int
	}{
		{name: "first success makes healthy", failure: 3, success: 1, checks: "+", states: "H", finOK: 1},
		{name: "failures below the threshold stay unknown", failure: 3, success: 1, checks: "--", states: "uu", finalFails: 2},
		{name: "threshold reached", failure: 3, success: 1, checks: "---", states: "uuX", finalFails: 3},
		{name: "streak broken by a success", failure: 3, success: 1, checks: "+--+--+", states: "HHHHHHH", finOK: 1},
		{name: "down then up", failure: 2, success: 2, checks: "++--+-++", states: "uHHXXXXH", finOK: 2},
		{name: "success threshold from unknown", failure: 1, success: 3, checks: "+++", states: "uuH", finOK: 3},
		{name: "counts go on past the threshold", failure: 1, success: 1, checks: "-----", states: "XXXXX", finalFails: 5},
		{name: "DCAE: one failure counts", failure: 1, success: 1, checks: "+-+", states: "HXH", finOK: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newProbeState()
			now := time.Unix(1000, 0).UTC()
			var got strings.Builder
			for _, c := range tt.checks {
				now = now.Add(time.Second)
				s = s.apply(outcome{healthy: c == '+', err: "boom"}, now, tt.failure, tt.success)
				got.WriteByte(map[string]byte{StateUnknown: 'u', StateHealthy: 'H', StateUnhealthy: 'X'}[s.state])
				assert.True(t, s.failures == 0 || s.successes == 0, "one streak at a time")
			}
			assert.Equal(t, tt.states, got.String())
			assert.Equal(t, tt.finalFails, s.failures)
			assert.Equal(t, tt.finOK, s.successes)
		})
	}
}

// TestSavedStateCapsStreaks checks that a steady probe has nothing new
// to save, and that the saved state round-trips.
func TestSavedStateCapsStreaks(t *testing.T) {
	t.Parallel()
	s := newProbeState()
	now := time.Unix(1000, 0).UTC()
	var saves []bool
	for range 6 {
		now = now.Add(time.Second)
		next := s.apply(outcome{err: "refused"}, now, 3, 1)
		saves = append(saves, s.needsSave(next, 3, 1))
		s = next
	}
	assert.Equal(t, []bool{true, true, true, false, false, false}, saves, "saved until the streak reaches the threshold")
	b, err := s.encode(3, 1)
	require.NoError(t, err)
	back, err := decodeState(b)
	require.NoError(t, err)
	assert.Equal(t, StateUnhealthy, back.state)
	assert.Equal(t, 3, back.failures, "capped at the threshold")
	assert.Equal(t, s.failingSince, back.failingSince)
	assert.Equal(t, "refused", back.lastError)
	assert.Equal(t, s.since, back.since)
}

func TestDecodeStateRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `{`, `{"v":2,"state":"healthy"}`, `{"v":1,"state":"sick"}`, `{"v":1,"state":"healthy","failures":1,"successes":1}`, `{"v":1,"state":"healthy","failures":-1}`} {
		_, err := decodeState([]byte(in))
		assert.Error(t, err, in)
	}
}

// TestAdvance checks that checks stay on their grid and skip the slots a
// long check missed.
func TestAdvance(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	p := &probe{spec: spec{interval: time.Second}, next: t0}
	p.advance(t0.Add(100 * time.Millisecond))
	assert.Equal(t, t0.Add(time.Second), p.next)
	p.advance(t0.Add(3500 * time.Millisecond))
	assert.Equal(t, t0.Add(4*time.Second), p.next, "slots 2 and 3 were missed")
	p.advance(t0.Add(5 * time.Second))
	assert.Equal(t, t0.Add(6*time.Second), p.next, "a slot at now is missed too")
}

// TestResolveDefaults checks the defaults of each kind and what a list's
// probes inherit.
func TestResolveDefaults(t *testing.T) {
	t.Parallel()
	single := resolve(&Config{Kind: KindHTTP, URL: "http://x/"}, "web")
	require.Len(t, single, 1)
	s := single[0]
	assert.Equal(t, "web", s.name)
	assert.Equal(t, 15*time.Second, s.interval)
	assert.Equal(t, time.Second, s.timeout)
	assert.Equal(t, 3, s.failureThreshold)
	assert.Equal(t, 1, s.successThreshold)
	assert.Zero(t, s.jitter, "a single probe starts at once")
	assert.Zero(t, s.heartbeat)
	assert.True(t, s.keepAlive)
	assert.False(t, s.results)

	hp := resolve(&Config{Kind: KindHostPlugin}, "hgap")[0]
	assert.Equal(t, time.Minute, hp.interval)
	assert.Equal(t, 10*time.Second, hp.timeout)
	assert.Equal(t, time.Minute, hp.heartbeat)
	assert.Equal(t, 1, hp.failureThreshold)
	assert.Equal(t, "168.63.129.16:32526", hostPluginAddress(""))
	assert.Equal(t, "10.0.0.1:32526", hostPluginAddress("10.0.0.1"))
	assert.Equal(t, "127.0.0.1:8080", hostPluginAddress("127.0.0.1:8080"))
	assert.Equal(t, "[fd00::1]:32526", hostPluginAddress("fd00::1"))
	assert.Equal(t, "[fd00::1]:32526", hostPluginAddress("[fd00::1]"))

	yes, no := true, false
	list := resolve(&Config{
		Interval: NewInterval(5 * time.Second), FailureThreshold: 2, Results: &yes, KeepAlive: &no,
		TLS: TLSConfig{ServerName: "shared"},
		Probes: []Probe{
			{Name: "a", Kind: KindHTTP},
			{Name: "b", Kind: KindHostPlugin, Interval: NewInterval(time.Second), Results: &no, Jitter: NewInterval(0)},
			{Name: "c", Kind: KindHTTPS, TLS: TLSConfig{ServerName: "own"}, Heartbeat: NewInterval(time.Minute)},
		},
	}, "fleet")
	require.Len(t, list, 3)
	assert.Equal(t, 5*time.Second, list[0].interval, "inherited")
	assert.Equal(t, 5*time.Second, list[0].jitter, "a listed probe spreads over its interval")
	assert.Equal(t, 2, list[0].failureThreshold)
	assert.True(t, list[0].results)
	assert.False(t, list[0].keepAlive)
	assert.Equal(t, "shared", list[0].tls.ServerName)
	assert.Equal(t, time.Second, list[1].interval, "own value")
	assert.Zero(t, list[1].jitter, "an explicit 0")
	assert.False(t, list[1].results)
	assert.Equal(t, time.Minute, list[1].heartbeat, "the kind's default")
	assert.Equal(t, "own", list[2].tls.ServerName)
	assert.Equal(t, time.Minute, list[2].heartbeat)
}

// TestPyBytesRepr checks the Python 3 repr of bytes against values
// computed with CPython.
func TestPyBytesRepr(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                 `b''`,
		"ok":               `b'ok'`,
		"it's":             `b"it's"`,
		`it's "x"`:         `b'it\'s "x"'`,
		`say "hi"`:         `b'say "hi"'`,
		"a\\b":             `b'a\\b'`,
		"\t\n\r\x00\x7f":   `b'\t\n\r\x00\x7f'`,
		"caf\xc3\xa9 \xff": `b'caf\xc3\xa9 \xff'`,
		"\x1b[0m":          `b'\x1b[0m'`,
	}
	for in, want := range tests {
		assert.Equal(t, want, pyBytesRepr([]byte(in)), "%q", in)
	}
	assert.Equal(t, "[HTTP Failed] [500: Internal Server Error] b'x'", readResponseError(500, "Internal Server Error", []byte("x")))
	assert.Equal(t, "[HTTP Failed] [500: caf] b''", readResponseError(500, "café", nil), "non-ASCII dropped, as the agent's ascii encode")
}

func TestCappedBuffer(t *testing.T) {
	t.Parallel()
	b := newCappedBuffer(4)
	n, err := b.Write([]byte("ab"))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = b.Write([]byte("cdef"))
	require.NoError(t, err)
	assert.Equal(t, 4, n, "a write reports everything as written")
	assert.Equal(t, "abcd", b.String())
	assert.True(t, b.Truncated())
	assert.Equal(t, int64(6), b.total)
}
