package natssource_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sources/natssource"
)

func pinned(c *natssource.Config) {
	c.Ordering, c.PinnedTTL, c.Batch = natssource.OrderingPinned, 3*time.Second, 16
}

// requireJournalOrder checks that each agent's records came exactly in
// journal order, from first on, without gaps or repeats.
func requireJournalOrder(t *testing.T, evs []pipeline.Event, first map[string]uint64) map[string]uint64 {
	t.Helper()
	next := map[string]uint64{}
	for a, s := range first {
		next[a] = s
	}
	for _, e := range evs {
		k := keyOf(t, e)
		if next[k.agent] == 0 {
			next[k.agent] = 1
		}
		require.Equal(t, next[k.agent], k.seq, "agent %s in journal order", k.agent)
		next[k.agent]++
	}
	return next
}

// With ordering pinned, one router takes every record, in each agent's
// journal order, while the other stands by; when the pinned router stops,
// the standby is pinned after pinned_ttl and continues in order.
func TestPinnedRouterTakesEverythingInOrder(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	if pinnedRefused(t, srv.URL()) {
		return
	}
	r1 := startRouter(t, srv.URL(), pinned)
	r2 := startRouter(t, srv.URL(), pinned)
	agentA := agent(t, srv.URL(), "vm-a", 500)
	agent(t, srv.URL(), "vm-b", 500)
	require.Eventually(t, func() bool {
		return len(r1.host.Events())+len(r2.host.Events()) >= 1000
	}, 60*time.Second, 10*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	active, standby := r1, r2
	if len(r2.host.Events()) > 0 {
		active, standby = r2, r1
	}
	if n := len(standby.host.Events()); n > 0 {
		t.Fatalf("the standby router took %d records", n)
	}
	next := requireJournalOrder(t, active.host.Events(), nil)

	active.stop()
	start := time.Now()
	appendTo(t, agentA, "vm-a", 501, 200)
	evs := waitEvents(t, standby.host, 200)
	assert.GreaterOrEqual(t, time.Since(start), 2*time.Second, "the standby is pinned only after pinned_ttl")
	requireJournalOrder(t, evs, map[string]uint64{"vm-a": next["vm-a"]})
}

// With ordering pinned, a batch the journal refuses stays with the router
// (in progress) and is appended when the journal accepts it again: no
// later record overtakes it, nothing is appended twice.
func TestPinnedRouterKeepsOrderWhenTheJournalRefuses(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	if pinnedRefused(t, srv.URL()) {
		return
	}
	r := startRouter(t, srv.URL(), pinned)
	r.host.SetError(pipeline.ErrJournalFull)
	agent(t, srv.URL(), "vm-a", 300)
	require.Eventually(t, func() bool { return r.host.Calls() >= 3 }, 10*time.Second, 10*time.Millisecond)
	r.host.SetError(nil)
	waitEvents(t, r.host, 300)
	time.Sleep(100 * time.Millisecond)
	requireJournalOrder(t, r.host.Events(), nil)
	assert.Len(t, r.host.Events(), 300)
}

// With ordering pinned, stopping the server while records flow (batches
// caught between delivery and ack, dedupe claims and acks failing) and
// starting it again on the same store keeps each agent's journal order:
// a batch the router could not finish is kept and appended before
// anything later, and what comes again is appended at most again, never
// ahead. (With ordering shared such a batch is handed back, and since
// the nack cannot reach a stopped server it comes back after ack_wait,
// behind the newer records: the order TestFleetFaultServerOutage once
// saw broken with shared partitions.)
func TestPinnedRouterKeepsOrderThroughServerRestarts(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	if pinnedRefused(t, srv.URL()) {
		return
	}
	r := startRouter(t, srv.URL(), func(c *natssource.Config) {
		pinned(c)
		c.AckWait = 2 * time.Second
	})
	a := agent(t, srv.URL(), "vm-a", 100)
	const total = 1100
	appended := make(chan error, 1)
	go func() { // the agent's journal takes events throughout (its forwarder keeps the backlog)
		for n := 101; n <= total; n += 20 {
			if _, err := a.Append(context.Background(), pipeline.AppendBatch{Events: events("vm-a", n, 20)}); err != nil {
				appended <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		appended <- nil
	}()
	for range 3 {
		time.Sleep(300 * time.Millisecond)
		srv.Stop()
		time.Sleep(2500 * time.Millisecond) // past ack_wait: what the server handed out is due again at restart
		srv.Restart()
	}
	require.NoError(t, <-appended)
	require.Eventually(t, func() bool { return len(firstSeen(t, r.host.Events())) == total }, 60*time.Second, 20*time.Millisecond)
	require.Equal(t, seqsUpTo(total), streamSeqs(t, srv, "vm-a"), "the stream holds the agent's records once each, in journal order")
	requireJournalOrder(t, firstSeen(t, r.host.Events()), nil)
}

// seqsUpTo returns 1, 2, ..., n.
func seqsUpTo(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// streamSeqs returns agent's sequences in the fleet stream, in stream
// order.
func streamSeqs(t *testing.T, srv *fleettest.Server, agent string) []uint64 {
	t.Helper()
	js := srv.JetStream(t)
	c, err := js.OrderedConsumer(t.Context(), fleet.DefaultStreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{fleet.DefaultSubjectPrefix + "." + agent},
	})
	require.NoError(t, err)
	var out []uint64
	for {
		batch, err := c.FetchNoWait(1000)
		require.NoError(t, err)
		n := 0
		for m := range batch.Messages() {
			n++
			seq, err := strconv.ParseUint(m.Headers().Get(fleet.HeaderSeq), 10, 64)
			require.NoError(t, err)
			out = append(out, seq)
		}
		require.NoError(t, batch.Error())
		if n == 0 {
			return out
		}
	}
}

// firstSeen returns evs without the records seen before (a redelivery
// appended again): the order in which each record first took effect.
func firstSeen(t *testing.T, evs []pipeline.Event) []pipeline.Event {
	t.Helper()
	seen := map[key]bool{}
	out := evs[:0:0]
	for _, e := range evs {
		if k := keyOf(t, e); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
