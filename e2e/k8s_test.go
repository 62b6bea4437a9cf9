package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/internal/kubepeer"
)

// startKube runs a kube-apiserver and etcd (internal/kubepeer) for one
// test, with the k8s sink's minimal RBAC (sinks/k8ssink/testdata/rbac.yaml)
// bound to the user "sluice", and returns it with that user's kubeconfig.
func startKube(t testing.TB) (*kubepeer.Env, string) {
	t.Helper()
	kube, err := kubepeer.Start(t.TempDir())
	require.NoError(t, err) // a missing peer fails the test; .ci/peers builds it
	t.Cleanup(func() { _ = kube.Stop() })
	require.NoError(t, kube.ApplyRBAC(t.Context(), filepath.Join("..", "sinks", "k8ssink", "testdata", "rbac.yaml")))
	kc, err := kube.Kubeconfig("sluice")
	require.NoError(t, err)
	return kube, kc
}

// A probe going unhealthy on a node becomes, through the binary, a
// Warning Event about that Node and the node condition
// SluiceProbeFailed=True; on recovery the condition goes back to False.
// lastTransitionTime moves only on those status changes, while the
// heartbeat keeps lastHeartbeatTime fresh.
func TestK8sProbeEventsAndConditions(t *testing.T) {
	t.Parallel()
	kube, kubeconfig := startKube(t)
	ctx := t.Context()
	const node = "worker-1"
	_, err := kube.Client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, metav1.CreateOptions{})
	require.NoError(t, err)

	target := &probeTarget{status: http.StatusOK, release: make(chan struct{})}
	srv := httptest.NewServer(target)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	admin := freeAddr(t)
	cfg := writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: %[2]s}
log: {level: warn}
sources:
  - name: health
    type: probe
    with:
      probes:
        - {name: %[5]s, kind: http, url: "%[3]s/healthz", interval: 100ms, timeout: 5s, failure_threshold: 2}
sinks:
  - name: kube-events
    type: k8s
    with:
      kubeconfig: %[4]s
      rules:
        - types: [sluice.probe.state]
          action: event
          reason: '{{if eq .Data.state "unhealthy"}}ProbeFailed{{else}}ProbeHealthy{{end}}'
          event_action: Probe
          note: 'probe {{.Data.probe}} is {{.Data.state}}'
  - name: kube-conditions
    type: k8s
    with:
      kubeconfig: %[4]s
      heartbeat: 1s
      rules:
        - types: [sluice.probe.state]
          action: condition
          condition: SluiceProbeFailed
          reason: '{{if eq .Data.state "unhealthy"}}ProbeFailed{{else}}ProbeHealthy{{end}}'
          note: 'probe {{.Data.probe}} is {{.Data.state}}'
routes:
  - name: to-kube
    from: [health]
    to: [kube-events, kube-conditions]
`, dir, admin, srv.URL, kubeconfig, node))
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)

	// Healthy first: the condition exists and is False.
	first := waitCondition(t, kube, node, corev1.ConditionFalse)
	assert.Equal(t, "ProbeHealthy", first.Reason)

	// Unhealthy: a Warning Event about the Node, the condition True. The
	// API keeps condition times to the second: wait for the next one.
	time.Sleep(time.Until(first.LastTransitionTime.Add(1100 * time.Millisecond)))
	target.set(http.StatusInternalServerError, false)
	failing := waitCondition(t, kube, node, corev1.ConditionTrue)
	assert.Equal(t, "ProbeFailed", failing.Reason)
	assert.Equal(t, "probe "+node+" is unhealthy", failing.Message)
	assert.True(t, failing.LastTransitionTime.After(first.LastTransitionTime.Time), "the transition time moved with the status")
	warning := waitEvent(t, kube, node, corev1.EventTypeWarning)
	assert.Equal(t, "ProbeFailed", warning.Reason)
	assert.Equal(t, "Probe", warning.Action)
	assert.Equal(t, "probe "+node+" is unhealthy", warning.Note)
	assert.Equal(t, corev1.ObjectReference{Kind: "Node", APIVersion: "v1", Name: node}, warning.Regarding)
	assert.Equal(t, "sluice.dev/sluice", warning.ReportingController)

	// The status holds: heartbeats move lastHeartbeatTime, not the
	// transition time.
	var held *corev1.NodeCondition
	require.Eventually(t, func() bool {
		held = nodeCondition(t, kube, node)
		return held.LastHeartbeatTime.After(failing.LastHeartbeatTime.Add(time.Second))
	}, 30*time.Second, 100*time.Millisecond, "no heartbeat")
	assert.Equal(t, corev1.ConditionTrue, held.Status)
	assert.True(t, held.LastTransitionTime.Equal(&failing.LastTransitionTime), "transition moved from %v to %v", failing.LastTransitionTime, held.LastTransitionTime)

	// Recovery: False again, a Normal Event.
	target.set(http.StatusOK, false)
	recovered := waitCondition(t, kube, node, corev1.ConditionFalse)
	assert.Equal(t, "ProbeHealthy", recovered.Reason)
	assert.True(t, recovered.LastTransitionTime.After(failing.LastTransitionTime.Time))
	waitEvent(t, kube, node, corev1.EventTypeNormal)
	require.NoError(t, e.stop(30*time.Second))
	assert.Len(t, eventsOf(t, kube, node, corev1.EventTypeWarning), 1, "one Warning Event: one unhealthy transition")
	assert.NotContains(t, e.stderr.String(), "level=ERROR")
}

// nodeCondition reads the node's SluiceProbeFailed condition (nil when
// it has none).
func nodeCondition(t *testing.T, kube *kubepeer.Env, node string) *corev1.NodeCondition {
	t.Helper()
	n, err := kube.Client.CoreV1().Nodes().Get(context.Background(), node, metav1.GetOptions{})
	require.NoError(t, err)
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == "SluiceProbeFailed" {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// waitCondition waits until the node's SluiceProbeFailed condition has
// status and returns it.
func waitCondition(t *testing.T, kube *kubepeer.Env, node string, status corev1.ConditionStatus) *corev1.NodeCondition {
	t.Helper()
	var c *corev1.NodeCondition
	require.Eventually(t, func() bool {
		c = nodeCondition(t, kube, node)
		return c != nil && c.Status == status
	}, 30*time.Second, 50*time.Millisecond, "waiting for SluiceProbeFailed=%s on %s", status, node)
	return c
}

// eventsOf lists the events.k8s.io/v1 Events of type typ about a node.
func eventsOf(t *testing.T, kube *kubepeer.Env, node, typ string) []eventsv1.Event {
	t.Helper()
	list, err := kube.Client.EventsV1().Events("default").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == node && e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits for an Event of type typ about the node.
func waitEvent(t *testing.T, kube *kubepeer.Env, node, typ string) eventsv1.Event {
	t.Helper()
	var got []eventsv1.Event
	require.Eventually(t, func() bool {
		got = eventsOf(t, kube, node, typ)
		return len(got) > 0
	}, 30*time.Second, 50*time.Millisecond, "waiting for a %s Event about %s", typ, node)
	return got[0]
}
