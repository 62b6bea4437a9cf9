package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kvpHarness is the kvp sink's cloud-init harness: it drives the real
// cloud-init (Debian package, installed by .ci/run).
const kvpHarness = "../sinks/kvpsink/testdata/kvp_decode.py"

// kvpPython returns a python3 that imports cloud-init's KVP handler.
func kvpPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import cloudinit.reporting.handlers").Run() == nil {
			return path
		}
	}
	t.Fatal("this test needs cloud-init's Python package: apt-get install cloud-init python3 (.ci/run installs them)")
	return ""
}

// kvpRun runs the harness and returns its stdout.
func kvpRun(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kvpPython(t), append([]string{kvpHarness}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "kvp_decode.py %v: %s", args, errb.String())
	return out.Bytes()
}

type kvpPool struct {
	Records []struct {
		Key    string `json:"key"`
		Value  string `json:"value"`
		JSONOK bool   `json:"json_ok"`
	} `json:"records"`
	Events []struct {
		Key    string  `json:"key"`
		Slices int     `json:"slices"`
		Name   string  `json:"name"`
		Type   string  `json:"type"`
		TS     string  `json:"ts"`
		Result *string `json:"result"`
		Msg    string  `json:"msg"`
	} `json:"events"`
	Partial int `json:"partial"`
}

// kvpDecode decodes a pool file with cloud-init's own reader.
func kvpDecode(t *testing.T, path string) kvpPool {
	t.Helper()
	var p kvpPool
	if _, err := os.Stat(path); err != nil {
		return p
	}
	out := kvpRun(t, "decode", path)
	require.NoError(t, json.Unmarshal(out, &p), "%s", out)
	return p
}

// kvpEvent is one CloudEvent the test posts and what the pool must hold.
type kvpEvent struct {
	id, typ, subject, severity, data string
	wantName, wantType, wantResult   string
}

// TestKVPSinkWithCloudInit routes CloudEvents through the running binary
// into two pool files, one host-safe and one in cloud-init mode, while
// cloud-init's own writer appends to the host-safe one, and decodes both
// with cloud-init's reader: every event is there whole (long ones sliced,
// non-ASCII intact), with the default mapping or a route's override, and
// cloud-init's records are intact too.
func TestKVPSinkWithCloudInit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "hyperv"), 0o755))
	pool := filepath.Join(dir, "hyperv", ".kvp_pool_1")
	ciPool := filepath.Join(dir, "hyperv", "cloud-init-mode.pool")
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "kvp.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: "%[3]s"}
log: {level: warn}
shutdown_timeout: 10s
sources:
  - {name: ingest, type: http, with: {listen: "%[2]s", path: /events}}
sinks:
  - name: host
    type: kvp
    with: {path: %[4]s}
  - name: ci
    type: kvp
    with: {path: %[5]s, mode: cloud-init, prefix: SLUICE}
routes:
  - name: overrides
    from: [ingest]
    to: [host, ci]
    match: {types: [e2e.override]}
    transform:
      set:
        kvptype: diagnostic
        kvpname: 'e2e/{{ .Subject }}'
        kvpresult: '{{ if eq .Severity "error" }}FAIL{{ else }}SUCCESS{{ end }}'
  - name: rest
    from: [ingest]
    to: [host, ci]
