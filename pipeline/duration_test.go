package pipeline_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	valid := map[string]time.Duration{
		"30": 30 * time.Second, "0": 0, "05": 5 * time.Second, "000000000000000000000000000000000000007": 7 * time.Second,
		"30s": 30 * time.Second, "2m": 2 * time.Minute, "24h": 24 * time.Hour, "05s": 5 * time.Second,
		"500ms": 500 * time.Millisecond, "1m30s": 90 * time.Second, "1.5s": 1500 * time.Millisecond,
		"-1s": -time.Second, "+5s": 5 * time.Second, "0s": 0, "9223372036": 9223372036 * time.Second,
	}
	for in, want := range valid {
		got, err := pipeline.ParseDuration(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	tests := []struct{ in, hint string }{
		{"", ""},
		{"1.5", `(did you mean "1.5s"?)`},
		{"30.0", `(did you mean "30.0s"?)`},
		{"-5", `(did you mean "-5s"?)`},
		{"30 s", `(did you mean "30s"?)`},
		{"30sec", `(did you mean "30s"?)`},
		{"30 seconds", `(did you mean "30s"?)`},
		{"5MIN", `(did you mean "5m"?)`},
		{"2 hours", `(did you mean "2h"?)`},
		{"3S", `(did you mean "3s"?)`},
		{"2d", `(did you mean "48h"?)`},
		{"1w", `(did you mean "168h"?)`},
		{"1.5d", `(did you mean "36h"?)`},
		{"1h 30m", `(did you mean "1h30m"?)`},
		{"100 millis", `(did you mean "100ms"?)`},
		{" 30", `(did you mean "30s"?)`}, // callers trim; the grammar has no spaces
		{"30s\n", `(did you mean "30s"?)`},
		{"soon", ""},
		{"10x", ""},
		{"3:05", ""},
		{"10E0", ""},
		{"2562048h", ""},
		{"9223372037", ""},
		{"99999999999999999999", ""},
	}
	for _, tt := range tests {
		_, err := pipeline.ParseDuration(tt.in)
		require.ErrorIs(t, err, pipeline.ErrInvalidDuration, "%q", tt.in)
		if tt.hint != "" {
			assert.Contains(t, err.Error(), tt.hint, "%q", tt.in)
		} else {
			assert.NotContains(t, err.Error(), "did you mean", "%q", tt.in)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30", "1.5", "1h 30m", "2d", "-5", "5MIN", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := pipeline.ParseDuration(s)
		if err == nil {
			back, err := pipeline.ParseDuration(d.String())
			require.NoError(t, err)
			require.Equal(t, d, back)
			return
		}
		// A suggestion always parses.
		if h := pipeline.DurationHint(s); h != "" {
			fix := h[len(` (did you mean "`) : len(h)-len(`"?)`)]
			_, err := pipeline.ParseDuration(fix)
			require.NoError(t, err, "%q suggests %q", s, fix)
		}
	})
}
