package httpclient_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestCredentials(t *testing.T) {
	t.Parallel()
	calls := 0
	secret := pipeline.Secret("Bearer a")
	var fail error
	c := httpclient.NewCredentials(&tlsconfig.Config{}, func() (pipeline.Secret, error) {
		calls++
		return secret, fail
	})

	got, err := c.Ensure(t.Context())
	require.NoError(t, err)
	assert.Equal(t, secret, got)
	_, err = c.Ensure(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, calls, "Ensure reads once")

	secret = "Bearer b"
	require.NoError(t, c.Provision(t.Context()))
	assert.Equal(t, 2, calls, "Provision reads again")
	got, err = c.Ensure(t.Context())
	require.NoError(t, err)
	assert.Equal(t, pipeline.Secret("Bearer b"), got)

	fail = errors.New("bearer_token_file: gone")
	require.ErrorIs(t, c.Provision(t.Context()), fail)
	_, err = c.Ensure(t.Context())
	require.ErrorIs(t, err, fail, "a failed Provision is retried by Ensure")
}

func TestCredentialsTLSAndContext(t *testing.T) {
	t.Parallel()
	c := httpclient.NewCredentials(&tlsconfig.Config{CAFile: "/nonexistent/ca.pem"}, nil)
	require.ErrorContains(t, c.Provision(t.Context()), "tls.ca_file: open /nonexistent/ca.pem")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	none := httpclient.NewCredentials(nil, nil)
	require.ErrorIs(t, none.Provision(ctx), context.Canceled)
	got, err := none.Ensure(t.Context())
	require.NoError(t, err)
	assert.Empty(t, got)
}
