package httpsink_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

// loadConfig decodes a testdata file strictly over the defaults, as the
// config package does.
func loadConfig(t *testing.T, name string) (*httpsink.Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg, ok := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
	require.True(t, ok)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestConfigFiles(t *testing.T) {
	t.Parallel()
	defaults := func(mod func(c *httpsink.Config)) *httpsink.Config {
		c := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
		mod(c)
		return c
	}
	tests := []struct {
		file      string
		want      *httpsink.Config
		wantField string
		wantErr   string
	}{
		{file: "config_full.yaml", want: &httpsink.Config{
			URL: "https://collector.example:8443/v1/events", Method: "PUT", Mode: httpsink.ModeBatch, Ordering: httpsink.OrderingStrict,
			MaxEvents: 50, MaxBytes: 256 << 10,
			Headers:     map[string]pipeline.Secret{"X-Tenant": "acme", "X-Api-Key": "k3y-s3cr3t"},
			BearerToken: "t0k3n-s3cr3t",
			TLS: httpsink.TLSConfig{
				CAFile: "/etc/sluice/ca.pem", CertFile: "/etc/sluice/client.crt", KeyFile: "/etc/sluice/client.key",
				ServerName: "collector.internal",
			},
			Timeout: 3 * time.Second, MaxIdleConns: 8, ProxyFromEnvironment: true, FollowRedirects: true,
		}},
		{file: "config_minimal.yaml", want: defaults(func(c *httpsink.Config) { c.URL = "http://127.0.0.1:9000/events" })},
		{file: "config_basic.yaml", want: defaults(func(c *httpsink.Config) {
			c.URL = "https://collector.example/events"
			c.Basic = &httpsink.BasicAuth{Username: "sluice", PasswordFile: "/run/secrets/collector-password"}
		})},
		{file: "config_empty.yaml", wantField: "url", wantErr: "url: is required"},
		{file: "config_typo.yaml", wantErr: "field max_evnets not found"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadConfig(t, tt.file)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, cfg)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			if tt.wantField != "" {
				var fe *pipeline.FieldError
				require.ErrorAs(t, err, &fe, "want a FieldError, got %v", err)
				assert.Equal(t, tt.wantField, fe.Field)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
	assert.Equal(t, "POST", cfg.Method)
	assert.Equal(t, httpsink.ModeStructured, cfg.Mode)
	assert.Equal(t, 100, cfg.MaxEvents)
	assert.Equal(t, pipeline.ByteSize(1<<20), cfg.MaxBytes)
	assert.Equal(t, 10*time.Second, cfg.Timeout)
	assert.False(t, cfg.TLS.InsecureSkipVerify, "verification is on by default")
	assert.False(t, cfg.FollowRedirects)
	assert.False(t, cfg.ProxyFromEnvironment)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-s3cr3t"
	tests := []struct {
		name      string
		mod       func(c *httpsink.Config)
		wantField string
		wantErr   string
	}{
		{name: "ftp url", mod: func(c *httpsink.Config) { c.URL = "ftp://example/x" }, wantField: "url", wantErr: "http or https"},
		{name: "relative url", mod: func(c *httpsink.Config) { c.URL = "/events" }, wantField: "url", wantErr: "http or https"},
		{name: "no host", mod: func(c *httpsink.Config) { c.URL = "https:///events" }, wantField: "url", wantErr: "must name a host"},
		{name: "credentials in url", mod: func(c *httpsink.Config) { c.URL = "https://user:pw@example/x" }, wantField: "url", wantErr: "must not contain credentials"},
		{name: "bad port", mod: func(c *httpsink.Config) { c.URL = "https://example:port/x" }, wantField: "url", wantErr: "not a valid URL"},
		{name: "fragment", mod: func(c *httpsink.Config) { c.URL = "https://example/x#frag" }, wantField: "url", wantErr: "fragment"},
		{name: "method", mod: func(c *httpsink.Config) { c.Method = "GET" }, wantField: "method", wantErr: "POST, PUT or PATCH"},
		{name: "lower-case method", mod: func(c *httpsink.Config) { c.Method = "post" }, wantField: "method", wantErr: "POST, PUT or PATCH"},
		{name: "mode", mod: func(c *httpsink.Config) { c.Mode = "binary" }, wantField: "mode", wantErr: `"structured" or "batch"`},
		{name: "max_events", mod: func(c *httpsink.Config) { c.MaxEvents = 0 }, wantField: "max_events", wantErr: "at least 1"},
		{name: "max_bytes", mod: func(c *httpsink.Config) { c.MaxBytes = 0 }, wantField: "max_bytes", wantErr: "positive"},
		{name: "timeout", mod: func(c *httpsink.Config) { c.Timeout = 0 }, wantField: "timeout", wantErr: "positive"},
		{name: "max_idle_conns", mod: func(c *httpsink.Config) { c.MaxIdleConns = 0 }, wantField: "max_idle_conns", wantErr: "at least 1"},
		{name: "basic and bearer", mod: func(c *httpsink.Config) {
			c.Basic = &httpsink.BasicAuth{Username: "u", Password: secret}
			c.BearerToken = secret
		}, wantField: "basic", wantErr: "choose one"},
		{name: "basic without user", mod: func(c *httpsink.Config) { c.Basic = &httpsink.BasicAuth{Password: secret} }, wantField: "basic.username", wantErr: "required"},
		{name: "basic user with colon", mod: func(c *httpsink.Config) { c.Basic = &httpsink.BasicAuth{Username: "a:b", Password: secret} }, wantField: "basic.username", wantErr: "colon"},
		{name: "basic without password", mod: func(c *httpsink.Config) { c.Basic = &httpsink.BasicAuth{Username: "u"} }, wantField: "basic.password", wantErr: "required"},
		{name: "password and file", mod: func(c *httpsink.Config) {
			c.Basic = &httpsink.BasicAuth{Username: "u", Password: secret, PasswordFile: "/p"}
		}, wantField: "basic.password_file", wantErr: "conflicts"},
		{name: "password with newline", mod: func(c *httpsink.Config) { c.Basic = &httpsink.BasicAuth{Username: "u", Password: secret + "\n"} }, wantField: "basic.password", wantErr: "control characters"},
		{name: "token and file", mod: func(c *httpsink.Config) { c.BearerToken, c.BearerTokenFile = secret, "/t" }, wantField: "bearer_token_file", wantErr: "conflicts"},
		{name: "token with space", mod: func(c *httpsink.Config) { c.BearerToken = secret + " x" }, wantField: "bearer_token", wantErr: "printable ASCII"},
		{name: "header name", mod: func(c *httpsink.Config) { c.Headers = map[string]pipeline.Secret{"X Bad": "v"} }, wantField: "headers.X Bad", wantErr: "not a valid header name"},
		{name: "header value", mod: func(c *httpsink.Config) { c.Headers = map[string]pipeline.Secret{"X-Key": secret + "\r\nX-Evil: 1"} }, wantField: "headers.X-Key", wantErr: "control characters"},
		{name: "hop-by-hop header", mod: func(c *httpsink.Config) { c.Headers = map[string]pipeline.Secret{"connection": "close"} }, wantField: "headers.connection", wantErr: "hop-by-hop"},
		{name: "transfer-encoding", mod: func(c *httpsink.Config) { c.Headers = map[string]pipeline.Secret{"Transfer-Encoding": "chunked"} }, wantField: "headers.Transfer-Encoding", wantErr: "hop-by-hop"},
		{name: "content-type", mod: func(c *httpsink.Config) { c.Headers = map[string]pipeline.Secret{"Content-Type": "text/plain"} }, wantField: "headers.Content-Type", wantErr: "set by the sink"},
		{name: "content-length", mod: func(c *httpsink.Config) { c.Headers = map[string]pipeline.Secret{"content-length": "1"} }, wantField: "headers.content-length", wantErr: "set by the sink"},
		{name: "idempotency-key", mod: func(c *httpsink.Config) { c.Headers = map[string]pipeline.Secret{"IDEMPOTENCY-KEY": "x"} }, wantField: "headers.IDEMPOTENCY-KEY", wantErr: "set by the sink"},
		{name: "traceparent", mod: func(c *httpsink.Config) { c.Headers = map[string]pipeline.Secret{"traceparent": "x"} }, wantField: "headers.traceparent", wantErr: "set by the sink"},
		{name: "authorization with auth", mod: func(c *httpsink.Config) {
			c.BearerToken = secret
			c.Headers = map[string]pipeline.Secret{"Authorization": "Bearer x"}
		}, wantField: "headers.Authorization", wantErr: "conflicts"},
		{name: "same header twice", mod: func(c *httpsink.Config) { c.Headers = map[string]pipeline.Secret{"X-A": "1", "x-a": "2"} }, wantField: "headers.x-a", wantErr: "same header"},
		{name: "key without cert", mod: func(c *httpsink.Config) { c.TLS.KeyFile = "/k" }, wantField: "tls.cert_file", wantErr: "required"},
		{name: "cert without key", mod: func(c *httpsink.Config) { c.TLS.CertFile = "/c" }, wantField: "tls.key_file", wantErr: "required"},
		{name: "tls on http", mod: func(c *httpsink.Config) {
			c.URL = "http://example/x"
			c.TLS.CAFile = "/ca.pem"
		}, wantField: "tls", wantErr: "no effect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
			cfg.URL = "https://collector.example/events"
			tt.mod(cfg)
			err := cfg.Validate()
			require.ErrorContains(t, err, tt.wantErr)
			errs := pipeline.Unjoin(err)
			require.Len(t, errs, 1, "one problem, one error: %v", err)
			var fe *pipeline.FieldError
			require.ErrorAs(t, errs[0], &fe)
			assert.Equal(t, tt.wantField, fe.Field)
			assert.NotContains(t, err.Error(), secret, "validation errors never show secrets")
			assert.NotContains(t, fmt.Sprintf("%v %+v", cfg, cfg), secret, "configs never print secrets")
		})
	}
}

func TestConfigValidateReportsEverything(t *testing.T) {
	t.Parallel()
	cfg := &httpsink.Config{Mode: "x"}
	var fields []string
	for _, e := range pipeline.Unjoin(cfg.Validate()) {
		var fe *pipeline.FieldError
		require.ErrorAs(t, e, &fe)
		fields = append(fields, fe.Field)
	}
	assert.ElementsMatch(t, []string{"url", "method", "mode", "max_events", "max_bytes", "timeout", "max_idle_conns"}, fields)
}
