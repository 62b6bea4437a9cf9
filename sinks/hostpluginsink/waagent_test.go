package hostpluginsink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

// agentPackage is where Debian's waagent package installs WALinuxAgent.
const agentPackage = "/usr/lib/python3/dist-packages/azurelinuxagent/common/protocol/healthservice.py"

// observationCase is one observation, sent by WALinuxAgent with a
// report_* method (method set) or with _observe and _report.
type observationCase struct {
	Method string         `json:"method,omitempty"`
	Kwargs map[string]any `json:"kwargs,omitempty"`

	Batch []observationCase `json:"batch,omitempty"`

	Name        string `json:"name,omitempty"`
	IsHealthy   bool   `json:"is_healthy"`
	Description string `json:"description"`
	Value       string `json:"value"`
}

// agentCases are the observations compared with WALinuxAgent: the
// agent's own report methods, then raw observations with non-ASCII,
// astral, control and special characters, and values over the limits,
// cut at and around the boundaries.
func agentCases() []observationCase {
	longMixed := strings.Repeat("é", 100) + strings.Repeat("x", 27) + "😀" + "tail beyond the limit"
	return []observationCase{
		{Method: "report_host_plugin_heartbeat", Kwargs: map[string]any{"is_healthy": true},
			Name: hostpluginsink.NameHeartbeat, IsHealthy: true},
		{Method: "report_host_plugin_heartbeat", Kwargs: map[string]any{"is_healthy": false},
			Name: hostpluginsink.NameHeartbeat},
		{Method: "report_host_plugin_versions", Kwargs: map[string]any{"is_healthy": false, "response": "[HTTP Failed] [500: Internal Server Error] b'plugin is starting'"},
			Name: hostpluginsink.NameVersions, Value: "[HTTP Failed] [500: Internal Server Error] b'plugin is starting'"},
		{Method: "report_host_plugin_extension_artifact", Kwargs: map[string]any{"is_healthy": false, "source": "WireClient", "response": "[HTTP Failed] [502: Bad Gateway] b''"},
			Name: hostpluginsink.NameArtifact, Description: "WireClient", Value: "[HTTP Failed] [502: Bad Gateway] b''"},
		{Method: "report_host_plugin_status", Kwargs: map[string]any{"is_healthy": true, "response": ""},
			Name: hostpluginsink.NameStatus, IsHealthy: true},
		{Method: "report_imds_status", Kwargs: map[string]any{"is_healthy": false, "response": "Missing field: [network]"},
			Name: hostpluginsink.NameIMDSHeartbeat, Value: "Missing field: [network]"},
		{Name: "Überwachung ✓ 日本語", IsHealthy: true, Description: "naïve café – “quotes” ‘single’ …", Value: "😀 𝄞 \U0010FFFF and \uFFFD, \u2028\u2029"},
		{Name: "Specials", Description: "quote \" backslash \\ slash / <script>&amp;</script>", Value: "nl\n cr\r tab\t bs\b ff\f nul\x00 us\x1f del\x7f c1\u0085 nbsp\u00a0"},
		{Name: strings.Repeat("N", 100), Description: strings.Repeat("d", 300), Value: strings.Repeat("v", 129)},
		{Name: strings.Repeat("ü", 63) + "😀😀", IsHealthy: true, Description: strings.Repeat("😀", 150), Value: longMixed},
		{Name: strings.Repeat("n", 64), Description: strings.Repeat("d", 128), Value: strings.Repeat("\x01", 128) + "!"},
		{Name: "Empty", IsHealthy: true},
	}
}

// requireAgent fails the test unless WALinuxAgent and python3 are
// installed, and returns python3's path.
func requireAgent(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(agentPackage); err != nil {
		t.Fatalf("WALinuxAgent is not installed (%v): install the Debian package waagent (bash .ci/run does: apt-get install waagent python3)", err)
	}
	python, err := exec.LookPath("python3")
	require.NoError(t, err, "python3 is needed to run WALinuxAgent (Debian package python3)")
	return python
}

