package k8ssink_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/k8ssink"
)

// faultProxy is a reverse proxy on 127.0.0.1 in front of the apiserver,
// authenticating as the user "sluice"; fault may answer a request itself
// (a code, optionally a Retry-After) or act before it is forwarded.
type faultProxy struct {
	kubeconfig string // of the proxy, without credentials

	mu    sync.Mutex
	fault func(r *http.Request, seen int) (code int, retryAfter string)
	seen  map[string][]time.Time // "METHOD path" -> arrival times
}

func newFaultProxy(t *testing.T) *faultProxy {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", sluiceKubeconfig)
	require.NoError(t, err)
	rt, err := rest.TransportFor(cfg)
	require.NoError(t, err)
	target, err := url.Parse(cfg.Host)
	require.NoError(t, err)
	p := &faultProxy{seen: map[string][]time.Time{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = rt
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		p.mu.Lock()
		p.seen[key] = append(p.seen[key], time.Now())
		n, fault := len(p.seen[key]), p.fault
		p.mu.Unlock()
		if fault != nil {
			if code, after := fault(r, n); code != 0 {
				if after != "" {
					w.Header().Set("Retry-After", after)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(code)
				_, _ = fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected %d","code":%d}`, code, code)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["proxy"] = &clientcmdapi.Cluster{Server: srv.URL}
	kc.AuthInfos["none"] = &clientcmdapi.AuthInfo{}
	kc.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "none", Namespace: "default"}
	kc.CurrentContext = "proxy"
	p.kubeconfig = filepath.Join(t.TempDir(), "proxy.kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*kc, p.kubeconfig))
	return p
}

func (p *faultProxy) inject(f func(r *http.Request, seen int) (int, string)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

// requests returns the arrival times of the requests of method whose path
// ends with suffix.
func (p *faultProxy) requests(method, suffix string) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Time
	for k, v := range p.seen {
		if strings.HasPrefix(k, method+" ") && strings.HasSuffix(k, suffix) {
			out = append(out, v...)
		}
	}
	return out
}

// 429 and 503 with Retry-After are waited out and retried within the
// delivery; a 5xx without Retry-After fails it transiently, and the
// runner's retry delivers it.
func TestRetryAfterAndServerErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		code       int
		retryAfter string
		deliveries int // Deliver calls until it succeeds
	}{
		{"429 Retry-After", http.StatusTooManyRequests, "1", 1},
		{"503 Retry-After", http.StatusServiceUnavailable, "1", 1},
		{"503", http.StatusServiceUnavailable, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := fmt.Sprintf("fault-%d-%s-node", tc.code, map[bool]string{true: "after", false: "bare"}[tc.retryAfter != ""])
			newNode(t, node)
			p := newFaultProxy(t)
			p.inject(func(r *http.Request, seen int) (int, string) {
				if r.Method == http.MethodPost && seen == 1 {
					return tc.code, tc.retryAfter
				}
				return 0, ""
			})
			s := newSink(t, pipeline.NewMemoryState(nil), func(c *k8ssink.Config) {
				c.Kubeconfig = p.kubeconfig
				eventRule(c)
			})
			d := []pipeline.Delivery{delivery(1, "sluice.probe.state", node, pipeline.SeverityWarning, time.Now())}
			err := s.Deliver(t.Context(), d)
			if tc.deliveries > 1 {
				require.Error(t, err)
				assert.False(t, pipeline.IsPermanent(err), "%v", err)
				assert.Contains(t, err.Error(), "create events.k8s.io/events")
				err = s.Deliver(t.Context(), d)
			}
			require.NoError(t, err)
			posts := p.requests(http.MethodPost, "/events")
			require.Len(t, posts, 2, "the fault, then the request that passed")
			if tc.retryAfter != "" {
				assert.GreaterOrEqual(t, posts[1].Sub(posts[0]), 900*time.Millisecond, "Retry-After: 1 not waited out")
			}
			assert.Equal(t, []string{"Warning ProbeFailed probe web: connection refused (ev-1) 1"}, eventsAbout(t, node))
		})
	}
}

// Another writer updates the Deployment between the sink's read of its
// scale and the sink's update: the apiserver answers 409, and the sink
// reads again and updates that version.
func TestScaleConflictRetriedAfterFreshRead(t *testing.T) {
	newDeployment(t, "conflict-web")
	p := newFaultProxy(t)
	bumped := make(chan error, 1)
	p.inject(func(r *http.Request, seen int) (int, string) {
		if r.Method == http.MethodPut && seen == 1 {
			// The other writer: a new resourceVersion before the update lands.
			patch := []byte(`{"metadata":{"annotations":{"other-writer":"was-here"}}}`)
			_, err := admin.AppsV1().Deployments("default").Patch(context.Background(), "conflict-web", "application/merge-patch+json", patch, metav1.PatchOptions{})
			bumped <- err
		}
		return 0, ""
	})
	s := newSink(t, pipeline.NewMemoryState(nil), func(c *k8ssink.Config) {
		c.Kubeconfig = p.kubeconfig
		c.Rules = []k8ssink.Rule{{Action: "scale", Kind: "Deployment", Name: "conflict-web", Replicas: "{{.Data.replicas}}"}}
	})
	d := delivery(1, "scale", "", pipeline.SeverityInfo, time.Now())
	d.Event.Data = []byte(`{"replicas":4}`)
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{d}))
	select {
	case err := <-bumped:
		require.NoError(t, err)
	default:
		t.Fatal("the sink's update never reached the proxy")
	}
	assert.Len(t, p.requests(http.MethodPut, "/conflict-web/scale"), 2, "the conflicting update, then the one after the fresh read")
	assert.Len(t, p.requests(http.MethodGet, "/conflict-web/scale"), 2, "a read before each update")
	got, err := admin.AppsV1().Deployments("default").Get(t.Context(), "conflict-web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(4), *got.Spec.Replicas)
	assert.Equal(t, "was-here", got.Annotations["other-writer"])
}

// A manifest the apiserver rejects (422) is a permanent failure, a dead
// letter naming the server's field errors.
func TestInvalidManifestNamesFieldErrors(t *testing.T) {
	s := newSink(t, pipeline.NewMemoryState(nil), func(c *k8ssink.Config) {
		c.Rules = []k8ssink.Rule{{Action: "apply", Manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sluice-invalid\ndata:\n  \"bad key!\": x\n"}}
	})
	d := delivery(1, "apply", "", pipeline.SeverityInfo, time.Now())
	f := failures(1, s.Deliver(t.Context(), []pipeline.Delivery{d}))
	assert.Contains(t, f[0], "permanent: apply configmaps sluice-invalid in namespace default: rejected as invalid: ")
	assert.Contains(t, f[0], `data[bad key!]: Invalid value: "bad key!"`)
	_, err := admin.CoreV1().ConfigMaps("default").Get(t.Context(), "sluice-invalid", metav1.GetOptions{})
	assert.Error(t, err, "the invalid ConfigMap was created")
}
