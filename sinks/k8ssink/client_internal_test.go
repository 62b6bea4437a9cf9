package k8ssink

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// Provision and Start read the configuration only: the REST client, its
// HTTP transport, TLS configuration and rate limiter are built at the
// first request, so that a configured but idle sink costs no more.
func TestClientBuiltAtFirstRequest(t *testing.T) {
	cfg := defaultConfig()
	cfg.Kubeconfig = writeKubeconfig(t)
	cfg.Rules = []Rule{{Action: actionEvent}}
	s, err := newSink(t.Context(), pipeline.NopSettings("k8s"), cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	assert.Nil(t, s.client.rc, "built before the first request")
	rc, err := s.client.rest()
	require.NoError(t, err)
	assert.Same(t, rc, s.client.rc)
	again, err := s.client.rest()
	require.NoError(t, err)
	assert.Same(t, rc, again, "built once")
}
