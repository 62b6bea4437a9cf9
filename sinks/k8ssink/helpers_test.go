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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// deleteAtCleanup deletes, once the test ends, something it created on
// the package's apiserver, so that the package can run again on the same
// apiserver (-count) without finding it; NotFound is not an error.
func deleteAtCleanup(t testing.TB, what string, del func(ctx context.Context) error) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := del(ctx); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: delete %s: %v", what, err)
		}
	})
}

// deleteEventsAtCleanup deletes, once the test ends, the Events about the
// object named name: the next run's sink would find them by name and
// count its events into their series.
func deleteEventsAtCleanup(t testing.TB, name string) {
	t.Helper()
	deleteAtCleanup(t, "the Events about "+name, func(ctx context.Context) error {
		return admin.EventsV1().Events("default").DeleteCollection(ctx, metav1.DeleteOptions{},
			metav1.ListOptions{FieldSelector: "regarding.name=" + name})
	})
}

// newNode creates a node named name, deleted with the Events about it
// when the test ends.
func newNode(t testing.TB, name string) {
	t.Helper()
	_, err := admin.CoreV1().Nodes().Create(t.Context(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
	deleteAtCleanup(t, "node "+name, func(ctx context.Context) error {
		return admin.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})
	})
	deleteEventsAtCleanup(t, name)
}

// newDeployment creates a Deployment of one replica named name in
// namespace default, deleted with the Events about it when the test ends.
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
	deleteAtCleanup(t, "deployment "+name, func(ctx context.Context) error {
		return admin.AppsV1().Deployments("default").Delete(ctx, name, metav1.DeleteOptions{})
	})
	deleteEventsAtCleanup(t, name)
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
