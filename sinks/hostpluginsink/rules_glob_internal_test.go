package hostpluginsink

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// TestRuleTypesGlob: observation types use internal/glob, the grammar of
// routes, where * crosses '/' (path.Match's did not).
func TestRuleTypesGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, typ string
		want         bool
	}{
		{"com.example/*", "com.example/probe/state", true},
		{"sluice.probe.*", "sluice.probe.state", true},
		{"sluice.probe.*", "sluice.vm.fault", false},
	}
	for _, tt := range tests {
		r, err := compileRule(&ObservationConfig{Name: "x", Types: []string{tt.pattern}, Healthy: HealthyConfig{From: "literal:true"}})
		require.NoError(t, err)
		d := &pipeline.Delivery{Event: pipeline.Event{Type: tt.typ}}
		got, err := r.selects(&eventView{d: d})
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "%q ~ %q", tt.pattern, tt.typ)
	}
}
