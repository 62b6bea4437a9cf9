package natssource_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/natssource"
)

// pinnedRefused reports whether the server at url predates priority
// groups (nats-server 2.11; the tests run against such a server with
// fleettest.BinaryEnv, task fleet:nats29). Then it checks what a pinned
// source does there instead: Run fails at once with
// fleet.ErrNoPriorityGroups (fatal for the engine) rather than consuming
// as a shared consumer.
func pinnedRefused(t *testing.T, url string) bool {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	var major, minor int
	_, err = fmt.Sscanf(nc.ConnectedServerVersion(), "%d.%d", &major, &minor)
	require.NoError(t, err, "server version %q", nc.ConnectedServerVersion())
	if major > 2 || major == 2 && minor >= 11 {
		return false
	}
	f := natssource.NewFactory()
	cfg, ok := f.DefaultConfig().(*natssource.Config)
	require.True(t, ok)
	cfg.Conn.URL = url
	pinned(cfg)
	src, err := f.NewSource(t.Context(), pipeline.NopSettings("fleet"), cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = src.Run(ctx, pipelinetest.NewRecordingHost("fleet"))
	require.ErrorIs(t, err, fleet.ErrNoPriorityGroups, "nats-server %s: a pinned source refuses to run", nc.ConnectedServerVersion())
	require.NoError(t, ctx.Err(), "refused at once, not after retrying")
	return true
}