// runAgent sends cases with the installed WALinuxAgent to a capture
// server and returns its requests and the User-Agent it used.
func runAgent(t *testing.T, source string, cases []observationCase) ([]captured, string) {
	t.Helper()
	python := requireAgent(t)
	srv := newCaptureServer(t)
	spec, err := json.Marshal(cases)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	args := []string{"testdata/healthservice_body.py", "--connect", hostPort(srv.Server)}
	if source != "" {
		args = append(args, "--source", source)
	}
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Stdin = bytes.NewReader(spec)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "WALinuxAgent harness failed:\n%s", stderr.String())
	var info struct {
		UserAgent string `json:"user_agent"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &info), "harness output %q", stdout.String())
	got := srv.got()
	require.Len(t, got, len(cases), "WALinuxAgent posts once per report")
	return got, info.UserAgent
}

// runSink delivers cases as events, one Deliver each, to a sink that
// keeps WALinuxAgent's endpoint but dials a capture server.
func runSink(t *testing.T, source, userAgent string, cases []observationCase) []captured {
	t.Helper()
	srv := newCaptureServer(t)
	cfg := testConfig(t, hostpluginsink.DefaultEndpoint)
	cfg.Source, cfg.UserAgent = source, userAgent
	zero := time.Duration(0)
	cfg.Observations = []hostpluginsink.ObservationConfig{{
		NameFrom:    "data.name",
		Types:       []string{"test.observation"},
		Healthy:     hostpluginsink.HealthyConfig{From: "data.is_healthy"},
		Description: "data.description",
		Value:       "data.value",
		Period:      &zero,
		ErrorState:  &zero,
	}}
	cfg.BuiltinObservations = false
	s, err := hostpluginsink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("host-health"), cfg)
	require.NoError(t, err)
	hostpluginsink.SetDialAddr(s, hostPort(srv.Server))
	require.NoError(t, s.Start(t.Context()))
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	for i, c := range cases {
		data, err := json.Marshal(map[string]any{"name": c.Name, "is_healthy": c.IsHealthy, "description": c.Description, "value": c.Value})
		require.NoError(t, err)
		d := pipeline.Delivery{Event: pipeline.Event{
			ID: "e", Type: "test.observation", Time: time.Unix(int64(i), 0), DataContentType: "application/json", Data: data,
		}}
		require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{d}), "case %d", i)
	}
	got := srv.got()
	require.Len(t, got, len(cases), "the sink posts once per observation")
	return got
}

// TestBodyIdenticalToWALinuxAgent posts the same observations with the
// installed WALinuxAgent and with the sink, to real HTTP servers on
// loopback, and compares the requests: body byte for byte, and the
// request line and every header.
func TestBodyIdenticalToWALinuxAgent(t *testing.T) {
	t.Parallel()
	for _, source := range []string{"", "Sluice", "Sluice ✓ \"quoted\" \\ \x01"} {
		name := source
		if name == "" {
			name = "WALinuxAgent"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cases := agentCases()
			agent, userAgent := runAgent(t, source, cases)
			require.True(t, strings.HasPrefix(userAgent, "WALinuxAgent/"), "agent User-Agent %q", userAgent)
			bodySource := source
			if bodySource == "" {
				bodySource = "WALinuxAgent"
			}
			ours := runSink(t, bodySource, userAgent, cases)
			for i := range cases {
				a, o := agent[i], ours[i]
				if !assert.Equal(t, string(a.Body), string(o.Body), "case %d: body", i) {
					continue
				}
				assert.Equal(t, a.Method, o.Method, "case %d: method", i)
				assert.Equal(t, a.RequestURI, o.RequestURI, "case %d: path", i)
				assert.Equal(t, a.Proto, o.Proto, "case %d: protocol", i)
				assert.Equal(t, a.Host, o.Host, "case %d: Host", i)
				assert.Equal(t, a.Header, o.Header, "case %d: headers", i)
			}
			assert.Equal(t, "POST", agent[0].Method)
			assert.Equal(t, "/HealthService", agent[0].RequestURI)
			assert.Equal(t, hostpluginsink.DefaultEndpoint, agent[0].Host)
		})
	}
}

// TestMultiObservationBodyMatchesWALinuxAgent compares AppendBody with
// several observations (the sink posts one per body, as the agent does
// in practice) with the agent queueing them into one POST.
func TestMultiObservationBodyMatchesWALinuxAgent(t *testing.T) {
	t.Parallel()
	cases := agentCases()[6:]
	var raw []observationCase
	var obs []hostpluginsink.Observation
	for _, c := range cases {
		raw = append(raw, observationCase{Name: c.Name, IsHealthy: c.IsHealthy, Description: c.Description, Value: c.Value})
		obs = append(obs, hostpluginsink.Observation{Name: c.Name, IsHealthy: c.IsHealthy, Description: c.Description, Value: c.Value})
	}
	agent, _ := runAgent(t, "Sluice", []observationCase{{Batch: raw}, {Batch: raw[:1]}})
	assert.Equal(t, string(agent[0].Body), string(hostpluginsink.AppendBody(nil, "Sluice", obs...)))
	assert.Equal(t, string(agent[1].Body), string(hostpluginsink.AppendBody(nil, "Sluice", obs[0])))
}
