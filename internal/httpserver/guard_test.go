package httpserver_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpserver"
)

func TestGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		listen  string
		allowed []string
		host    string
		header  map[string]string
		tls     bool
		want    error
	}{
		{name: "loopback v4", listen: "127.0.0.1:9464", host: "127.0.0.1:9464"},
		{name: "loopback other v4", listen: "127.0.0.1:9464", host: "127.1.2.3:9464"},
		{name: "loopback v6", listen: "[::1]:9464", host: "[::1]:9464"},
		{name: "localhost", listen: "127.0.0.1:9464", host: "LocalHost.:9464"},
		{name: "dot localhost", listen: "127.0.0.1:9464", host: "app.localhost"},
		{name: "no host", listen: "127.0.0.1:9464", host: ""},
		{name: "rebinding", listen: "127.0.0.1:9464", host: "rebind.attacker.example:9464", want: httpserver.ErrHostNotAllowed},
		{name: "localhost lookalike", listen: "127.0.0.1:9464", host: "localhost.attacker.example", want: httpserver.ErrHostNotAllowed},
		{name: "listen host", listen: "10.0.0.5:8088", host: "10.0.0.5:8088"},
		{name: "other ip", listen: "10.0.0.5:8088", host: "10.0.0.6:8088", want: httpserver.ErrHostNotAllowed},
		{name: "wildcard listen is no name", listen: "0.0.0.0:8088", host: "0.0.0.0:8088", want: httpserver.ErrHostNotAllowed},
		{name: "allowed name", listen: ":8088", allowed: []string{"ingest.example.com"}, host: "INGEST.example.com:8088"},
		{name: "allowed suffix", listen: ":8088", allowed: []string{"*.example.com"}, host: "a.b.example.com"},
		{name: "suffix is not the apex", listen: ":8088", allowed: []string{"*.example.com"}, host: "example.com", want: httpserver.ErrHostNotAllowed},
		{name: "suffix boundary", listen: ":8088", allowed: []string{"*.example.com"}, host: "badexample.com", want: httpserver.ErrHostNotAllowed},
		{name: "any", listen: ":8088", allowed: []string{"*"}, host: "whatever.example"},
		{name: "same origin", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", header: map[string]string{"Origin": "http://127.0.0.1:9464"}},
		{name: "same origin default port", listen: "127.0.0.1:80", host: "localhost", header: map[string]string{"Origin": "http://localhost:80"}},
		{name: "https origin over http", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", header: map[string]string{"Origin": "https://127.0.0.1:9464"}, want: httpserver.ErrCrossSite},
		{name: "https same origin", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", tls: true, header: map[string]string{"Origin": "https://127.0.0.1:9464"}},
		{name: "cross origin", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", header: map[string]string{"Origin": "http://attacker.example"}, want: httpserver.ErrCrossSite},
		{name: "other port", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", header: map[string]string{"Origin": "http://127.0.0.1:3000"}, want: httpserver.ErrCrossSite},
		{name: "null origin", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", header: map[string]string{"Origin": "null"}, want: httpserver.ErrCrossSite},
		{name: "fetch cross-site", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: httpserver.ErrCrossSite},
		{name: "fetch same-site", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", header: map[string]string{"Sec-Fetch-Site": "same-site"}, want: httpserver.ErrCrossSite},
		{name: "fetch same-origin", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", header: map[string]string{"Sec-Fetch-Site": "same-origin"}},
		{name: "fetch none", listen: "127.0.0.1:9464", host: "127.0.0.1:9464", header: map[string]string{"Sec-Fetch-Site": "none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "http://x/", nil)
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			err := httpserver.NewGuard(tt.listen, tt.allowed).Check(r)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestGuardHandler(t *testing.T) {
	t.Parallel()
	var refused []string
	h := httpserver.NewGuard("127.0.0.1:9464", nil).Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}), func(_ *http.Request, err error) { refused = append(refused, httpserver.RefusalReason(err)) })

	r := httptest.NewRequest(http.MethodPost, "http://rebind.attacker.example:9464/dlq/purge?all=1", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Contains(t, w.Body.String(), "rebind.attacker.example")
	assert.Contains(t, w.Body.String(), "allowed_hosts")

	r = httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9464/", nil)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, []string{"host"}, refused)
}

func TestValidateAllowedHosts(t *testing.T) {
	t.Parallel()
	errs := httpserver.ValidateAllowedHosts("allowed_hosts", []string{"a.example", "*.example.com", "*", "10.0.0.1", "::1", "bad host", "*.", "http://x"})
	require.Len(t, errs, 3)
	assert.Contains(t, errs[0].Error(), "allowed_hosts[5]")
	assert.Contains(t, errs[1].Error(), "allowed_hosts[6]")
	assert.Contains(t, errs[2].Error(), "allowed_hosts[7]")
}
