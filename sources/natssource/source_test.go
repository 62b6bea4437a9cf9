package natssource_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/natssource"
)

func TestFactory(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSourceFactory(t, natssource.NewFactory(), "conn.url")
}

// One router takes every agent's records in journal order, keeps the
// events' ids and attributes, adds the fleet attributes and records the
// per-agent position in its state.
func TestRouterTakesAgentsInOrder(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	agent(t, srv.URL(), "vm-a", 300)
	agent(t, srv.URL(), "vm-b", 300)
	r := startRouter(t, srv.URL(), nil)
	evs := waitEvents(t, r.host, 600)
	require.Len(t, evs, 600)
	last := map[string]uint64{}
	for _, e := range evs {
		k := keyOf(t, e)
		require.Equal(t, last[k.agent]+1, k.seq, "agent %s in journal order", k.agent)
		last[k.agent] = k.seq
		assert.Equal(t, fmt.Sprintf("%s-%d", k.agent, k.seq), e.ID, "the agent's event id is kept")
		assert.Equal(t, "/agent/"+k.agent, e.Source)
		assert.Equal(t, "probe", e.Extensions[fleet.ExtOrigin])
		assert.Len(t, e.Extensions[fleet.ExtChainHash], 64)
		assert.Equal(t, "fleet", e.Origin)
	}
	st, err := r.host.State(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "300", string(st["agent/vm-a"]))
	assert.Equal(t, "300", string(st["agent/vm-b"]))
}

// Two routers on one consumer split the work: every record once, no
// duplicates; the shared durable consumer survives both stopping (unlike
// a QueueSubscribe durable, watermill#375).
func TestRoutersShareTheConsumer(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	r1 := startRouter(t, srv.URL(), func(c *natssource.Config) { c.Batch = 16 })
	r2 := startRouter(t, srv.URL(), func(c *natssource.Config) { c.Batch = 16 })
	agent(t, srv.URL(), "vm-a", 1000)
	agent(t, srv.URL(), "vm-b", 1000)
	require.Eventually(t, func() bool {
		return len(r1.host.Events())+len(r2.host.Events()) >= 2000
	}, 60*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // a duplicate would show up now
	seen := map[key]int{}
	for _, h := range []*pipelinetest.RecordingHost{r1.host, r2.host} {
		for _, e := range h.Events() {
			seen[keyOf(t, e)]++
		}
	}
	assert.Len(t, seen, 2000)
	for k, n := range seen {
		require.Equal(t, 1, n, "record %v delivered once", k)
	}
	assert.NotEmpty(t, r1.host.Events(), "the work is split")
	assert.NotEmpty(t, r2.host.Events(), "the work is split")
	r1.stop()
	r2.stop()

	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	c, err := js.Consumer(t.Context(), fleet.DefaultStreamName, "sluice-routers")
	require.NoError(t, err, "the durable consumer outlives its routers")
	info, err := c.Info(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "sluice-routers", info.Config.Durable)
	assert.Zero(t, info.NumAckPending, "everything was acked")
}

// A batch the journal refuses is nacked and delivered again: nothing is
// lost and nothing is appended twice.
func TestRefusedBatchIsRedelivered(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	r := startRouter(t, srv.URL(), nil)
	r.host.SetError(pipeline.ErrJournalFull)
	agent(t, srv.URL(), "vm-a", 200)
	require.Eventually(t, func() bool { return r.host.Calls() >= 3 }, 10*time.Second, 10*time.Millisecond)
	r.host.SetError(nil)
	waitEvents(t, r.host, 200)
	time.Sleep(100 * time.Millisecond)
	seen := map[uint64]int{}
	for _, e := range r.host.Events() {
		seen[keyOf(t, e).seq]++
	}
	require.Len(t, seen, 200, "every record arrives")
	for seq, n := range seen {
		assert.Equal(t, 1, n, "record %d appended once", seq)
	}
}

// A message that is not a fleet record is terminated (kept in the
// stream, never redelivered); the records around it flow.
func TestMalformedMessageIsTerminated(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	r := startRouter(t, srv.URL(), nil)
	agent(t, srv.URL(), "vm-a", 10)
	waitEvents(t, r.host, 10)
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.Publish(t.Context(), fleet.DefaultSubjectPrefix+".vm-x", []byte("not json"))
	require.NoError(t, err)
	agent(t, srv.URL(), "vm-b", 10)
	waitEvents(t, r.host, 20)
	require.Eventually(t, func() bool {
		c, err := js.Consumer(t.Context(), fleet.DefaultStreamName, "sluice-routers")
		if err != nil {
			return false
		}
		info, err := c.Info(t.Context())
		return err == nil && info.NumAckPending == 0 && info.NumRedelivered == 0 && info.AckFloor.Stream == 21
	}, 10*time.Second, 20*time.Millisecond, "the bad message was settled for good")
	assert.Len(t, r.host.Events(), 20)
	s, err := js.Stream(t.Context(), fleet.DefaultStreamName)
	require.NoError(t, err)
	_, err = s.GetMsg(t.Context(), 11)
	require.NoError(t, err, "a terminated message stays in the stream")
}
