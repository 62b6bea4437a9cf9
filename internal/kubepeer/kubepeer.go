// Package kubepeer runs a real kube-apiserver with etcd for tests, through
// controller-runtime's envtest, from the binaries .ci/peers builds from
// source into the user cache directory. It is test support: nothing in the
// sluice binary imports it.
//
// The binaries are found through KUBEBUILDER_ASSETS (the Taskfile's test
// tasks set it), else in sluice-peers/envtest-<Version> of the user cache
// directory. When neither holds them, Start fails naming the command that
// builds them: tests that need the apiserver fail rather than skip.
package kubepeer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Version is the Kubernetes release .ci/peers builds (its K8S_VERSION).
const Version = "v1.37.2"

// ErrNoAssets is returned by Start when kube-apiserver or etcd is missing.
var ErrNoAssets = errors.New("kube-apiserver and etcd for envtest are missing (build them with: bash .ci/peers/envtest)")

// AssetsDir returns the directory holding kube-apiserver and etcd.
func AssetsDir() (string, error) {
	var tried []string
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		if hasAssets(dir) {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	if cache, err := os.UserCacheDir(); err == nil {
		dir := filepath.Join(cache, "sluice-peers", "envtest-"+Version)
		if hasAssets(dir) {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	return "", fmt.Errorf("%w; looked in %v", ErrNoAssets, tried)
}

func hasAssets(dir string) bool {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// Env is a running control plane.
type Env struct {
	*envtest.Environment
	// Admin is a configuration of a system:masters user, and Client a
	// clientset of it.
	Admin  *rest.Config
	Client *kubernetes.Clientset
	// Dir holds the certificates, kept across Restart.
	Dir string
}

// Start starts etcd and kube-apiserver (RBAC on) with their files under
// dir, which Restart keeps, so that the server keeps its certificate and
// port.
func Start(dir string) (*Env, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	api := env.ControlPlane.GetAPIServer()
	api.CertDir = filepath.Join(dir, "apiserver")
	if err := os.MkdirAll(api.CertDir, 0o700); err != nil {
		return nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("envtest: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{Environment: env, Admin: cfg, Client: client, Dir: dir}, nil
}

// Kubeconfig writes a kubeconfig for a user of groups into the
// environment's directory and returns its path.
func (e *Env) Kubeconfig(user string, groups ...string) (string, error) {
	u, err := e.AddUser(envtest.User{Name: user, Groups: groups}, e.Admin)
	if err != nil {
		return "", err
	}
	b, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(e.Dir, user+".kubeconfig")
	return path, os.WriteFile(path, b, 0o600)
}

// StopAPIServer stops kube-apiserver, leaving etcd running.
func (e *Env) StopAPIServer() error { return e.ControlPlane.GetAPIServer().Stop() }

// StartAPIServer starts kube-apiserver again, on the same port with the
// same certificates.
func (e *Env) StartAPIServer() error { return e.ControlPlane.GetAPIServer().Start() }
