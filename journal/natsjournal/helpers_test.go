package natsjournal_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/natsjournal"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).Start.func1"))
}

// agentConfig returns a nats journal config on dir for the server at url.
func agentConfig(dir, url, agent string) journal.Config {
	c := journal.DefaultConfig()
	c.Backend = journal.BackendNATS
	c.Dir = dir
	c.CursorFlushInterval = 20 * time.Millisecond
	c.NATS.Conn.URL = url
	c.NATS.Conn.ReconnectWait = 50 * time.Millisecond
	c.NATS.AgentID = agent
	c.NATS.AckTimeout = 2 * time.Second
	c.NATS.Retry.Initial = 20 * time.Millisecond
	c.NATS.Retry.Max = 200 * time.Millisecond
	return c
}

func open(t testing.TB, cfg journal.Config, set pipeline.Settings) journal.Store {
	t.Helper()
	require.NoError(t, cfg.Validate())
	s, err := natsjournal.Backend{}.Open(t.Context(), cfg, journal.ReadWrite, set)
	require.NoError(t, err)
	return s
}

func appendN(t testing.TB, j pipeline.Journal, n int) {
	t.Helper()
	for i := 0; i < n; i += 50 {
		evs := make([]pipeline.Event, min(50, n-i))
		for k := range evs {
			evs[k] = pipeline.Event{Source: "/test", Type: "sluice.test", Origin: "gen",
				DataContentType: "application/json", Data: fmt.Appendf(nil, `{"n":%d}`, i+k)}
		}
		_, err := j.Append(t.Context(), pipeline.AppendBatch{Events: evs})
		require.NoError(t, err)
	}
}

func connect(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}

// waitStream waits until the stream holds n messages and returns them in
// stream order.
func waitStream(t testing.TB, js jetstream.JetStream, n int) []fleet.Inbound {
	t.Helper()
	var s jetstream.Stream
	require.Eventually(t, func() bool {
		var err error
		s, err = js.Stream(t.Context(), fleet.DefaultStreamName)
		if err != nil {
			return false
		}
		info, err := s.Info(t.Context())
		return err == nil && info.State.Msgs >= uint64(n)
	}, 20*time.Second, 10*time.Millisecond, "stream never held %d messages", n)
	return readStream(t, s)
}

// readStream returns every message of the stream, parsed, in order.
func readStream(t testing.TB, s jetstream.Stream) []fleet.Inbound {
	t.Helper()
	info, err := s.Info(t.Context())
	require.NoError(t, err)
	var out []fleet.Inbound
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		raw, err := s.GetMsg(t.Context(), seq)
		require.NoError(t, err)
		m := message.NewMessage(raw.Header.Get(fleet.HeaderMsgID), raw.Data)
		for k := range raw.Header {
			m.Metadata.Set(k, raw.Header.Get(k))
		}
		in, err := fleet.ParseMessage(m)
		require.NoError(t, err)
		out = append(out, in)
	}
	return out
}

func closeStore(t testing.TB, s journal.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Close(ctx))
}
