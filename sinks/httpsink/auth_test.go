package httpsink_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

const (
	secretPassword = "pa55-w0rd-s3cr3t"
	secretToken    = "t0k3n-s3cr3t"
	secretAPIKey   = "ap1-k3y-s3cr3t"
)

func writeSecret(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(t *testing.T, c *httpsink.Config)
		want func(r *http.Request) bool
	}{
		{
			name: "basic",
			mod: func(_ *testing.T, c *httpsink.Config) {
				c.Basic = &httpsink.BasicAuth{Username: "sluice", Password: secretPassword}
			},
			want: func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "sluice" && p == secretPassword
			},
		},
		{
			name: "basic password_file",
			mod: func(t *testing.T, c *httpsink.Config) {
				c.Basic = &httpsink.BasicAuth{Username: "sluice", PasswordFile: writeSecret(t, secretPassword+"\n")}
			},
			want: func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "sluice" && p == secretPassword
			},
		},
		{
			name: "bearer",
			mod:  func(_ *testing.T, c *httpsink.Config) { c.BearerToken = secretToken },
			want: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+secretToken },
		},
		{
			name: "bearer_token_file",
			mod:  func(t *testing.T, c *httpsink.Config) { c.BearerTokenFile = writeSecret(t, secretToken+"\r\n") },
			want: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+secretToken },
		},
		{
			name: "api key header",
			mod: func(_ *testing.T, c *httpsink.Config) {
				c.Headers = map[string]pipeline.Secret{"X-Api-Key": secretAPIKey}
			},
			want: func(r *http.Request) bool { return r.Header.Get("X-Api-Key") == secretAPIKey },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPeer(t, func(r *http.Request, _ *received, _ int) (int, string) {
				if !tt.want(r) {
					return http.StatusUnauthorized, "bad credentials"
				}
				return http.StatusOK, ""
			})
			cfg := p.config(httpsink.ModeStructured)
			tt.mod(t, cfg)
			set, logs := loggingSettings()
			s := startSink(t, set, cfg)
			require.NoError(t, s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 2)))
			assert.Len(t, p.Accepted(), 2)
			assertNoSecrets(t, logs.String(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg))
			assert.NotContains(t, logs.String(), "query-secret", "logs leave the URL query out")
		})
	}
}

// TestSecretsNeverLeak drives failures of every kind with credentials
// set and checks that no secret reaches an error or a log line.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	p := newPeer(t, func(_ *http.Request, _ *received, n int) (int, string) {
		return []int{http.StatusUnauthorized, http.StatusServiceUnavailable, http.StatusBadRequest}[n%3], "denied"
	})
	set, logs := loggingSettings()
	var errs []string
	for _, mode := range []httpsink.Mode{httpsink.ModeStructured, httpsink.ModeBatch} {
		cfg := p.config(mode)
		cfg.Basic = &httpsink.BasicAuth{Username: "sluice", Password: secretPassword}
		cfg.Headers = map[string]pipeline.Secret{"X-Api-Key": secretAPIKey}
		s := startSink(t, set, cfg)
		for range 3 {
			if err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 4)); err != nil {
				errs = append(errs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
			}
		}
	}
	require.NotEmpty(t, errs)
	assertNoSecrets(t, logs.String(), fmt.Sprint(errs))
	assert.NotContains(t, logs.String()+fmt.Sprint(errs), "query-secret", "logs and errors leave the URL query out")

	// Start errors name the file, not its content.
	cfg := p.config(httpsink.ModeStructured)
	cfg.BearerTokenFile = writeSecret(t, secretToken+" with a space")
	err := newSink(t, set, cfg).Start(t.Context())
	require.ErrorContains(t, err, "bearer_token_file")
	assertNoSecrets(t, err.Error())
}

func TestSecretFileErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		path    func(t *testing.T) string
		wantErr string
	}{
		{name: "missing", path: func(*testing.T) string { return "/nonexistent/secret" }, wantErr: "no such file"},
		{name: "empty", path: func(t *testing.T) string { return writeSecret(t, "\n") }, wantErr: "is empty"},
		{name: "too large", path: func(t *testing.T) string { return writeSecret(t, string(make([]byte, 1<<20))) }, wantErr: "larger than"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
			cfg.URL = "http://127.0.0.1:1/events"
			cfg.Basic = &httpsink.BasicAuth{Username: "u", PasswordFile: tt.path(t)}
			err := newSink(t, pipeline.NopSettings("collector"), cfg).Start(t.Context())
			require.ErrorContains(t, err, "basic.password_file")
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func assertNoSecrets(t *testing.T, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range []string{secretPassword, secretToken, secretAPIKey} {
			assert.NotContains(t, text, s)
		}
	}
}
