package vessink_test

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
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// loadConfig decodes a testdata file strictly over the defaults, as the
// config package does.
func loadConfig(t *testing.T, name string) (*vessink.Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	cfg, ok := vessink.NewFactory().DefaultConfig().(*vessink.Config)
	require.True(t, ok)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want *vessink.Config
		// wantFields are the fields the errors name, in order.
		wantFields []string
		wantErr    []string
	}{
		{file: "config_full.yaml", want: &vessink.Config{
			URL: "https://collector.example:8443/eventListener/v7", Version: 7, ListenerVersion: "7.1.1",
			ReportingEntityName: "sluice-vm17", ReportingEntityID: "cc305d54-75b4-431b-adb2-eb6b9e541234",
			Publisher: "AcmeVnf", TimeZone: "UTC+05:30", HeartbeatInterval: 2 * time.Minute,
			FaultEventID: "alarm", StateFile: "/var/lib/sluice/ves-alarms.json", DefaultDomain: "notification",
			Rules: []vessink.Rule{
				{
					Routes: []string{"probes-to-ves"}, Types: []string{"sluice.probe.state"}, Domain: "fault",
					EventSourceType: "host", AlarmCondition: "ProbeFailure", VFStatus: "Active", Priority: "High",
				},
				{Types: []string{"acme.*"}, Domain: "stateChange", StateInterface: "eth0", States: map[string]string{"spinning": "maintenance"}},
			},
			MaxBatchEvents: 50, MaxBatchBytes: 512 << 10, Ordering: "strict", Username: "sluice", Password: "hunter2",
			TLS: vessink.TLSConfig{
				CAFile: "/etc/sluice/ves-ca.pem", CertFile: "/etc/sluice/client.pem", KeyFile: "/etc/sluice/client-key.pem",
				ServerName: "collector.example",
			},
			Timeout: 3 * time.Second,
		}},
		{file: "config_minimal.yaml", want: func() *vessink.Config {
			c := vessink.NewFactory().DefaultConfig().(*vessink.Config)
			c.URL = "https://collector.example:8443"
			return c
		}()},
		{file: "config_empty.yaml", wantFields: []string{"url"}, wantErr: []string{"url: is required"}},
		{file: "config_typo.yaml", wantErr: []string{"field heartbeat_intervall not found"}},
		{file: "config_bad.yaml", wantFields: []string{
			"version", "url", "listener_version", "publisher", "time_zone", "heartbeat_interval", "fault_event_id",
			"default_domain", "rules[0].domain", "rules[0].types[0]", "rules[1].priority", "rules[1].vf_status",
			"rules[1].alarm_condition", "rules[1].states.spinning", "max_batch_events", "max_batch_bytes", "timeout",
			"tls.key_file",
		}, wantErr: []string{
			"must not contain a query", "must be 7 or 5, got 6", `must be one of 7.0, 7.0.1, 7.1, 7.1.1, 7.2, 7.2.1, got "7.3"`,
			"heartbeat_interval: must be 0 (the source's interval) or between 1s and 24h, got 500ms",
			`invalid pattern "sluice.["`, "rules[1].states.spinning: must be one of inService, maintenance, outOfService",
		}},
		{file: "config_http_basic.yaml", wantFields: []string{"username"}, wantErr: []string{"use an https url"}},
		{file: "config_version_mismatch.yaml", wantFields: []string{"url"}, wantErr: []string{"names eventListener/v5 but version is 7; set version: 5"}},
		{file: "config_v5_notification.yaml", wantFields: []string{"default_domain", "rules[0].domain"}, wantErr: []string{"notification does not exist in VES 5"}},
		{file: "config_batch_url.yaml", wantFields: []string{"url"}, wantErr: []string{"batches go to .../eventBatch by themselves"}},
		{file: "config_password_conflict.yaml", wantFields: []string{"password_file"}, wantErr: []string{"conflicts with password"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadConfig(t, tt.file)
			if tt.want != nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, cfg)
				return
			}
			require.Error(t, err)
			for _, msg := range tt.wantErr {
				assert.Contains(t, err.Error(), msg)
			}
			if tt.wantFields == nil {
				return
			}
			var fields []string
			for _, e := range pipeline.Unjoin(err) {
				var fe *pipeline.FieldError
				require.ErrorAs(t, e, &fe, "want FieldErrors, got %v", e)
				fields = append(fields, fe.Field)
			}
			assert.Equal(t, tt.wantFields, fields, "all errors at once, each naming its field:\n%v", err)
		})
	}
}

// TestConfigSecretsNeverPrint checks that the password does not show in
// the config's printed forms.
func TestConfigSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(t, "config_full.yaml")
	require.NoError(t, err)
	b, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "hunter2")
	assert.NotContains(t, stringOf(cfg), "hunter2")
}

func stringOf(v any) string { return fmt.Sprintf("%v %+v %#v", v, v, v) }

// TestUnknownZone: an IANA name that does not exist fails when the sink
// is built, naming the setting.
func TestUnknownZone(t *testing.T) {
	t.Parallel()
	cfg := vessink.NewFactory().DefaultConfig().(*vessink.Config)
	cfg.URL = "https://collector.example"
	cfg.TimeZone = "Mars/Olympus_Mons"
	require.NoError(t, cfg.Validate())
	_, err := vessink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("ves"), cfg)
	require.ErrorContains(t, err, `time_zone "Mars/Olympus_Mons"`)
}
