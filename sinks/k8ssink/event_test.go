package k8ssink_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/k8ssink"
)

func eventRule(c *k8ssink.Config) {
	c.Rules = []k8ssink.Rule{{Action: "event", Reason: "ProbeFailed", EventAction: "Probe", Note: "probe {{.Data.probe}}: {{.Data.error}} ({{.ID}})"}}
}

// A hundred repeats of one isomorphic event become one Event whose series
// counts 100; a replay of the whole range, with the state kept or lost,
// creates no other Event and leaves the count.
func TestEventSeriesAndReplay(t *testing.T) {
	newNode(t, "series-node")
	state := pipeline.NewMemoryState(nil)
	s := newSink(t, state, eventRule)
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var all []pipeline.Delivery
	for i := range 100 {
		all = append(all, delivery(uint64(i+1), "sluice.probe.state", "series-node", pipeline.SeverityWarning, t0.Add(time.Duration(i)*time.Second)))
	}
	for i := range 20 { // one at a time, as a slow stream
		require.NoError(t, s.Deliver(t.Context(), all[i:i+1]))
	}
	for i := 20; i < 100; i += 10 { // in batches, as under load
		require.NoError(t, s.Deliver(t.Context(), all[i:i+10]))
	}
	want := []string{"Warning ProbeFailed probe web: connection refused (ev-1) 100"}
	assert.Equal(t, want, eventsAbout(t, "series-node"))

	list, err := admin.EventsV1().Events("default").List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	for _, e := range list.Items {
		if e.Regarding.Name != "series-node" {
			continue
		}
		assert.Equal(t, "sluice.dev/sluice", e.ReportingController)
		assert.Equal(t, "sluice-test", e.ReportingInstance)
		assert.Equal(t, "Probe", e.Action)
		assert.Equal(t, "Node", e.Regarding.Kind)
		assert.Equal(t, "series-node."+all[0].Key, e.Name)
		assert.True(t, e.EventTime.Time.Equal(t0), "eventTime %v", e.EventTime)
		assert.True(t, e.Series.LastObservedTime.Time.Equal(t0.Add(99*time.Second)))
	}

	// Replay with the state kept: every delivery is known.
	require.NoError(t, s.Deliver(t.Context(), all))
	assert.Equal(t, want, eventsAbout(t, "series-node"))

	// Replay into a sink that lost its state: the same names, the same counts.
	fresh := newSink(t, pipeline.NewMemoryState(nil), eventRule)
	for i := 0; i < 100; i += 25 {
		require.NoError(t, fresh.Deliver(t.Context(), all[i:i+25]))
	}
	assert.Equal(t, want, eventsAbout(t, "series-node"))

	// The state survives a restart: a new sink over it continues the series.
	s2 := newSink(t, pipeline.NewMemoryState(state.All()), eventRule)
	require.NoError(t, s2.Deliver(t.Context(), []pipeline.Delivery{delivery(101, "sluice.probe.state", "series-node", pipeline.SeverityWarning, t0.Add(100*time.Second))}))
	assert.Equal(t, []string{"Warning ProbeFailed probe web: connection refused (ev-1) 101"}, eventsAbout(t, "series-node"))

	// Past series_idle an isomorphic event starts a new Event.
	late := delivery(102, "sluice.probe.state", "series-node", pipeline.SeverityInfo, t0.Add(time.Hour))
	require.NoError(t, s2.Deliver(t.Context(), []pipeline.Delivery{late}))
	assert.ElementsMatch(t, []string{
		"Warning ProbeFailed probe web: connection refused (ev-1) 101",
		"Normal ProbeFailed probe web: connection refused (ev-102) 1",
	}, eventsAbout(t, "series-node"))
}

// Every event.k8s.io/v1 rule the server checks is met, for long fields
// too, and events no rule maps are dead-lettered with the reason.
func TestEventLimitsAndUnmapped(t *testing.T) {
	newNode(t, "limits-node")
	long := fmt.Sprintf("%02000d", 7)
	s := newSink(t, pipeline.NewMemoryState(nil), func(c *k8ssink.Config) {
		c.ReportingInstance = fmt.Sprintf("%0128d", 1)
		c.Rules = []k8ssink.Rule{{Types: []string{"sluice.probe.*"}, Action: "event", Reason: long, EventAction: long, Note: long}}
	})
	batch := []pipeline.Delivery{
		delivery(1, "sluice.probe.state", "limits-node", pipeline.SeverityError, time.Now()),
		delivery(2, "other.type", "limits-node", pipeline.SeverityError, time.Now()),
	}
	err := s.Deliver(t.Context(), batch)
	f := failures(2, err)
	assert.Empty(t, f[0])
	assert.Contains(t, f[1], "permanent: k8s sink: no rule maps the event: type \"other.type\" from route \"r\"")
	ev := eventsAbout(t, "limits-node")
	require.Len(t, ev, 1)
	assert.Len(t, ev[0], len("Warning ")+128+1+1024+2)
}

// Without reporting_instance, Events report "sluice-" and the host name.
func TestDefaultReportingInstance(t *testing.T) {
	newNode(t, "instance-node")
	s := newSink(t, pipeline.NewMemoryState(nil), func(c *k8ssink.Config) {
		c.ReportingInstance = ""
		eventRule(c)
	})
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{delivery(1, "sluice.probe.state", "instance-node", pipeline.SeverityWarning, time.Now())}))
	host, err := os.Hostname()
	require.NoError(t, err)
	list, err := admin.EventsV1().Events("default").List(t.Context(), metav1.ListOptions{FieldSelector: "regarding.name=instance-node"})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	assert.Equal(t, "sluice-"+host, list.Items[0].ReportingInstance)
}
