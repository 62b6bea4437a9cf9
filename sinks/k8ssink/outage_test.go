package k8ssink_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/k8ssink"
)

// A Role without the verb gives a permanent failure (a dead letter)
// naming the verb, the resource and the namespace RBAC denied.
func TestForbiddenNamesTheVerb(t *testing.T) {
	ctx := t.Context()
	_, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "events-create-only"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	deleteAtCleanup(t, "clusterrole events-create-only", func(ctx context.Context) error {
		return admin.RbacV1().ClusterRoles().Delete(ctx, "events-create-only", metav1.DeleteOptions{})
	})
	_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "events-create-only"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "events-create-only"},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "nopatch"}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	deleteAtCleanup(t, "clusterrolebinding events-create-only", func(ctx context.Context) error {
		return admin.RbacV1().ClusterRoleBindings().Delete(ctx, "events-create-only", metav1.DeleteOptions{})
	})
	kc, err := kube.Kubeconfig("nopatch")
	require.NoError(t, err)
	newNode(t, "rbac-node")
	s := newSink(t, pipeline.NewMemoryState(nil), func(c *k8ssink.Config) {
		c.Kubeconfig = kc
		eventRule(c)
	})
	t0 := time.Now()
	first := delivery(1, "sluice.probe.state", "rbac-node", pipeline.SeverityWarning, t0)
	require.NoError(t, s.Deliver(ctx, []pipeline.Delivery{first})) // create is allowed
	repeat := delivery(2, "sluice.probe.state", "rbac-node", pipeline.SeverityWarning, t0.Add(time.Second))
	f := failures(1, s.Deliver(ctx, []pipeline.Delivery{repeat}))
	assert.Contains(t, f[0], "permanent: patch events.k8s.io/events rbac-node.")
	assert.Contains(t, f[0], "forbidden by RBAC: the service account may not patch events.k8s.io/events in namespace default")
}

// The apiserver stopped and started mid-stream: the deliveries sent
// while it is down fail transiently, and once they are retried every
// event is counted exactly once.
func TestAPIServerRestart(t *testing.T) {
	newNode(t, "restart-node")
	s := newSink(t, pipeline.NewMemoryState(nil), func(c *k8ssink.Config) {
		eventRule(c)
		c.Timeout = 2 * time.Second
	})
	t0 := time.Now().Add(-time.Minute)
	var all []pipeline.Delivery
	for i := range 30 {
		all = append(all, delivery(uint64(i+1), "sluice.probe.state", "restart-node", pipeline.SeverityWarning, t0.Add(time.Duration(i)*time.Second)))
	}
	require.NoError(t, s.Deliver(t.Context(), all[:10]))
	require.NoError(t, kube.StopAPIServer())
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = kube.StartAPIServer()
		}
	})
	var pending []pipeline.Delivery
	for i := 10; i < 20; i += 5 {
		err := s.Deliver(t.Context(), all[i:i+5])
		require.Error(t, err)
		require.False(t, pipeline.IsPermanent(err), "%v", err)
		pending = append(pending, all[i:i+5]...)
	}
	require.NoError(t, kube.StartAPIServer())
	restarted = true
	require.Eventually(t, func() bool { return s.Deliver(t.Context(), pending) == nil }, 60*time.Second, time.Second)
	require.NoError(t, s.Deliver(t.Context(), all[20:]))
	assert.Equal(t, []string{"Warning ProbeFailed probe web: connection refused (ev-1) 30"}, eventsAbout(t, "restart-node"))
}
