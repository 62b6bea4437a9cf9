package k8ssink_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/k8ssink"
)

func conditionRule(c *k8ssink.Config) {
	c.Heartbeat = time.Second
	c.Rules = []k8ssink.Rule{{Action: "condition", Condition: "SluiceProbeFailed", Reason: "{{if eq .Severity \"info\"}}ProbeHealthy{{else}}ProbeFailing{{end}}", Note: "{{.Data.error}}"}}
}

// Conditions follow the status, keep lastTransitionTime while it holds,
// get heartbeats, and a replay changes nothing.
func TestConditionTransitionsAndHeartbeat(t *testing.T) {
	newNode(t, "cond-node")
	state := pipeline.NewMemoryState(nil)
	s := newSink(t, state, conditionRule)
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	up := delivery(1, "sluice.probe.state", "cond-node", pipeline.SeverityWarning, t0)
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{up}))
	c := nodeCondition(t, "cond-node", "SluiceProbeFailed")
	require.NotNil(t, c)
	assert.Equal(t, corev1.ConditionTrue, c.Status)
	assert.Equal(t, "ProbeFailing", c.Reason)
	assert.Equal(t, "connection refused", c.Message)
	assert.True(t, c.LastTransitionTime.Time.Equal(t0))
	beat := c.LastHeartbeatTime

	// The status holds: the transition time stays, the heartbeat moves.
	again := delivery(2, "sluice.probe.state", "cond-node", pipeline.SeverityError, t0.Add(time.Minute))
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{again}))
	require.Eventually(t, func() bool {
		c = nodeCondition(t, "cond-node", "SluiceProbeFailed")
		return c.LastHeartbeatTime.After(beat.Time)
	}, 10*time.Second, 200*time.Millisecond, "no heartbeat")
	assert.Equal(t, corev1.ConditionTrue, c.Status)
	assert.True(t, c.LastTransitionTime.Time.Equal(t0), "transition moved to %v", c.LastTransitionTime)

	// Recovery: False, transition at the recovery's time.
	down := delivery(3, "sluice.probe.state", "cond-node", pipeline.SeverityInfo, t0.Add(2*time.Minute))
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{down}))
	c = nodeCondition(t, "cond-node", "SluiceProbeFailed")
	assert.Equal(t, corev1.ConditionFalse, c.Status)
	assert.Equal(t, "ProbeHealthy", c.Reason)
	assert.True(t, c.LastTransitionTime.Time.Equal(t0.Add(2*time.Minute)))

	// A replay of the range does not flip it back.
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{up, again, down}))
	c = nodeCondition(t, "cond-node", "SluiceProbeFailed")
	assert.Equal(t, corev1.ConditionFalse, c.Status)
	assert.True(t, c.LastTransitionTime.Time.Equal(t0.Add(2*time.Minute)))

	// A sink without state reads the node: the status holds, so the
	// transition time does too.
	fresh := newSink(t, pipeline.NewMemoryState(nil), conditionRule)
	still := delivery(4, "sluice.probe.state", "cond-node", pipeline.SeverityInfo, t0.Add(3*time.Minute))
	require.NoError(t, fresh.Deliver(t.Context(), []pipeline.Delivery{still}))
	c = nodeCondition(t, "cond-node", "SluiceProbeFailed")
	assert.True(t, c.LastTransitionTime.Time.Equal(t0.Add(2*time.Minute)), "transition %v", c.LastTransitionTime)
}

// Scale sets replicas through the scale subresource; apply writes a
// manifest with server-side apply and reports a conflict unless forced.
func TestScaleAndApply(t *testing.T) {
	newDeployment(t, "web")
	deleteAtCleanup(t, "configmap sluice-state", func(ctx context.Context) error {
		return admin.CoreV1().ConfigMaps("default").Delete(ctx, "sluice-state", metav1.DeleteOptions{})
	})
	s := newSink(t, pipeline.NewMemoryState(nil), func(c *k8ssink.Config) {
		c.Rules = []k8ssink.Rule{
			{Types: []string{"scale"}, Action: "scale", Kind: "Deployment", Name: "web", Replicas: "{{.Data.replicas}}"},
			{Types: []string{"apply"}, Action: "apply", Manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{.Subject}}\ndata:\n  state: {{.Data.state}}\n"},
			{Types: []string{"apply.force"}, Action: "apply", Force: true, Manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{.Subject}}\ndata:\n  state: {{.Data.state}}\n"},
		}
	})
	d := func(seq uint64, typ, subject, data string) pipeline.Delivery {
		x := delivery(seq, typ, subject, pipeline.SeverityInfo, time.Now())
		x.Event.Data = []byte(data)
		return x
	}
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{d(1, "scale", "", `{"replicas":2}`), d(2, "scale", "", `{"replicas":3}`)}))
	got, err := admin.AppsV1().Deployments("default").Get(t.Context(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(3), *got.Spec.Replicas)

	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{d(3, "apply", "sluice-state", `{"state":"up"}`)}))
	cm, err := admin.CoreV1().ConfigMaps("default").Get(t.Context(), "sluice-state", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "up", cm.Data["state"])
	assert.Equal(t, "sluice", cm.ManagedFields[0].Manager)

	// Another manager takes the field: sluice's apply conflicts, permanently.
	cm.Data["state"] = "theirs"
	_, err = admin.CoreV1().ConfigMaps("default").Update(t.Context(), cm, metav1.UpdateOptions{FieldManager: "operator"})
	require.NoError(t, err)
	f := failures(1, s.Deliver(t.Context(), []pipeline.Delivery{d(4, "apply", "sluice-state", `{"state":"down"}`)}))
	assert.Contains(t, f[0], "permanent: apply configmaps sluice-state in namespace default: conflict")
	assert.Contains(t, f[0], `"operator"`)
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{d(5, "apply.force", "sluice-state", `{"state":"down"}`)}))
	cm, err = admin.CoreV1().ConfigMaps("default").Get(t.Context(), "sluice-state", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "down", cm.Data["state"])
}
