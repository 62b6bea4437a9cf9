package k8ssink

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// maxRetries bounds client-go's own retries of one request that the server
// answered 429 or 5xx with Retry-After (it waits as told); past them the
// delivery fails transiently and the runner's backoff takes over.
const maxRetries = 3

// client is the sink's one REST client for every API group it uses. It
// holds the loaded configuration from Provision on, and builds the HTTP
// client, its TLS configuration and its rate limiter at the first request.
//
// The sink does not link client-go's typed clientsets: each typed group
// client imports client-go's scheme, which registers every API group of
// Kubernetes at init and costs about 10 MB of idle RSS; nor k8s.io/api,
// whose core/v1 alone is 2 MB of code and tables (docs/benchmarks.md).
// Requests carry the few fields the sink writes in local structs (types.go)
// as JSON instead.
type client struct {
	cfg       *rest.Config
	namespace string     // the default namespace the configuration gave
	source    string     // where the configuration came from, for logs
	token     *tokenFile // token_file, nil without one

	mu sync.Mutex
	rc *rest.RESTClient
}

// loadClient reads the configuration: the kubeconfig (path and context)
// or the in-cluster service account, in the DCAE plugin's order. It reads
// files and makes no request.
func loadClient(c *Config, logger *slog.Logger) (*client, error) {
	cfg, ns, source, err := restConfig(c)
	if err != nil {
		return nil, err
	}
	if cfg.Insecure {
		return nil, fmt.Errorf("%s: %w", source, ErrInsecure)
	}
	if err := checkHost(cfg.Host); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var token *tokenFile
	if c.TokenFile != "" {
		if _, err := httpclient.ReadSecretFile(c.TokenFile); err != nil {
			return nil, fmt.Errorf("token_file: %w", err)
		}
		// The token replaces every other credential, client certificates
		// included; tokenFile reads it again when the file changes and
		// after a 401 (which do answers with one more attempt).
		token = &tokenFile{path: c.TokenFile}
		cfg.BearerToken, cfg.BearerTokenFile = "", ""
		cfg.ExecProvider, cfg.AuthProvider, cfg.Username, cfg.Password = nil, nil, "", ""
		cfg.CertFile, cfg.CertData, cfg.KeyFile, cfg.KeyData = "", nil, "", nil
		cfg.WrapTransport = token.wrap
	}
	cfg.QPS, cfg.Burst, cfg.Timeout = c.QPS, c.Burst, c.Timeout
	cfg.UserAgent = httpclient.UserAgent()
	cfg.WarningHandlerWithContext = warningLogger{logger}
	cfg.WarningHandler = nil
	if c.Namespace != "" {
		ns = c.Namespace
	}
	if ns == "" {
		ns = "default"
	}
	return &client{cfg: cfg, namespace: ns, source: source, token: token}, nil
}

// restConfig returns the configuration, its namespace and a description
// of its origin.
func restConfig(c *Config) (*rest.Config, string, string, error) {
	if c.InCluster {
		return inCluster()
	}
	path := c.Kubeconfig
	if path == "" {
		path = findKubeconfig()
	}
	if path == "" {
		return inCluster()
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path},
		&clientcmd.ConfigOverrides{CurrentContext: c.Context})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", "", fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, "", "", fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return cfg, ns, "kubeconfig " + path, nil
}

// findKubeconfig returns $KUBECONFIG's first file or ~/.kube/config when
// it exists, else "".
func findKubeconfig() string {
	var candidates []string
	if env := os.Getenv("KUBECONFIG"); env != "" {
		candidates = append(candidates, filepath.SplitList(env)...)
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".kube", "config"))
	}
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// serviceAccountNamespace is where a pod's namespace is mounted.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

func inCluster() (*rest.Config, string, string, error) {
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, "", "", fmt.Errorf("%w: no kubeconfig found and not in a cluster: %w", ErrNoConfig, err)
	}
	ns := ""
	if b, err := os.ReadFile(serviceAccountNamespace); err == nil {
		ns = string(b)
	}
	return cfg, ns, "in-cluster service account", nil
}

// checkHost refuses a server reached without TLS, except on loopback.
func checkHost(host string) error {
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return nil // client-go resolves a bare host:port as https
	}
	if u.Scheme == "https" {
		return nil
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || h == "localhost" {
		return nil
	}
	return fmt.Errorf("%w: server %s", ErrInsecure, host)
}

// rest returns the REST client, building it at the first call.
func (c *client) rest() (*rest.RESTClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rc != nil {
		return c.rc, nil
	}
	cfg := dynamic.ConfigFor(c.cfg) // JSON, errors decoded as metav1.Status
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.source, err)
	}
	rc, err := rest.UnversionedRESTClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.source, err)
	}
	c.rc = rc
	return rc, nil
}

// warningLogger logs the server's Warning headers.
type warningLogger struct{ logger *slog.Logger }

func (w warningLogger) HandleWarningHeaderWithContext(ctx context.Context, code int, _ string, text string) {
	if code == 299 && text != "" {
		w.logger.WarnContext(ctx, "kube-apiserver warning", slog.String("warning", text))
	}
}
