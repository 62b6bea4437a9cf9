package vessink

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// TestBuiltinRulesNeedEngineEvents checks issue 13 item 7: a built-in
// rule (a VM fault raise or clear, a probe state) applies only to an
// event one of Sluice's own sources emitted; the same type from another
// source falls to the default domain.
func TestBuiltinRulesNeedEngineEvents(t *testing.T) {
	t.Parallel()
	m := &mapper{fallback: Rule{Domain: "other"}}
	genuine := pipeline.Event{Type: eventtypes.VMFault + ".clear", Source: "/sluice/sources/nova", Origin: "nova"}
	assert.Equal(t, DomainFault, m.ruleFor("r", &genuine).Domain)
	forged := genuine
	forged.Source, forged.Origin = "/attacker", "ingest"
	assert.Equal(t, "other", m.ruleFor("r", &forged).Domain)
	forged.Source = "/sluice/sources/nova" // claims another source's URI: Origin is the ingest
	assert.Equal(t, "other", m.ruleFor("r", &forged).Domain)
}