`, dir, ingest, admin, pool, ciPool))
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)

	events := []kvpEvent{
		{id: "short", typ: "e2e.kvp", subject: "", data: "a short message"},
		{id: "long", typ: "e2e.kvp", subject: "big", data: strings.Repeat("0123456789", 350)},
		{id: "unicode", typ: "e2e.kvp", subject: "\u00fcnic\u00f6de", data: "h\u00e9llo \u2603 \U0001F600 \"quoted\" \\ \n"},
		{id: "escapes", typ: "e2e.kvp", subject: "esc", data: strings.Repeat("\u00e9\"\\\n\U0001F600", 400)},
		{id: "fail", typ: "e2e.override", subject: "probe-a", severity: "error", data: "probe failed"},
		{id: "ok", typ: "e2e.override", subject: "probe-b", severity: "info", data: strings.Repeat("fine ", 400)},
	}
	for i := range events {
		ev := &events[i]
		ev.wantType, ev.wantName = ev.typ, "ingest"
		if ev.subject != "" {
			ev.wantName += "/" + ev.subject
		}
		if ev.typ == "e2e.override" {
			ev.wantType, ev.wantName, ev.wantResult = "diagnostic", "e2e/"+ev.subject, "SUCCESS"
			if ev.severity == "error" {
				ev.wantResult = "FAIL"
			}
		}
	}

	// cloud-init's writer appends to the host-safe pool meanwhile.
	const ciEvents = 120
	var wg sync.WaitGroup
	var ciOut []byte
	wg.Go(func() { ciOut = kvpRun(t, "write", pool, fmt.Sprint(ciEvents), "cloud-init") })
	client := &http.Client{Timeout: 10 * time.Second}
	const rounds = 5
	for round := range rounds {
		for _, ev := range events {
			body := map[string]any{
				"specversion": "1.0", "id": fmt.Sprintf("%s-%d", ev.id, round), "source": "/e2e", "type": ev.typ,
				"datacontenttype": "text/plain", "data": ev.data,
			}
			if ev.subject != "" {
				body["subject"] = ev.subject
			}
			if ev.severity != "" {
				body["severity"] = ev.severity
			}
			b, err := json.Marshal(body)
			require.NoError(t, err)
			require.NoError(t, post(client, "http://"+ingest+"/events", "application/cloudevents+json", b))
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()

	want := rounds * len(events)
	var host, ci kvpPool
	require.Eventually(t, func() bool {
		host, ci = kvpDecode(t, pool), kvpDecode(t, ciPool)
		return len(host.Events) >= want+ciEvents && len(ci.Events) >= want
	}, 30*time.Second, 100*time.Millisecond, "the sinks write every event")
	require.Len(t, host.Events, want+ciEvents)
	require.Len(t, ci.Events, want)

	for _, p := range []struct {
		name   string
		pool   kvpPool
		prefix string
	}{{"host-safe", host, "CLOUD_INIT|"}, {"cloud-init", ci, "SLUICE|"}} {
		byMsg := map[string]int{}
		sliced := 0
		for _, got := range p.pool.Events {
			if !strings.HasPrefix(got.Key, p.prefix) {
				continue
			}
			for _, ev := range events {
				if got.Msg != ev.data {
					continue
				}
				byMsg[ev.id]++
				if got.Slices > 0 {
					sliced++
				}
				assert.Equal(t, ev.wantName, got.Name, "%s %s", p.name, ev.id)
				assert.Equal(t, ev.wantType, got.Type, "%s %s", p.name, ev.id)
				if ev.wantResult == "" {
					assert.Nil(t, got.Result, "%s %s", p.name, ev.id)
				} else if assert.NotNil(t, got.Result, "%s %s", p.name, ev.id) {
					assert.Equal(t, ev.wantResult, *got.Result, "%s %s", p.name, ev.id)
				}
			}
		}
		for _, ev := range events {
			assert.Equal(t, rounds, byMsg[ev.id], "%s: event %s arrives whole once per round", p.name, ev.id)
		}
		assert.Equal(t, 3*rounds, sliced, "%s: long, escapes and ok are sliced", p.name)
	}

	// cloud-init's own events are intact beside Sluice's.
	byName := map[string]string{}
	for _, got := range host.Events {
		byName[got.Name] = got.Msg
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(ciOut)), "\n") {
		var w struct{ Name, Msg string }
		require.NoError(t, json.Unmarshal([]byte(line), &w))
		assert.Equal(t, w.Msg, byName[w.Name], "cloud-init event %s", w.Name)
		n++
	}
	assert.Equal(t, ciEvents, n)

	// Host-safe: every record reaches the host whole and parses alone.
	for i, r := range host.Records {
		if !strings.HasPrefix(r.Key, "CLOUD_INIT|") || strings.Contains(r.Key, "|cloud-init/") {
			continue
		}
		assert.LessOrEqual(t, len(r.Key), 254, "record %d key", i)
		assert.LessOrEqual(t, len(r.Value), 1022, "record %d value", i)
		assert.True(t, r.JSONOK, "record %d is valid JSON on its own", i)
	}
	require.NoError(t, e.stop(30*time.Second))
}
