package e2e

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestLBStateToKubernetes runs the binary with an lbworker source over
// HTTP, reply_after: [haproxy] on a real HAProxy, and a route that sends
// sluice.lb.state events to a k8s sink on a real kube-apiserver
// (envtest, with the sink's minimal RBAC). After UPDATE of two load
// balancers, SUSPEND, ENABLE and DELETE, the API holds one
// events.k8s.io/v1 Event per load balancer and request, about the
// Service named after the load balancer, with the state change as reason,
// action and note, their event times in request order.
func TestLBStateToKubernetes(t *testing.T) {
	kube, kubeconfig := startKube(t)
	lb := startLBHAProxy(t, lbStateOptions(fmt.Sprintf(`  - name: kube
    type: k8s
    retry: {initial: 50ms, max: 500ms, multiplier: 2}
    with:
      kubeconfig: %s
      rules:
        - types: [sluice.lb.state]
          action: event
          kind: Service
          name: 'lb-{{.Data.load_balancer}}'
          reason: '{{.Data.to}}'
          event_action: '{{.Data.action}}'
          event_type: Normal
          note: 'from={{.Data.from}} to={{.Data.to}} request={{.Data.request_id}}'`, kubeconfig), "kube"))
	lbLifecycle(t, lb.ingest)

	want := lbLifecycleChanges
	list := func() []eventsv1.Event {
		l, err := kube.Client.EventsV1().Events("default").List(t.Context(), metav1.ListOptions{})
		require.NoError(t, err)
		return l.Items
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(list()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
	}
	require.NoError(t, lb.e.stop(30*time.Second))
	events := list() // nothing more arrived
	slices.SortStableFunc(events, func(a, b eventsv1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })

	var got []lbChange
	requests := map[string]string{} // request id -> action
	for _, ev := range events {
		assert.Equal(t, "Service", ev.Regarding.Kind, ev.Name)
		assert.Equal(t, "v1", ev.Regarding.APIVersion, ev.Name)
		assert.Equal(t, "default", ev.Regarding.Namespace, ev.Name)
		assert.Equal(t, "Normal", ev.Type, ev.Name)
		assert.Equal(t, "sluice.dev/sluice", ev.ReportingController, ev.Name)
		assert.Nil(t, ev.Series, "one state change, one Event")
		var from, to, request string
		for f := range strings.FieldsSeq(ev.Note) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "from":
				from = v
			case "to":
				to = v
			case "request":
				request = v
			}
		}
		assert.Equal(t, ev.Reason, to, ev.Note)
		require.NotEmpty(t, request, ev.Note)
		if prev, seen := requests[request]; seen {
			assert.Equal(t, prev, ev.Action, "one request, one action")
		}
		requests[request] = ev.Action
		got = append(got, lbChange{ev.Action, strings.TrimPrefix(ev.Regarding.Name, "lb-"), from, to})
	}
	assert.Len(t, requests, 4, "one request id per request: %v", requests)
	// Within one request the order of the load balancers is not defined.
	sortRuns(got, func(c lbChange) string { return c.Action }, func(c lbChange) string { return c.LB })
	assert.Equal(t, want, got, "in request order")
	assert.True(t, slices.IsSortedFunc(events, func(a, b eventsv1.Event) int {
		return cmp.Compare(a.EventTime.UnixMicro(), b.EventTime.UnixMicro())
	}))
	assert.NotContains(t, lb.e.stderr.String(), "level=ERROR")
}
