package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/config"
)

// On a fleet router (journal.nats.role: router) routes name the agents'
// sources listed in journal.nats.router.sources; a source of its own, or
// a route naming a source not listed, is an error at its position.
func TestRouterRoutesNameTheAgentsSources(t *testing.T) {
	t.Parallel()
	const journal = `journal:
  dir: /data
  backend: nats
  nats:
    role: router
    conn: {url: "nats://127.0.0.1:4222"}
    router: {sources: [syslog, kvp]}
sinks: [{name: out, type: memory, with: {path: /tmp/b}}]
`
	f, err := config.Parse("r.yaml", []byte(journal+`routes: [{name: r, from: [syslog, kvp], to: [out]}]
`), testRegistries(), lookupTestEnv)
	require.NoError(t, err)
	assert.Empty(t, f.Pipeline.Sources)
	assert.Equal(t, []string{"syslog", "kvp"}, f.Pipeline.Routes[0].From)

	_, err = config.Parse("r.yaml", []byte(journal+`routes: [{name: r, from: [vmfault], to: [out]}]
`), testRegistries(), lookupTestEnv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `r.yaml:9:27: routes[0].from[0]: route "r": unknown source "vmfault" (defined sources: kvp, syslog)`)

	_, err = config.Parse("r.yaml", []byte(journal+`sources: [{name: in, type: gen, with: {message: hi}}]
routes: [{name: r, from: [syslog], to: [out]}]
`), testRegistries(), lookupTestEnv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `r.yaml:9:18: sources[0].name: a fleet router (journal.nats.role: router) has no sources of its own`)

	_, err = config.Parse("r.yaml", []byte(`journal: {dir: /data, backend: nats, nats: {role: router, conn: {url: "nats://x:4222"}}}
sinks: [{name: out, type: memory, with: {path: /tmp/b}}]
routes: [{name: r, from: [syslog], to: [out]}]
`), testRegistries(), lookupTestEnv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "journal.nats.router.sources")
}
