package k8ssink_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/k8ssink"
)

// newSink builds and starts a sink as user "sluice" (unless kubeconfig
// is set in edit) over state.
func newSink(t *testing.T, state pipeline.SinkState, edit func(*k8ssink.Config)) pipeline.Sink {
	t.Helper()
	f := k8ssink.NewFactory()
	cfg := f.DefaultConfig().(*k8ssink.Config)
	cfg.Kubeconfig = sluiceKubeconfig
	cfg.ReportingInstance = "sluice-test"
	edit(cfg)
	set := pipeline.NopSettings("k8s")
	set.State = state
	s, err := f.NewSink(t.Context(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

// newNode creates a node named name.
func newNode(t testing.TB, name string) {
	t.Helper()
	_, err := admin.CoreV1().Nodes().Create(t.Context(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// newDeployment creates a Deployment of one replica named name in
// namespace default.
func newDeployment(t testing.TB, name string) {
	t.Helper()
	one := int32(1)
	labels := map[string]string{"app": name}
	_, err := admin.AppsV1().Deployments("default").Create(t.Context(), &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// delivery returns the delivery of event seq (of type typ about subject)
// with the key the runner would give it.
func delivery(seq uint64, typ, subject string, sev pipeline.Severity, at time.Time) pipeline.Delivery {
	id := fmt.Sprintf("ev-%d", seq)
	return pipeline.Delivery{
		Event: pipeline.Event{
			ID: id, Source: "/test", Type: typ, Subject: subject, Severity: sev, Time: at, Sequence: seq,
			DataContentType: "application/json", Data: []byte(`{"probe":"web","error":"connection refused"}`),
		},
		Key:   pipeline.IdempotencyKey("/test", id, "k8s"),
		Route: "r",
	}
}

// eventsAbout lists the Events about a node (events.k8s.io/v1).
func eventsAbout(t *testing.T, node string) []string {
	t.Helper()
	list, err := admin.EventsV1().Events("default").List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == node {
			n := int32(1)
			if e.Series != nil {
				n = e.Series.Count
			}
			out = append(out, fmt.Sprintf("%s %s %s %d", e.Type, e.Reason, e.Note, n))
		}
	}
	return out
}

// nodeCondition returns the node's condition of type typ.
func nodeCondition(t *testing.T, node, typ string) *corev1.NodeCondition {
	t.Helper()
	n, err := admin.CoreV1().Nodes().Get(t.Context(), node, metav1.GetOptions{})
	require.NoError(t, err)
	for i := range n.Status.Conditions {
		if string(n.Status.Conditions[i].Type) == typ {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// failures returns the failures of a Deliver error by index, "" for none.
func failures(n int, err error) []string {
	out := make([]string, n)
	if err == nil {
		return out
	}
	var be *pipeline.BatchError
	if !errors.As(err, &be) {
		for i := range out {
			out[i] = kind(err)
		}
		return out
	}
	for _, f := range be.Failed {
		out[f.Index] = kind(f.Err)
	}
	return out
}

func kind(err error) string {
	if pipeline.IsPermanent(err) {
		return "permanent: " + err.Error()
	}
	return "transient: " + err.Error()
}
