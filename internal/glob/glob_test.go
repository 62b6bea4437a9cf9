package glob_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/glob"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything/at.all", true},
		{"sluice.*", "sluice.probe.state", true},
		{"sluice.*", "sluice", false},
		{"sluice.*.state", "sluice.probe.state", true},
		{"sluice.*.state", "sluice.probe.stat", false},
		{"a?c", "abc", true},
		{"a?c", "aéc", true},
		{"a?c", "ac", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"**", "x", true},
		// * crosses '/' and '.', in routes and sink rules alike (path.Match's did not cross '/').
		{"*/health", "http://10.0.0.1/health", true},
		{"vm-*", "vm-7/disk", true},
		{"sluice.vm.fault*", "sluice.vm.fault.cleared", true},
		{"sluice.vm.fault.*", "sluice.vm.fault", false},
		// No classes, no escapes (Validate rejects them).
		{"vm[12]", "vm1", false},
		{"a?", "a*", true},
		{"a]", "a]", true},
		// Case-sensitive, whole string.
		{"Sluice.*", "sluice.heartbeat", false},
		{"heart", "sluice.heartbeat", false},
		{"?", "é", true},
		{"??", "é", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, glob.Match(tt.pattern, tt.s), "Match(%q, %q)", tt.pattern, tt.s)
	}
}

func TestAny(t *testing.T) {
	t.Parallel()
	assert.True(t, glob.Any([]string{"a", "sluice.*"}, "sluice.x"))
	assert.False(t, glob.Any([]string{"a", "b"}, "c"))
	assert.False(t, glob.Any(nil, "c"))
}

func TestValidate(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, glob.Validate(""), glob.ErrEmpty)
	for _, p := range []string{"[", "vm[12]", `a\*`, "sluice.["} {
		require.ErrorIs(t, glob.Validate(p), glob.ErrReserved, p)
	}
	for _, p := range []string{"*", "a?b", "]", "sluice.vm.*", "*/x"} {
		assert.NoError(t, glob.Validate(p), p)
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("a*b?c", "axxbyc")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// A pattern without wildcards matches exactly itself.
		if glob.Match(pattern, s) && !containsWildcard(pattern) && pattern != s {
			t.Fatalf("Match(%q, %q) without wildcards", pattern, s)
		}
		if !glob.Match("*", s) || !glob.Match(s+"*", s) && !containsWildcard(s) {
			t.Fatalf("* or prefix* fails on %q", s)
		}
	})
}

func containsWildcard(s string) bool {
	for i := range len(s) {
		if s[i] == '*' || s[i] == '?' {
			return true
		}
	}
	return false
}
