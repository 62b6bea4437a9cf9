package probesource_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

// fakeHostPlugin stands in for the Azure HostGAPlugin, which only runs on
// an Azure host. It is built from PROTOCOLS.md §2.4 (WALinuxAgent's
// hostplugin.py): GET /health and GET /versions on one port, the latter
// listing API versions. It checks the headers the agent sends and answers
// with the status and body the test sets.
type fakeHostPlugin struct {
	*httptest.Server
	t  *testing.T
	mu sync.Mutex
	// status and body per path.
	status map[string]int
	body   map[string]string
	count  map[string]int
	header map[string]http.Header
}

func newFakeHostPlugin(t *testing.T) *fakeHostPlugin {
	t.Helper()
	f := &fakeHostPlugin{
		t:      t,
		status: map[string]int{"/health": 200, "/versions": 200},
		body:   map[string]string{"/health": "", "/versions": `["2015-09-01","2012-11-30"]`},
		count:  map[string]int{},
		header: map[string]http.Header{},
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.count[r.URL.Path]++
		f.header[r.URL.Path] = r.Header.Clone()
		status, ok := f.status[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, f.body[r.URL.Path])
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeHostPlugin) set(path string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[path], f.body[path] = status, body
}

func (f *fakeHostPlugin) requests(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[path]
}

func (f *fakeHostPlugin) lastHeader(path string) http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.header[path]
}

func (f *fakeHostPlugin) endpoint() string { return strings.TrimPrefix(f.URL, "http://") }

// versionsData is the data of a sluice.hostplugin.versions event.
type versionsData struct {
	Probe           string    `json:"probe"`
	Kind            string    `json:"kind"`
	Endpoint        string    `json:"endpoint"`
	Healthy         bool      `json:"healthy"`
	Supported       bool      `json:"supported"`
	APIVersion      string    `json:"api_version"`
	Versions        []string  `json:"versions"`
	StatusCode      int       `json:"status_code"`
	UpstreamFailure bool      `json:"upstream_failure"`
	Value           string    `json:"value"`
	Error           string    `json:"error"`
	LatencyMS       float64   `json:"latency_ms"`
	CheckedAt       time.Time `json:"checked_at"`
}

func versionsOf(t *testing.T, e pipeline.Event) versionsData {
	t.Helper()
	var v versionsData
	dec := json.NewDecoder(strings.NewReader(string(e.Data)))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&v), "%s", e.Data)
	return v
}

// TestHostPluginHealthy checks a healthy plugin: /versions read once
// (supported), /health every check, a transition, and a heartbeat with
// every check when heartbeat equals the interval.
func TestHostPluginHealthy(t *testing.T) {
	t.Parallel()
	f := newFakeHostPlugin(t)
	host := pipelinetest.NewRecordingHost("hgap")
	start(t, newSource(t, fmt.Sprintf(`{kind: hostplugin, endpoint: %q, container_id: c0ffee, interval: 20ms, heartbeat: 20ms}`, f.endpoint())), host)
	beats := waitFor(t, host, probesource.TypeHeartbeat, 3)
	require.Eventually(t, func() bool { return f.requests("/health") >= 4 }, waitTimeout, time.Millisecond)
	assert.Equal(t, 1, f.requests("/versions"), "versions are read until supported, as WALinuxAgent does")
	for _, path := range []string{"/health", "/versions"} {
		h := f.lastHeader(path)
		assert.Equal(t, "2015-09-01", h.Get("x-ms-version"), path)
		assert.Equal(t, "c0ffee", h.Get("x-ms-containerid"), path)
	}

	vs := eventsOf(host, probesource.TypeHostPluginVersions)
	require.Len(t, vs, 1)
	v := versionsOf(t, vs[0])
	assert.True(t, v.Healthy)
	assert.True(t, v.Supported)
	assert.Equal(t, []string{"2015-09-01", "2012-11-30"}, v.Versions)
	assert.Equal(t, "2015-09-01", v.APIVersion)
	assert.Empty(t, v.Value)
	assert.Equal(t, 200, v.StatusCode)
	assert.Equal(t, "hostplugin", v.Kind)
	assert.Equal(t, "probe", v.Probe)
	assert.Equal(t, f.URL, v.Endpoint)
	assert.Equal(t, "probe", vs[0].Subject)

	states := eventsOf(host, probesource.TypeState)
	require.Len(t, states, 1)
	assert.Equal(t, "unknown>healthy", transitions(t, states)[0])
	b := dataOf(t, beats[2])
	assert.Equal(t, "hostplugin", b.Kind)
	assert.Equal(t, "healthy", b.State)
	assert.True(t, b.Healthy)
	assert.Equal(t, 200, b.StatusCode)
	assert.Equal(t, f.URL, b.Target)
	assert.Empty(t, b.From)
}

