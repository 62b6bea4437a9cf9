package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fakenova"
)

// vesCollector accepts VES 7 events, validates every body against the
// official 30.2.1 schema and keeps the events.
type vesCollector struct {
	t      *testing.T
	schema *jsonschema.Schema
	mu     sync.Mutex
	events []map[string]any
	bad    []string
}

func newVESCollector(t *testing.T) (*vesCollector, *httptest.Server) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "ves", "CommonEventFormat_30.2.1_ONAP.json"))
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	require.NoError(t, c.AddResource("ves.json", doc))
	s, err := c.Compile("ves.json")
	require.NoError(t, err)
	col := &vesCollector{t: t, schema: s}
	srv := httptest.NewServer(col)
	t.Cleanup(srv.Close)
	return col, srv
}

func (c *vesCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// The sender died mid-request (a SIGKILL trial): nothing arrived,
		// and the sender never saw an answer, so it sends again.
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err == nil {
		err = c.schema.Validate(inst)
	}
	var env struct {
		Event     map[string]any   `json:"event"`
		EventList []map[string]any `json:"eventList"`
	}
	if err == nil {
		err = json.Unmarshal(body, &env)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.bad = append(c.bad, fmt.Sprintf("%s: %v", body, err))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if env.Event != nil {
		c.events = append(c.events, env.Event)
	}
	c.events = append(c.events, env.EventList...)
	w.WriteHeader(http.StatusAccepted)
}

// faults returns the distinct fault events by eventId (a redelivery after
// a crash repeats an eventId), in arrival order.
func (c *vesCollector) faults() []map[string]any { return c.distinct("fault") }

// distinct returns the distinct events of domain by eventId, in arrival
// order.
func (c *vesCollector) distinct(domain string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var out []map[string]any
	for _, e := range c.events {
		h := e["commonEventHeader"].(map[string]any)
		if h["domain"] != domain || seen[h["eventId"].(string)] {
			continue
		}
		seen[h["eventId"].(string)] = true
		out = append(out, e)
	}
	return out
}

func (c *vesCollector) waitFaults(t *testing.T, n int) []map[string]any {
	t.Helper()
	require.Eventually(t, func() bool { return len(c.faults()) >= n }, 30*time.Second, 10*time.Millisecond, "waiting for %d VES faults", n)
	c.mu.Lock()
	require.Empty(t, c.bad, "bodies the schema rejects")
	c.mu.Unlock()
	return c.faults()
}

// A Nova server going ERROR then ACTIVE, with a SIGKILL of the engine
// between the raise and the clear, is exactly one VES fault raise and one
// clear, both valid against the schema, the clear with the raise's
// startEpochMicrosec.
func TestVMFaultToVESAcrossSIGKILL(t *testing.T) {
	t.Parallel()
	nova := fakenova.New()
	t.Cleanup(nova.Close)
	const id = "0e44cc9c-e052-415d-afbf-469b0d384170"
	nova.Put(fakenova.Server{ID: id, Name: "web", Status: "ACTIVE", VMState: "active", PowerState: 1})
	col, srv := newVESCollector(t)

	admin, cfg := novaToVES(t, nova, srv.URL, "")

	e := startEngine(t, cfg, "OS_PASSWORD=s3cret")
	e.waitReady(admin, 30*time.Second)
	nova.Put(fakenova.Server{ID: id, Name: "web", Status: "ERROR", VMState: "error",
		Fault: &fakenova.Fault{Code: 500, Message: "No valid host was found.", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}})
	raise := col.waitFaults(t, 1)[0]
	e.kill()

	nova.Put(fakenova.Server{ID: id, Name: "web", Status: "ACTIVE", VMState: "active", PowerState: 1})
	e = startEngine(t, cfg, "OS_PASSWORD=s3cret")
	e.waitReady(admin, 30*time.Second)
	col.waitFaults(t, 2)
	time.Sleep(500 * time.Millisecond) // several more polls
	require.NoError(t, e.stop(30*time.Second))
	got := col.faults()
	require.Len(t, got, 2, "exactly one raise and one clear")

	rh := raise["commonEventHeader"].(map[string]any)
	rf := raise["faultFields"].(map[string]any)
	ch := got[1]["commonEventHeader"].(map[string]any)
	cf := got[1]["faultFields"].(map[string]any)
	assert.Equal(t, "CRITICAL", rf["eventSeverity"])
	assert.Equal(t, "NORMAL", cf["eventSeverity"])
	assert.Equal(t, "web", rh["sourceName"])
	assert.Equal(t, id, rh["sourceId"])
	assert.Equal(t, "virtualMachine", rf["eventSourceType"])
	assert.Equal(t, rh["startEpochMicrosec"], ch["startEpochMicrosec"], "the clear keeps the raise's start")
	assert.NotEqual(t, rh["eventId"], ch["eventId"])
	assert.NotContains(t, e.stderr.String(), "s3cret")
}

// novaToVES writes a config from the Nova fake's project to a VES sink
// at ves, polling every 100ms, with more source keys in extra (YAML
// lines at the source's with level), and returns the admin address and
// the config path.
func novaToVES(t *testing.T, nova *fakenova.Fake, ves, extra string) (admin, cfg string) {
	t.Helper()
	dir := t.TempDir()
	admin = freeAddr(t)
	cfg = writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: %[2]s}
log: {level: warn}
sources:
  - name: nova
    type: vmfault
    with:
      provider: openstack
      auth: {url: "%[3]s", username: sluice, user_domain: Default, password: "${OS_PASSWORD}", project: ops, project_domain: Default}
      interval: 100ms
      watch: [{all: true}]
%[5]s
sinks:
  - name: ves
    type: ves
    with: {url: "%[4]s"}
routes:
  - name: faults
    from: [nova]
    to: [ves]
`, dir, admin, nova.URL, ves, extra))
	return admin, cfg
}

// A Keystone outage of 30 minutes, scaled 1:300 (a 6 s outage, a 100 ms
// interval for the default 30 s, a 4 s token lifetime for Keystone's 1 h
// default, retries capped at 500 ms), with every token revoked as it
// begins: the engine loses nothing and raises nothing false. Nothing
// reaches the collector during the outage, and once Keystone answers the
// changes made during it arrive, each once: the faulty server's clear and
// the raise of the one that failed meanwhile; the healthy one stays
// silent.
func TestVMFaultKeystoneOutageThroughTheBinary(t *testing.T) {
	t.Parallel()
	const (
		idA    = "0e44cc9c-e052-415d-afbf-469b0d384170"
		idB    = "7f3c2b3e-5a1d-4c4e-9a36-2b1f0f6a0001"
		idC    = "7f3c2b3e-5a1d-4c4e-9a36-2b1f0f6a0002"
		outage = 6 * time.Second
	)
	nova := fakenova.New()
	t.Cleanup(nova.Close)
	nova.SetTokenTTL(4 * time.Second)
	errorServer := func(id, name string) fakenova.Server {
		return fakenova.Server{ID: id, Name: name, Status: "ERROR", VMState: "error",
			Fault: &fakenova.Fault{Code: 500, Message: "No valid host was found.", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	}
	activeServer := func(id, name string) fakenova.Server {
		return fakenova.Server{ID: id, Name: name, Status: "ACTIVE", VMState: "active", PowerState: 1}
	}
	nova.Put(errorServer(idA, "web"))
	nova.Put(activeServer(idB, "db"))
	nova.Put(activeServer(idC, "cache"))
	col, srv := newVESCollector(t)
	admin, cfg := novaToVES(t, nova, srv.URL, "      retry: {initial: 50ms, max: 500ms}")
	e := startEngine(t, cfg, "OS_PASSWORD=s3cret")
	e.waitReady(admin, 30*time.Second)
	col.waitFaults(t, 1)

	nova.Down(fakenova.RouteAuth, fakenova.Reply{Status: http.StatusServiceUnavailable,
		Body: `{"error":{"code":503,"title":"Service Unavailable","message":"keystone is down"}}`})
	nova.ExpireTokens()
	auths, lists := nova.Count(fakenova.RouteAuth), nova.Count(fakenova.RouteList)
	nova.Put(activeServer(idA, "web")) // recovers during the outage
	nova.Put(errorServer(idB, "db"))   // fails during the outage
	time.Sleep(outage)
	require.Len(t, col.faults(), 1, "nothing during the outage")
	assert.GreaterOrEqual(t, nova.Count(fakenova.RouteAuth)-auths, 5, "the engine kept trying Keystone")
	assert.LessOrEqual(t, nova.Count(fakenova.RouteList)-lists, 1, "Nova saw no successful poll (one 401 at most)")
	nova.Up(fakenova.RouteAuth)

	col.waitFaults(t, 3)
	time.Sleep(time.Second) // ten more polls
	require.NoError(t, e.stop(30*time.Second))
	got := col.faults()
	require.Len(t, got, 3, "one clear and one raise after the outage, nothing else")
	bySource := map[string][]string{}
	for _, f := range got {
		h := f["commonEventHeader"].(map[string]any)
		bySource[h["sourceId"].(string)] = append(bySource[h["sourceId"].(string)], f["faultFields"].(map[string]any)["eventSeverity"].(string))
	}
	assert.Equal(t, map[string][]string{idA: {"CRITICAL", "NORMAL"}, idB: {"CRITICAL"}}, bySource)
}
