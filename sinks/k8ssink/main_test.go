package k8ssink_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/sluice-dev/sluice/internal/kubepeer"
)

// kube is the control plane every test of the package shares: a real
// kube-apiserver and etcd (internal/kubepeer). sluiceKubeconfig is the
// user "sluice", bound to testdata/rbac.yaml only; admin reads and sets up.
var (
	kube             *kubepeer.Env
	admin            *kubernetes.Clientset
	sluiceKubeconfig string
)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8ssink tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "k8ssink-envtest-")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	kube, err = kubepeer.Start(dir)
	if err != nil {
		return 0, err // a missing peer fails the package; .ci/peers builds it
	}
	defer func() { _ = kube.Stop() }()
	admin = kube.Client
	if sluiceKubeconfig, err = kube.Kubeconfig("sluice"); err != nil {
		return 0, err
	}
	if err := kube.ApplyRBAC(context.Background(), "testdata/rbac.yaml"); err != nil {
		return 0, err
	}
	return m.Run(), nil
}
