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
	body, _ := io.ReadAll(r.Body)
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
func (c *vesCollector) faults() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var out []map[string]any
	for _, e := range c.events {
		h := e["commonEventHeader"].(map[string]any)
		if h["domain"] != "fault" || seen[h["eventId"].(string)] {
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

	dir := t.TempDir()
	admin := freeAddr(t)
	cfg := writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
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
sinks:
  - name: ves
    type: ves
    with: {url: "%[4]s"}
routes:
  - name: faults
    from: [nova]
    to: [ves]
`, dir, admin, nova.URL, srv.URL))

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
