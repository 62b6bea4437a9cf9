package vessink_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// TestLBStateWords checks that every state the lbworker source emits in
// sluice.lb.state (ACTIVE, SUSPENDED, DELETED, ERROR) maps to a VES state.
func TestLBStateWords(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki)
	s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
	batch := []pipeline.Delivery{
		delivery(1, "sluice.lb.state", "s1", t0, pipeline.SeverityNotice, map[string]any{"to": "ACTIVE"}),
		delivery(2, "sluice.lb.state", "s2", t0, pipeline.SeverityNotice, map[string]any{"from": "ACTIVE", "to": "SUSPENDED"}),
		delivery(3, "sluice.lb.state", "s3", t0, pipeline.SeverityNotice, map[string]any{"from": "SUSPENDED", "to": "DELETED"}),
		delivery(4, "sluice.lb.state", "s4", t0, pipeline.SeverityWarning, map[string]any{"from": "ACTIVE", "to": "ERROR"}),
	}
	require.NoError(t, s.Deliver(t.Context(), batch))
	require.Len(t, c.Accepted(), 4)
	c.requireConforming(t)
}
