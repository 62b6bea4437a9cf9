package probesource_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sources/probesource"
)

// headerRecorder is a server that answers 200 and remembers the value of
// X-Api-Key of every request.
type headerRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newHeaderRecorder(t *testing.T) *headerRecorder {
	t.Helper()
	h := &headerRecorder{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.seen = append(h.seen, r.Header.Get("X-Api-Key"))
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *headerRecorder) values() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

// redirector answers every request with a 307 to target.
func redirector(target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	})
}

// TestRedirectNeverDowngrades checks issue 13 item 12: a redirect from
// https to plain http is never followed, whatever follow_redirects says,
// and the check fails saying so; the plain http server sees nothing.
func TestRedirectNeverDowngrades(t *testing.T) {
	t.Parallel()
	plain := newHeaderRecorder(t)
	tlsSrv := httptest.NewTLSServer(redirector(plain.URL + "/landing"))
	t.Cleanup(tlsSrv.Close)
	for _, policy := range []string{probesource.RedirectsAny, probesource.RedirectsSameHost} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			d := firstState(t, fmt.Sprintf(`{kind: https, url: %q, interval: 50ms, failure_threshold: 1, follow_redirects: %s, headers: {X-Api-Key: s3cret}, tls: {insecure_skip_verify: true}}`, tlsSrv.URL, policy))
			if policy == probesource.RedirectsSameHost {
				// Another port is another host: judged by its own status.
				assert.True(t, d.Healthy, d.Error)
				return
			}
			assert.False(t, d.Healthy)
			assert.Contains(t, d.Error, "refused a redirect from https to plain http")
		})
	}
	// Same host and port, scheme changed: the downgrade is refused too.
	t.Run("same host:port", func(t *testing.T) {
		t.Parallel()
		var srv *httptest.Server
		srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, strings.Replace(srv.URL, "https://", "http://", 1)+"/x", http.StatusTemporaryRedirect)
		}))
		t.Cleanup(srv.Close)
		d := firstState(t, fmt.Sprintf(`{kind: https, url: %q, interval: 50ms, failure_threshold: 1, follow_redirects: same_host, tls: {insecure_skip_verify: true}}`, srv.URL))
		assert.False(t, d.Healthy)
		assert.Contains(t, d.Error, "refused a redirect from https to plain http")
	})
	assert.Empty(t, plain.values(), "nothing reached the plain http server")
}

// TestRedirectToAnotherHostDropsHeaders checks issue 13 item 12: with
// follow_redirects: any, the configured (secret) headers are not sent to
// another host, and are still sent along a redirect to the same host.
func TestRedirectToAnotherHostDropsHeaders(t *testing.T) {
	t.Parallel()
	other := newHeaderRecorder(t)
	away := httptest.NewServer(redirector(other.URL + "/elsewhere"))
	t.Cleanup(away.Close)
	d := firstState(t, fmt.Sprintf(`{kind: http, url: %q, interval: 50ms, failure_threshold: 1, follow_redirects: any, headers: {X-Api-Key: s3cret}}`, away.URL))
	require.True(t, d.Healthy, d.Error)
	assert.Equal(t, []string{""}, other.values(), "the secret header did not follow the redirect to another host")

	same := newHeaderRecorder(t)
	mux := http.NewServeMux()
	mux.Handle("/start", redirector("/end"))
	mux.Handle("/end", same.Config.Handler)
	hop := httptest.NewServer(mux)
	t.Cleanup(hop.Close)
	d = firstState(t, fmt.Sprintf(`{kind: http, url: %q, interval: 50ms, failure_threshold: 1, follow_redirects: same_host, headers: {X-Api-Key: s3cret}}`, hop.URL+"/start"))
	require.True(t, d.Healthy, d.Error)
	assert.Equal(t, []string{"s3cret"}, same.values(), "a redirect to the same host keeps the headers")
}

