package probesource_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/sources/probesource"
)

var dcaePattern = regexp.MustCompile(`^([0-9]+)(s|m|h)?$`)

// TestParseInterval checks the DCAE cases of PROTOCOLS.md §5.1 and Go
// durations.
func TestParseInterval(t *testing.T) {
	t.Parallel()
	valid := map[string]time.Duration{
		"30": 30 * time.Second, "30s": 30 * time.Second, "2m": 2 * time.Minute, "24h": 24 * time.Hour,
		"05s": 5 * time.Second, "0": 0, "000000000000000000000000000000000000007": 7 * time.Second,
		"500ms": 500 * time.Millisecond, "1m30s": 90 * time.Second, "1.5s": 1500 * time.Millisecond,
		"3m05s": 185 * time.Second, "2562047h": 2562047 * time.Hour,
	}
	for in, want := range valid {
		got, err := probesource.ParseInterval(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got.Duration(), in)
			assert.True(t, got.IsSet())
		}
	}
	for _, in := range []string{"", "10x", "-1s", "-5", "30.0", "10E0", "30 s", " 30", "30s\n", "3S", "30d", "3m05", "3:05", "3.14159s3:05", "2562048h", "99999999999999999999", "s", "m"} {
		_, err := probesource.ParseInterval(in)
		assert.Error(t, err, "%q", in)
	}
}

// FuzzParseInterval checks that the parser never panics, that whatever
// matches the DCAE pattern means digits times the unit, that results are
// never negative, and that the String form parses back to the same value.
func FuzzParseInterval(f *testing.F) {
	for _, s := range []string{"30", "30s", "2m", "24h", "05s", "0", "500ms", "1m30s", "-1s", "10x", "30s\n", "9223372036s", "1e3s", ".5s", "+5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iv, err := probesource.ParseInterval(s)
		if err != nil {
			return
		}
		d := iv.Duration()
		require.GreaterOrEqual(t, d, time.Duration(0), "%q", s)
		if m := dcaePattern.FindStringSubmatch(s); m != nil {
			n, err := strconv.ParseUint(m[1], 10, 64)
			require.NoError(t, err)
			unit := map[string]time.Duration{"": time.Second, "s": time.Second, "m": time.Minute, "h": time.Hour}[m[2]]
			require.Equal(t, time.Duration(n)*unit, d, "%q", s)
		}
		back, err := probesource.ParseInterval(iv.String())
		require.NoError(t, err, "%q -> %q", s, iv.String())
		require.Equal(t, d, back.Duration())

		var u probesource.Interval
		require.NoError(t, u.UnmarshalText([]byte(s)))
		require.Equal(t, d, u.Duration())
		require.NoError(t, u.Err())
	})
}
