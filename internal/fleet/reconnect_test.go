package fleet_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
)

// A publish while the connection reconnects fails at once. nats.go would
// otherwise keep it and send it after reconnecting, behind the publishes
// the broken connection lost; the forwarder sends those again, so they
// would land after their successor, out of journal order (seen as
// TestServerOutageLosesNothing failing now and then).
func TestPublishWhileReconnectingFails(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	conn := fleet.ConnConfig{URL: srv.URL(), ConnectTimeout: time.Second, ReconnectWait: 50 * time.Millisecond}
	nc, err := fleet.Connect(t.Context(), conn, "test", slog.New(slog.DiscardHandler), fleet.PublisherOptions()...)
	require.NoError(t, err)
	defer nc.Close()
	pub, err := fleet.NewPublisher(nc, fleet.PublisherConfig{Stream: fleet.DefaultStreamName, MaxInFlight: 16, AckTimeout: 5 * time.Second})
	require.NoError(t, err)
	srv.Stop()
	require.Eventually(t, nc.IsReconnecting, 5*time.Second, 10*time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	msgs := []*message.Message{fleet.NewMessage(fleet.Outbound{Agent: "vm-1", Seq: 1, Line: []byte("{}")})}
	_, err = pub.Send("sluice.fleet.vm-1", msgs).Wait(ctx)
	require.ErrorIs(t, err, nats.ErrReconnectBufExceeded, "failed at once, not kept for after the reconnect")
}