// TestPasswordInPlainHTTPURL checks issue 13 item 9 for probes: a user
// and password in a plain http URL to a host that is not loopback is
// refused unless allow_insecure_auth, without showing the password.
func TestPasswordInPlainHTTPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg string
		ok  bool
	}{
		{cfg: `{kind: http, url: "http://u:hunter2@health.example/x"}`},
		{cfg: `{kind: http, url: "http://token@10.0.0.7:8080/x"}`},
		{cfg: `{kind: http, url: "http://u:hunter2@health.example/x", allow_insecure_auth: true}`, ok: true},
		{cfg: `{kind: http, url: "https://u:hunter2@health.example/x"}`, ok: true},
		{cfg: `{kind: http, url: "http://u:hunter2@127.0.0.1:8080/x"}`, ok: true},
		{cfg: `{kind: http, url: "http://health.example/x"}`, ok: true},
		{cfg: `{probes: [{name: a, kind: http, url: "http://u:hunter2@health.example/x"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.cfg, func(t *testing.T) {
			t.Parallel()
			_, err := decode(t, tt.cfg)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, httpclient.ErrCleartextCredentials)
			assert.Contains(t, err.Error(), "url")
			assert.Contains(t, err.Error(), "allow_insecure_auth")
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
	_, err := decode(t, `{kind: tcp, address: "h:1", allow_insecure_auth: true}`)
	require.ErrorContains(t, err, "allow_insecure_auth: is not used by kind tcp")
}

// provisionLogs builds and provisions a source from YAML and returns what
// it logged.
func provisionLogs(t *testing.T, text string) string {
	t.Helper()
	var logs bytes.Buffer
	set := pipeline.NopSettings("probe")
	set.Logger = slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs}, nil))
	cfg, err := decode(t, text)
	require.NoError(t, err)
	src, err := probesource.NewFactory().NewSource(t.Context(), set, cfg)
	require.NoError(t, err)
	p, ok := src.(pipeline.Provisioner)
	require.True(t, ok)
	require.NoError(t, p.Provision(t.Context()))
	return logs.String()
}

// TestInsecureSkipVerifyWarnsPerProbe checks issue 13 item 13: every
// probe with tls.insecure_skip_verify is warned about by name, also when
// the probes share one transport (the same TLS settings).
func TestInsecureSkipVerifyWarnsPerProbe(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	logs := provisionLogs(t, fmt.Sprintf(`{kind: https, tls: {insecure_skip_verify: true}, probes: [
		{name: a, url: "https://a.example/h"}, {name: b, url: "https://b.example/h"}, {name: c, url: "https://c.example/h", tls: {ca_file: %q}}]}`, pki.caFile))
	assert.Equal(t, 2, strings.Count(logs, `"level":"WARN"`), logs)
	assert.Contains(t, logs, "TLS CERTIFICATE VERIFICATION IS DISABLED")
	assert.Contains(t, logs, `"probe":"a"`)
	assert.Contains(t, logs, `"probe":"b"`)
	assert.NotContains(t, logs, `"probe":"c"`)
}

// TestHeadersOverPlainHTTPWarn checks issue 13 item 9: headers (secrets)
// sent over plain http to a host that is not loopback are warned about,
// without their value.
func TestHeadersOverPlainHTTPWarn(t *testing.T) {
	t.Parallel()
	logs := provisionLogs(t, `{kind: http, probes: [
		{name: far, url: "http://far.example/h", headers: {X-Api-Key: k3y-value}},
		{name: near, url: "http://127.0.0.1:1/h", headers: {X-Api-Key: k3y-value}},
		{name: bare, url: "http://far.example/h"}]}`)
	assert.Equal(t, 1, strings.Count(logs, `"level":"WARN"`), logs)
	assert.Contains(t, logs, `"probe":"far"`)
	assert.Contains(t, logs, "in clear over plain http")
	assert.NotContains(t, logs, "k3y-value")
}

// TestTargetRedactsQuery checks issue 13 item 6: query values (api keys)
// and passwords never reach a probe event's target.
func TestTargetRedactsQuery(t *testing.T) {
	t.Parallel()
	srv := newHeaderRecorder(t)
	u := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1) + "/h?api_key=s3cr3t-key&v=1"
	d := firstState(t, fmt.Sprintf(`{kind: http, url: %q, interval: 50ms, failure_threshold: 1}`, u))
	assert.Equal(t, strings.Replace(srv.URL, "http://", "http://user:xxxxx@", 1)+"/h?api_key=REDACTED&v=REDACTED", d.Target)
}
