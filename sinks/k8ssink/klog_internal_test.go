package k8ssink

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"

	"github.com/sluice-dev/sluice/pipeline"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	ch chan struct{}
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.ch <- struct{}{}
	defer func() { <-b.ch }()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.ch <- struct{}{}
	defer func() { <-b.ch }()
	return b.b.String()
}

// What client-go logs through klog reaches the sink's slog logger, never
// stderr: with a request's context, the sending sink's logger; without,
// the logger of the sink provisioned last.
func TestKlogGoesToSlog(t *testing.T) {
	kubeconfig := writeKubeconfig(t)
	newLogged := func(name string) (*sink, *syncBuffer) {
		buf := &syncBuffer{ch: make(chan struct{}, 1)}
		set := pipeline.NopSettings(name)
		set.Logger = slog.New(slog.NewTextHandler(buf, nil)).With(slog.String("name", name))
		cfg := defaultConfig()
		cfg.Kubeconfig = kubeconfig
		cfg.Rules = []Rule{{Action: actionEvent}}
		s, err := newSink(t.Context(), set, cfg)
		require.NoError(t, err)
		require.NoError(t, s.Provision(t.Context()))
		return s, buf
	}
	a, bufA := newLogged("a")
	_, bufB := newLogged("b")

	stderr := os.Stderr
	r, w, err := os.Pipe()
	require.NoError(t, err)
	os.Stderr = w
	klog.Error("global error from client-go")
	klog.FromContext(a.withKlog(context.Background())).Info("request log from client-go")
	klog.Flush()
	os.Stderr = stderr
	require.NoError(t, w.Close())
	onStderr, err := io.ReadAll(r)
	require.NoError(t, err)

	assert.Empty(t, string(onStderr))
	assert.Contains(t, bufB.String(), `level=ERROR msg="global error from client-go" name=b library=client-go`)
	assert.Contains(t, bufA.String(), `level=INFO msg="request log from client-go" name=a library=client-go`)
	assert.NotContains(t, bufA.String(), "global error")
	assert.NotContains(t, bufB.String(), "request log")
}

// writeKubeconfig writes a kubeconfig of a server that is never called.
func writeKubeconfig(t *testing.T) string {
	t.Helper()
	p := t.TempDir() + "/kubeconfig"
	require.NoError(t, os.WriteFile(p, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600))
	return p
}
