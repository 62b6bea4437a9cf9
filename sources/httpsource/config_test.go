package httpsource_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sources/httpsource"
)

func defaultConfig(t *testing.T) *httpsource.Config {
	t.Helper()
	cfg, ok := httpsource.NewFactory().DefaultConfig().(*httpsource.Config)
	require.True(t, ok)
	return cfg
}

// loadConfig decodes a testdata file strictly over the defaults, as the
// config package does.
func loadConfig(t *testing.T, name string) (*httpsource.Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg := defaultConfig(t)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	assert.Equal(t, &httpsource.Config{
		Config: httpserver.Config{
			Listen:           "127.0.0.1:8088",
			MaxBodyBytes:     1 << 20,
			MaxInflightBytes: 32 << 20,
			MaxConnections:   1024,
			ReadTimeout:      10 * time.Second,
			WriteTimeout:     30 * time.Second,
			IdleTimeout:      2 * time.Minute,
			ShutdownTimeout:  10 * time.Second,
		},
		Path:           "/events",
		MaxBatchEvents: 1000,
		BodyFormat:     httpsource.BodyFormat{Format: httpsource.FormatCloudEvents},
	}, defaultConfig(t))
}

func TestConfig(t *testing.T) {
	t.Parallel()
	full := &httpsource.Config{
		Config: httpserver.Config{
			Listen:           "0.0.0.0:9000",
			Token:            "s3cr3t-t0ken",
			MaxBodyBytes:     4 << 20,
			MaxInflightBytes: 32 << 20,
			MaxConnections:   200,
			ReadTimeout:      5 * time.Second,
			WriteTimeout:     20 * time.Second,
			IdleTimeout:      time.Minute,
			ShutdownTimeout:  3 * time.Second,
			TLS:              httpsource.TLSConfig{CertFile: "/etc/sluice/tls.crt", KeyFile: "/etc/sluice/tls.key"},
		},
		Path:           "/ingest/v1",
		MaxBatchEvents: 50,
		BodyFormat:     httpsource.BodyFormat{Format: httpsource.FormatCloudEvents},
	}
	jsonMode := defaultConfig(t)
	jsonMode.BodyFormat = httpsource.BodyFormat{Format: "json", EventSource: "/fluent-bit", EventType: "com.example.log",
		EventID: "{{.request_id}}", EventSubject: "{{.host}}"}
	ipv6 := defaultConfig(t)
	ipv6.Listen, ipv6.MaxBodyBytes = "[::1]:0", 65536
	tests := []struct {
		file       string
		want       *httpsource.Config
		wantErr    string
		wantFields []string
	}{
		{file: "config_empty.yaml", want: defaultConfig(t)},
		{file: "config_full.yaml", want: full},
		{file: "config_ipv6.yaml", want: ipv6},
		{file: "config_json.yaml", want: jsonMode},
		{file: "config_typo.yaml", wantErr: "field max_body_byte not found"},
		{
			file: "config_json_invalid.yaml", wantErr: "event_source: is required with format: json",
			wantFields: []string{"event_source", "event_type", "event_id", "event_subject"},
		},
		{file: "config_json_fields_without_json.yaml", wantErr: "event_type: applies only with format: json", wantFields: []string{"event_type"}},
		{file: "config_bad_format.yaml", wantErr: `format: must be cloudevents or json, got "ndjson"`, wantFields: []string{"format"}},
		{file: "config_bad_port.yaml", wantErr: "listen: port must be a number", wantFields: []string{"listen"}},
		{file: "config_bad_host.yaml", wantErr: "listen: host must be an IP address or a DNS name", wantFields: []string{"listen"}},
		{
			file:    "config_invalid.yaml",
			wantErr: "listen: must be host:port",
			wantFields: []string{
				"listen", "path", "token", "max_body_bytes", "max_batch_events", "max_connections",
				"read_timeout", "write_timeout", "idle_timeout", "shutdown_timeout", "tls.cert_file",
			},
		},
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
			var fields []string
			for _, e := range pipeline.Unjoin(err) {
				var fe *pipeline.FieldError
				if errors.As(e, &fe) {
					fields = append(fields, fe.Field)
				}
			}
			assert.ElementsMatch(t, tt.wantFields, fields, "every problem is reported, as a FieldError")
		})
	}
}

func TestConfigNeverShowsToken(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig(t)
	cfg.Token = "very-secret"
	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "very-secret")
}
