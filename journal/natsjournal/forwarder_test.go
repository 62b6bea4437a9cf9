package natsjournal_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/journal/natsjournal"
	"github.com/sluice-dev/sluice/pipeline"
)

// Every record reaches the stream once, in journal order, with
// Nats-Msg-Id agent:seq, the export line, and chain links that join; the
// cursor follows the acks; a restart publishes nothing again.
func TestForwardsEveryRecordOnce(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	dir := t.TempDir()
	cfg := agentConfig(dir, srv.URL(), "vm-1")
	s := open(t, cfg, pipeline.NopSettings("journal"))
	appendN(t, s, 600)
	js := connect(t, srv.URL())
	got := waitStream(t, js, 600)
	require.Len(t, got, 600)
	for i, in := range got {
		assert.Equal(t, "vm-1", in.Agent)
		assert.Equal(t, uint64(i+1), in.Seq)
		assert.Equal(t, "gen", in.Event.Extensions[fleet.ExtOrigin])
		assert.JSONEq(t, `{"n":`+itoa(i)+`}`, string(in.Event.Data))
		if i > 0 {
			assert.Equal(t, got[i-1].ChainHash, in.PrevHash, "record %d links to its predecessor", in.Seq)
		}
	}
	st, err := s.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, st.HeadHash[:], mustHex(t, got[599].ChainHash), "the last message carries the journal's head hash")
	require.Eventually(t, func() bool {
		next, err := s.Cursor(t.Context(), natsjournal.Consumer)
		return err == nil && next == 601
	}, 5*time.Second, 10*time.Millisecond)
	closeStore(t, s)

	s = open(t, cfg, pipeline.NopSettings("journal"))
	appendN(t, s, 1)
	got = waitStream(t, js, 601)
	assert.Len(t, got, 601, "a restart sends only the new record")
	closeStore(t, s)
}

// The agent id is derived once, stored in the journal and kept; a
// different configured id is refused.
func TestAgentIDStoredOnce(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	dir := t.TempDir()
	cfg := agentConfig(dir, srv.URL(), "")
	s := open(t, cfg, pipeline.NopSettings("journal"))
	id := s.(*natsjournal.Store).AgentID()
	require.NoError(t, fleet.ValidAgentID(id))
	closeStore(t, s)

	s = open(t, cfg, pipeline.NopSettings("journal"))
	assert.Equal(t, id, s.(*natsjournal.Store).AgentID())
	closeStore(t, s)

	cfg.NATS.AgentID = "someone-else"
	_, err := natsjournal.Backend{}.Open(t.Context(), cfg, journal.ReadWrite, pipeline.NopSettings("journal"))
	require.ErrorIs(t, err, natsjournal.ErrAgentIDChanged)
	cfg.NATS.AgentID = id
	s = open(t, cfg, pipeline.NopSettings("journal"))
	closeStore(t, s)
}

// Records appended while the server is down, and while it restarts in
// the middle of a stream, all arrive, once each.
func TestServerOutageLosesNothing(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	url := srv.URL()
	srv.Stop()
	s := open(t, agentConfig(t.TempDir(), url, "vm-2"), pipeline.NopSettings("journal"))
	appendN(t, s, 200)
	srv.Restart()
	js := connect(t, url)
	waitStream(t, js, 200)
	for i := range 10 {
		appendN(t, s, 50)
		if i == 3 {
			srv.Restart() // while records 351-500 are in flight
		}
	}
	js = connect(t, url)
	got := waitStream(t, js, 700)
	assertConsecutive(t, got, 1, 700)
	closeStore(t, s)
}

// An agent that dies after publishing and before its cursor is durable
// sends those records again; the stream keeps one copy of each.
func TestResendIsDeduplicated(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	dir := t.TempDir()
	cfg := agentConfig(dir, srv.URL(), "vm-3")
	s := open(t, cfg, pipeline.NopSettings("journal"))
	appendN(t, s, 300)
	js := connect(t, srv.URL())
	waitStream(t, js, 300)
	require.Eventually(t, func() bool {
		next, _ := s.Cursor(t.Context(), natsjournal.Consumer)
		return next == 301
	}, 5*time.Second, 10*time.Millisecond)
	closeStore(t, s)

	// What a crash before the cursor flush leaves behind.
	plain, err := journal.BBolt{}.Open(t.Context(), cfg, journal.Existing, pipeline.NopSettings("journal"))
	require.NoError(t, err)
	require.NoError(t, plain.SetCursor(t.Context(), natsjournal.Consumer, 1))
	require.NoError(t, plain.Close(t.Context()))

	s = open(t, cfg, pipeline.NopSettings("journal"))
	require.Eventually(t, func() bool {
		next, _ := s.Cursor(t.Context(), natsjournal.Consumer)
		return next == 301
	}, 5*time.Second, 10*time.Millisecond)
	stream, err := js.Stream(t.Context(), fleet.DefaultStreamName)
	require.NoError(t, err)
	assertConsecutive(t, readStream(t, stream), 1, 300)
	closeStore(t, s)
}

func assertConsecutive(t *testing.T, got []fleet.Inbound, from, to uint64) {
	t.Helper()
	require.Len(t, got, int(to-from+1), "one message per record, no duplicates")
	for i, in := range got {
		require.Equal(t, from+uint64(i), in.Seq, "stream position %d", i)
	}
}

// Restarting the server again and again while a pipelined forwarder has
// many batches in flight never puts a record in the stream before its
// predecessor: the forwarder stops sending at a batch it could not send
// (refused while reconnecting, with the next batch a moment later on the
// new connection), and after a failure the first batch is acknowledged
// before anything after it is sent (a publish answered while the stream
// loads, with a later one stored).
func TestRestartsKeepStreamOrder(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	url := srv.URL()
	cfg := agentConfig(t.TempDir(), url, "vm-5")
	cfg.NATS.Batch, cfg.NATS.MaxInFlight = 8, 64
	cfg.NATS.Conn.ReconnectWait = 5 * time.Millisecond
	cfg.NATS.Retry.Initial, cfg.NATS.Retry.Max = 2*time.Millisecond, 10*time.Millisecond
	s := open(t, cfg, pipeline.NopSettings("journal"))
	const total = 6000
	appended := make(chan error, 1)
	go func() {
		for range total / 50 {
			if _, err := s.Append(context.Background(), pipeline.AppendBatch{Events: journaltest.Events(0, 50)}); err != nil {
				appended <- err
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		appended <- nil
	}()
	for i := range 8 {
		time.Sleep(time.Duration(50+30*i) * time.Millisecond)
		srv.Stop()
		time.Sleep(20 * time.Millisecond)
		srv.Restart()
	}
	require.NoError(t, <-appended)
	got := waitStream(t, connect(t, url), total)
	assertConsecutive(t, got, 1, total)
	closeStore(t, s)
}
