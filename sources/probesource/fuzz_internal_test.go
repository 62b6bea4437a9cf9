package probesource

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzParseStatus checks that expect_status entries never panic and give
// ranges within 100-599.
func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"200", "200-299", "2xx", "5XX", "99", "300-200", "abc", "-", "200-", " 204 ", "6xx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseStatus(s)
		if err != nil {
			return
		}
		require.True(t, r.lo >= 100 && r.hi <= 599 && r.lo <= r.hi, "%q gave %v", s, r)
	})
}

// FuzzDecodeState checks that any bytes in the journal's state either
// decode to a consistent state or fail cleanly, and that a decoded state
// re-encodes to one that decodes the same.
func FuzzDecodeState(f *testing.F) {
	s := newProbeState().apply(outcome{err: "x"}, time.Unix(5, 0).UTC(), 1, 1)
	b, err := s.encode(1, 1)
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"v":1,"state":"healthy","successes":1}`))
	f.Add([]byte(`{"v":1,"state":"unknown","failures":2,"failing_since":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		st, err := decodeState(in)
		if err != nil {
			return
		}
		require.False(t, st.failures > 0 && st.successes > 0)
		out, err := st.encode(1<<30, 1<<30)
		require.NoError(t, err)
		again, err := decodeState(out)
		require.NoError(t, err)
		require.Equal(t, st.state, again.state)
		require.Equal(t, st.failures, again.failures)
	})
}

// FuzzPyBytesRepr checks that the repr is ASCII, printable and quoted.
func FuzzPyBytesRepr(f *testing.F) {
	f.Add([]byte("it's \"x\"\n\x00\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := pyBytesRepr(in)
		require.True(t, r[0] == 'b' && (r[1] == '\'' || r[1] == '"') && r[len(r)-1] == r[1])
		for i := range len(r) {
			require.True(t, r[i] >= 0x20 && r[i] < 0x7f, "%q", r)
		}
		require.GreaterOrEqual(t, len(r), len(in)+3)
	})
}
