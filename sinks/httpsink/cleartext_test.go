package httpsink_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

// TestCredentialsOverPlainHTTP checks issue 13 item 9: basic or bearer
// authentication over plain http to a host that is not loopback is
// refused unless allow_insecure_auth is set, and the error never shows
// the secret.
func TestCredentialsOverPlainHTTP(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-cleartext"
	basic := func(c *httpsink.Config) { c.Basic = &httpsink.BasicAuth{Username: "u", Password: secret} }
	bearer := func(c *httpsink.Config) { c.BearerToken = secret }
	bearerFile := func(c *httpsink.Config) { c.BearerTokenFile = "/run/secrets/token" }
	tests := []struct {
		name      string
		url       string
		auth      func(*httpsink.Config)
		allow     bool
		wantField string // "" when accepted
	}{
		{name: "basic over http", url: "http://collector.example/e", auth: basic, wantField: "basic"},
		{name: "bearer over http", url: "http://10.1.2.3:8080/e", auth: bearer, wantField: "bearer_token"},
		{name: "bearer file over http", url: "http://collector.example/e", auth: bearerFile, wantField: "bearer_token"},
		{name: "basic over http allowed", url: "http://collector.example/e", auth: basic, allow: true},
		{name: "basic over https", url: "https://collector.example/e", auth: basic},
		{name: "basic to loopback", url: "http://127.0.0.1:8080/e", auth: basic},
		{name: "bearer to localhost", url: "http://localhost:8080/e", auth: bearer},
		{name: "bearer to ::1", url: "http://[::1]:8080/e", auth: bearer},
		{name: "no auth over http", url: "http://collector.example/e", auth: func(*httpsink.Config) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
			cfg.URL = tt.url
			cfg.AllowInsecureAuth = tt.allow
			tt.auth(cfg)
			err := cfg.Validate()
			if tt.wantField == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, httpclient.ErrCleartextCredentials)
			var fe *pipeline.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.wantField, fe.Field)
			assert.Contains(t, err.Error(), "allow_insecure_auth")
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

// TestHeadersOverPlainHTTPWarn checks that configured headers (secrets)
// sent over plain http to a host that is not loopback are warned about
// at Start, and not when the host is loopback or the URL https.
func TestHeadersOverPlainHTTPWarn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		warn bool
	}{
		{url: "http://collector.example:1/e", warn: true},
		{url: "http://127.0.0.1:1/e"},
		{url: "https://collector.example:1/e"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
			cfg.URL = tt.url
			cfg.Headers = map[string]pipeline.Secret{"X-Api-Key": "k3y-value"}
			set, logs := loggingSettings()
			startSink(t, set, cfg)
			assert.Equal(t, tt.warn, strings.Contains(logs.String(), "in clear over plain http"), logs.String())
			assert.NotContains(t, logs.String(), "k3y-value")
		})
	}
}
