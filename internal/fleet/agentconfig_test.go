package fleet_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
)

func TestAgentConfigDomain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		domain string
		ok     bool
	}{
		{"", true},
		{"hub", true},
		{"hub-eu_1", true},
		{"hub.eu", false}, // a subject token: $JS.<domain>.API
		{"hub eu", false},
		{"hub>", false},
		{"*", false},
	} {
		cfg := fleet.DefaultAgentConfig()
		cfg.Domain = c.domain
		err := cfg.Validate()
		if c.ok {
			require.NoError(t, err, c.domain)
		} else {
			require.ErrorContains(t, err, "domain", c.domain)
		}
	}
}