// TestHostPluginFailures checks how /versions and /health answers are
// judged: 502 is the plugin's upstream failing (the plugin is healthy),
// another 5xx is the plugin failing, and versions are read again until
// supported.
func TestHostPluginFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		versions, health    int
		versionsBody        string
		wantVersionsHealthy bool
		wantUpstream        bool
		wantValue           string
		wantState           string
	}{
		{name: "upstream failure", versions: 502, versionsBody: "upstream down", health: 200, wantVersionsHealthy: true, wantUpstream: true, wantValue: "[HTTP Failed] [502: Bad Gateway] b'upstream down'", wantState: "healthy"},
		{name: "plugin failure", versions: 500, versionsBody: `it's "broken"`, health: 500, wantValue: `[HTTP Failed] [500: Internal Server Error] b'it\'s "broken"'`, wantState: "unhealthy"},
		{name: "unsupported", versions: 200, versionsBody: `["2012-11-30"]`, health: 200, wantVersionsHealthy: true, wantState: "healthy"},
		{name: "health upstream", versions: 200, versionsBody: `["2012-11-30"]`, health: 502, wantVersionsHealthy: true, wantState: "unhealthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeHostPlugin(t)
			f.set("/versions", tt.versions, tt.versionsBody)
			f.set("/health", tt.health, "")
			host := pipelinetest.NewRecordingHost("hgap")
			start(t, newSource(t, fmt.Sprintf(`{kind: hostplugin, endpoint: %q, interval: 20ms}`, f.endpoint())), host)
			vs := waitFor(t, host, probesource.TypeHostPluginVersions, 2)
			assert.GreaterOrEqual(t, f.requests("/versions"), 2, "read again while not supported")
			v := versionsOf(t, vs[0])
			assert.Equal(t, tt.wantVersionsHealthy, v.Healthy)
			assert.Equal(t, tt.wantUpstream, v.UpstreamFailure)
			assert.Equal(t, tt.wantValue, v.Value)
			assert.False(t, v.Supported)
			assert.Equal(t, tt.versions, v.StatusCode)
			if !tt.wantVersionsHealthy {
				assert.Equal(t, pipeline.SeverityError, vs[0].Severity)
			}
			st := dataOf(t, waitFor(t, host, probesource.TypeState, 1)[0])
			assert.Equal(t, tt.wantState, st.To)
			assert.Equal(t, tt.health == 502, st.UpstreamFailure)
			assert.Equal(t, 1, st.FailureThreshold, "hostplugin reports every failure; smoothing is the sink's (WALinuxAgent's 5-minute error state)")
		})
	}
}

// TestHostPluginDefaults checks the defaults of the kind without a
// network call: WALinuxAgent's endpoint, port, interval and heartbeat.
func TestHostPluginDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := decode(t, `{kind: hostplugin, initial_delay: 1h}`)
	require.NoError(t, err)
	_, err = probesource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("hgap"), cfg)
	require.NoError(t, err)
	// The target shows in events only; a probe that never checks is
	// enough to see that construction accepts the defaults.
}

// TestVersionsMatchWALinuxAgent reads the same loopback answers with the
// installed WALinuxAgent (Debian's waagent package: restutil.http_get and
// read_response_error, as get_api_versions uses them) and with the probe,
// and requires the same IsHealthy and byte-identical Value for the
// GuestAgentPluginVersions observation. The statuses are those the agent
// does not retry; see doc.go for the ones it does.
func TestVersionsMatchWALinuxAgent(t *testing.T) {
	t.Parallel()
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import azurelinuxagent").Run(); err != nil {
		t.Fatalf("WALinuxAgent is not installed (apt-get install waagent python3; .ci/run does): %v", err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "walinuxagent_versions.py"))
	require.NoError(t, err)
	tests := []struct {
		status int
		body   string
	}{
		{200, `["2015-09-01","2012-11-30"]`},
		{201, "\xef\xbb\xbf2015-09-01"},
		{200, `<Versions><Supported><Version>2012-11-30</Version></Supported></Versions>`},
		{404, "not here"},
		{400, "bad request body"},
		{400, "<Error><Code>InvalidContainerConfiguration</Code></Error>"},
		{410, "gone"},
		{418, "it's a \"teapot\"\n\t\x00\xff caf\xc3\xa9 \\ end"},
		{505, "version"},
		{511, strings.Repeat("long ", 100)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %.20q", tt.status, tt.body), func(t *testing.T) {
			t.Parallel()
			f := newFakeHostPlugin(t)
			f.set("/versions", tt.status, tt.body)
			out, err := exec.Command(python, script, f.URL+"/versions", "c0ffee").Output()
			require.NoError(t, err, "%s", out)
			var want struct {
				Healthy   bool   `json:"healthy"`
				Value     string `json:"value"`
				Supported bool   `json:"supported"`
			}
			require.NoError(t, json.Unmarshal(out, &want), "%s", out)

			host := pipelinetest.NewRecordingHost("hgap")
			r := start(t, newSource(t, fmt.Sprintf(`{kind: hostplugin, endpoint: %q, interval: 1h, container_id: c0ffee}`, f.endpoint())), host)
			v := versionsOf(t, waitFor(t, host, probesource.TypeHostPluginVersions, 1)[0])
			r.stop()
			assert.Equal(t, want.Healthy, v.Healthy, "IsHealthy")
			assert.Equal(t, want.Value, v.Value, "Value")
			assert.Equal(t, want.Supported, v.Supported)
		})
	}
}

// TestHostPluginVersionsNotLostOnRefusal checks that a versions event the
// journal refused is read and emitted again with the next check.
func TestHostPluginVersionsNotLostOnRefusal(t *testing.T) {
	t.Parallel()
	f := newFakeHostPlugin(t)
	host := pipelinetest.NewRecordingHost("hgap")
	host.SetError(pipeline.ErrJournalFull)
	start(t, newSource(t, fmt.Sprintf(`{kind: hostplugin, endpoint: %q, interval: 10ms}`, f.endpoint())), host)
	require.Eventually(t, func() bool { return host.Calls() >= 3 }, waitTimeout, time.Millisecond)
	host.SetError(nil)
	v := versionsOf(t, waitFor(t, host, probesource.TypeHostPluginVersions, 1)[0])
	assert.True(t, v.Supported)
	assert.GreaterOrEqual(t, f.requests("/versions"), 3, "read again after each refusal")
}
