package hostpluginsink_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

// loadConfig decodes a testdata file strictly over the defaults, as the
// config package does.
func loadConfig(t *testing.T, name string) (*hostpluginsink.Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg, ok := hostpluginsink.NewFactory().DefaultConfig().(*hostpluginsink.Config)
	require.True(t, ok)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func dur(d time.Duration) *time.Duration { return &d }

func TestConfig(t *testing.T) {
	t.Parallel()
	defaults, ok := hostpluginsink.NewFactory().DefaultConfig().(*hostpluginsink.Config)
	require.True(t, ok)
	assert.Equal(t, "168.63.129.16", defaults.Endpoint)
	assert.Equal(t, "Sluice", defaults.Source)
	assert.Equal(t, 10*time.Second, defaults.Timeout)
	assert.True(t, defaults.BuiltinObservations)
	assert.Contains(t, defaults.UserAgent, "Sluice")

	minimal := *defaults
	minimal.Endpoint = "10.0.0.4"
	full := &hostpluginsink.Config{
		Endpoint: "[fd00::1]:8080", Source: "Sluice on vm-42", UserAgent: "Sluice/1.2.3", Timeout: 5 * time.Second,
		RetryStatuses: []int{403},
		Observations: []hostpluginsink.ObservationConfig{
			{
				Name: "InstanceMetadataHeartbeat", Types: []string{"sluice.probe.state", "sluice.probe.heartbeat"},
				Routes: []string{"imds-health"}, When: map[string]string{"subject": "imds", "data.kind": "http"},
				Healthy: hostpluginsink.HealthyConfig{From: "data.healthy"}, Value: "data.error",
				FailingSince: "data.failing_since",
			},
			{
				NameFrom: "subject", Types: []string{"custom.*"},
				Healthy:     hostpluginsink.HealthyConfig{From: "data.state", Equals: []string{"up", "degraded"}},
				Description: "literal:custom check", Value: "data.detail", Period: dur(30 * time.Second), ErrorState: dur(0),
			},
		},
	}
	tests := []struct {
		file       string
		want       *hostpluginsink.Config
		wantFields []string
		wantErr    string
	}{
		{file: "config_full.yaml", want: full},
		{file: "config_minimal.yaml", want: &minimal},
		{file: "config_empty.yaml", want: defaults},
		{file: "config_typo.yaml", wantErr: "field endpont not found"},
		{file: "config_no_observations.yaml", wantFields: []string{"observations"}, wantErr: "required when builtin_observations is false"},
		{file: "config_invalid.yaml", wantFields: []string{
			"endpoint", "source", "timeout", "retry_statuses[0]",
			"observations[0].name", "observations[0].types", "observations[0].healthy.from",
			"observations[1].name", "observations[1].types[0]", "observations[1].when.nope",
			"observations[1].healthy.from", "observations[1].value", "observations[1].period",
		}, wantErr: "not a URL"},
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
			if tt.wantFields == nil {
				return
			}
			var fields []string
			for _, e := range pipeline.Unjoin(err) {
				var fe *pipeline.FieldError
				require.ErrorAs(t, e, &fe, "want FieldErrors, got %v", e)
				fields = append(fields, fe.Field)
			}
			assert.ElementsMatch(t, tt.wantFields, fields, "errors:\n%v", err)
		})
	}
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		wantErr  string
	}{
		{"168.63.129.16", ""},
		{"168.63.129.16:80", ""},
		{"wireserver.example:8080", ""},
		{"[fe80::1]", ""},
		{"[fe80::1]:80", ""},
		{"", "is required"},
		{"http://168.63.129.16", "not a URL"},
		{"168.63.129.16/HealthService", "want a host"},
		{"fe80::1", "brackets"},
		{"host:0", "port must be"},
		{"host:99999", "port must be"},
		{"host:http", "port must be"},
		{":80", "host is empty"},
		{"[fe80::1", "want [IPv6]"},
		{"[nothex]:80", "not an IPv6 address"},
		{"a b", "want a host"},
	}
	for _, tt := range tests {
		cfg, ok := hostpluginsink.NewFactory().DefaultConfig().(*hostpluginsink.Config)
		require.True(t, ok)
		cfg.Endpoint = tt.endpoint
		err := cfg.Validate()
		if tt.wantErr == "" {
			require.NoError(t, err, "endpoint %q", tt.endpoint)
			continue
		}
		assert.ErrorContains(t, err, tt.wantErr, "endpoint %q", tt.endpoint)
	}
}

// TestRequestTarget checks the URL and Host header the endpoint gives.
func TestRequestTarget(t *testing.T) {
	t.Parallel()
	srv := newCaptureServer(t)
	for _, tt := range []struct{ endpoint, host string }{
		{"168.63.129.16", "168.63.129.16"},
		{"168.63.129.16:80", "168.63.129.16"},
		{"wireserver:8080", "wireserver:8080"},
		{"[fe80::1]", "[fe80::1]"},
	} {
		cfg := testConfig(t, tt.endpoint)
		s, err := hostpluginsink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("h"), cfg)
		require.NoError(t, err)
		hostpluginsink.SetDialAddr(s, hostPort(srv.Server))
		require.NoError(t, s.Start(t.Context()))
		require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{heartbeat(time.Now(), true)}))
		require.NoError(t, s.Close(t.Context()))
		got := srv.got()
		last := got[len(got)-1]
		assert.Equal(t, tt.host, last.Host, "endpoint %s", tt.endpoint)
		assert.Equal(t, "/HealthService", last.RequestURI)
	}
}
