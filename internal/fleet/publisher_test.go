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

// SendRecords publishes each record exactly as Send publishes
// NewMessage's message of it: the same headers (Nats-Msg-Id included)
// and body, on two servers, compared message by message.
func TestSendRecordsPublishesWhatNewMessageWould(t *testing.T) {
	t.Parallel()
	recs := []fleet.Outbound{
		{Agent: "vm-1", Seq: 1, Line: []byte(`{"a":1}`)},
		{Agent: "vm-1", Seq: 2, PrevHash: "ab12", Line: []byte(`{"a":2}`)},
	}
	var got [2][]*nats.RawStreamMsg
	for i, send := range []func(*fleet.Publisher) *fleet.Pending{
		func(p *fleet.Publisher) *fleet.Pending {
			msgs := make([]*message.Message, len(recs))
			for k, r := range recs {
				msgs[k] = fleet.NewMessage(r)
			}
			return p.Send("sluice.fleet.vm-1", msgs)
		},
		func(p *fleet.Publisher) *fleet.Pending { return p.SendRecords("sluice.fleet.vm-1", recs) },
	} {
		srv := fleettest.Start(t)
		js := srv.JetStream(t)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := fleet.EnsureStream(ctx, js, fleet.DefaultStreamConfig(), slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		pub, err := fleet.NewPublisher(js.Conn(), fleet.PublisherConfig{Stream: fleet.DefaultStreamName, MaxInFlight: 16, AckTimeout: 5 * time.Second})
		require.NoError(t, err)
		_, err = send(pub).Wait(ctx)
		require.NoError(t, err)
		s, err := js.Stream(ctx, fleet.DefaultStreamName)
		require.NoError(t, err)
		for seq := range uint64(len(recs)) {
			m, err := s.GetMsg(ctx, seq+1)
			require.NoError(t, err)
			got[i] = append(got[i], &nats.RawStreamMsg{Subject: m.Subject, Header: m.Header, Data: m.Data})
		}
	}
	require.Equal(t, got[0], got[1])
	require.Equal(t, "vm-1:2", got[1][1].Header.Get(fleet.HeaderMsgID))
	require.Equal(t, "ab12", got[1][1].Header.Get(fleet.HeaderPrevHash))
}
