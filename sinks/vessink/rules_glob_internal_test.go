package vessink

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRuleTypesGlob: rule types use internal/glob, the grammar of routes,
// where * crosses '/' (path.Match's did not).
func TestRuleTypesGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, typ string
		want         bool
	}{
		{"com.example/*", "com.example/vm/fault", true},
		{"sluice.vm.*", "sluice.vm.fault.cleared", true},
		{"*.cleared", "a/b.cleared", true},
		{"sluice.?m.fault", "sluice.vm.fault", true},
		{"sluice.vm.*", "sluice.lb.state", false},
	}
	for _, tt := range tests {
		r := Rule{Types: []string{tt.pattern}}
		assert.Equal(t, tt.want, r.matches("any", tt.typ), "%q ~ %q", tt.pattern, tt.typ)
	}
}
