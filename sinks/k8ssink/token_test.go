package k8ssink_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/k8ssink"
)

// serviceAccountToken creates a ServiceAccount bound to the sink's
// ClusterRole (testdata/rbac.yaml) and returns a token of it from the
// TokenRequest API.
func serviceAccountToken(t *testing.T, name string) string {
	t.Helper()
	ctx := t.Context()
	_, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
	deleteAtCleanup(t, "serviceaccount "+name, func(ctx context.Context) error {
		return admin.CoreV1().ServiceAccounts("default").Delete(ctx, name, metav1.DeleteOptions{})
	})
	_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "sluice-k8s-sink"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: "default"}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	deleteAtCleanup(t, "clusterrolebinding "+name, func(ctx context.Context) error {
		return admin.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
	})
	tr, err := admin.CoreV1().ServiceAccounts("default").CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)
	return tr.Status.Token
}

// tokenWorks reports whether the apiserver accepts token (not 401).
func tokenWorks(t *testing.T, token string) bool {
	t.Helper()
	cfg := rest.AnonymousClientConfig(kube.Admin)
	cfg.BearerToken = token
	hc, err := rest.HTTPClientFor(cfg)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, cfg.Host+"/apis", nil)
	require.NoError(t, err)
	res, err := hc.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	return res.StatusCode != http.StatusUnauthorized
}

// A token_file rotated (a projected service account token) takes effect
// at the next delivery, even when the file looks unchanged: the revoked
// token's 401 makes the sink read the file again and resend (client-go's
// own token file would keep the revoked token for a minute). The
// kubeconfig's client certificate is not sent alongside the token.
func TestTokenFileRotation(t *testing.T) {
	newNode(t, "token-node")
	first, second := serviceAccountToken(t, "sluice-rotate-a"), serviceAccountToken(t, "sluice-rotate-b")
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(first), 0o600))
	s := newSink(t, pipeline.NewMemoryState(nil), func(c *k8ssink.Config) {
		c.TokenFile = file
		eventRule(c)
	})
	t0 := time.Now()
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{delivery(1, "sluice.probe.state", "token-node", pipeline.SeverityWarning, t0)}))

	// Rotate: the file gets the second token, the first is revoked. The
	// file keeps its modification time (and, the names being of a length,
	// its size), so only the 401 makes the sink read it again.
	st, err := os.Stat(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, []byte(second), 0o600))
	require.NoError(t, os.Chtimes(file, st.ModTime(), st.ModTime()))
	require.NoError(t, admin.CoreV1().ServiceAccounts("default").Delete(t.Context(), "sluice-rotate-a", metav1.DeleteOptions{}))
	require.Eventually(t, func() bool { return !tokenWorks(t, first) }, 30*time.Second, 100*time.Millisecond, "the first token still works")
	require.True(t, tokenWorks(t, second))

	repeat := delivery(2, "sluice.probe.state", "token-node", pipeline.SeverityWarning, t0.Add(time.Second))
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{repeat}))
	assert.Equal(t, []string{"Warning ProbeFailed probe web: connection refused (ev-1) 2"}, eventsAbout(t, "token-node"))
}
