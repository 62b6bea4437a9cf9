package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/internal/fakenova"
	"github.com/sluice-dev/sluice/internal/kubepeer"
	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// The reliability harness (issue 19): SIGKILL trials under mixed load.
// SLUICE_RELIABILITY_TRIALS sets the number of trials (20 in the test
// command, 200 in `task reliability`); SLUICE_RELIABILITY_REPORT names a
// file that receives the figures as JSON (docs/reliability.md records
// them).
const (
	reliabilityTrialsEnv = "SLUICE_RELIABILITY_TRIALS"
	reliabilityReportEnv = "SLUICE_RELIABILITY_REPORT"
)

// reliabilityConfig: the http and lbworker sources, a probe and a VM-fault
// source against the fake Nova, into the file, http (a peer failing on
// and off), KVP, VES and k8s (a real kube-apiserver) sinks.
func reliabilityConfig(t *testing.T, dir, ingest, lb, admin, nova, peer, ves, kubeconfig string) string {
	t.Helper()
	return writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal:
  dir: %[1]s/journal
  segment_max_bytes: 1MiB
admin: {listen: "%[4]s"}
log: {level: warn}
shutdown_timeout: 10s
sources:
  - name: ingest
    type: http
    with: {listen: "%[2]s", path: /events}
  - name: lb
    type: lbworker
    with:
      gearman: {servers: []}
      http: {enabled: true, listen: "%[3]s"}
  - name: self
    type: probe
    with: {kind: http, url: "http://%[4]s/healthz", interval: 200ms, timeout: 1s, heartbeat: 1s}
  - name: nova
    type: vmfault
    with:
      provider: openstack
      auth: {url: "%[5]s", username: sluice, user_domain: Default, password: "${OS_PASSWORD}", project: ops, project_domain: Default}
      interval: 100ms
      watch: [{all: true}]
sinks:
  - name: archive
    type: file
    with: {path: %[1]s/archive.jsonl}
  - name: peer
    type: http
    with: {url: "%[6]s/events", timeout: 2s}
    retry: {initial: 10ms, max: 200ms}
  - name: host
    type: kvp
    with: {path: %[1]s/kvp_pool, max_file_bytes: 256MiB, truncate_on_boot: false}
  - name: ves
    type: ves
    with: {url: "%[7]s"}
    retry: {initial: 10ms, max: 200ms}
  - name: kube
    type: k8s
    with:
      kubeconfig: %[8]s
      qps: 500
      burst: 1000
      rules:
        - types: [e2e.k8s]
          action: event
          kind: Node
          name: 'node-{{.Data.id}}'
          reason: Reliability
          event_action: Trial
          note: 'event {{.Data.id}}'
    retry: {initial: 10ms, max: 200ms}
routes:
  - {name: everything, from: [ingest, lb, self], to: [archive]}
  - {name: ingest-to-peer, from: [ingest], to: [peer]}
  - name: kvp
    from: [ingest]
    to: [host]
    match: {types: [e2e.kvp]}
  - {name: faults, from: [nova], to: [ves]}
  - name: kube
    from: [ingest]
    to: [kube]
    match: {types: [e2e.k8s]}
`, dir, ingest, lb, admin, nova, peer, ves, kubeconfig))
}

// flakyPeer is an idempotent HTTP peer that fails (503) on and off. It
// records the sequences of the events it accepted, by Idempotency-Key.
type flakyPeer struct {
	down     atomic.Bool
	failures atomic.Int64
	mu       sync.Mutex
	seqs     []uint64       // accepted, in arrival order
	ids      map[string]int // event id -> times accepted
}

func (p *flakyPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if p.down.Load() {
		p.failures.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var ev struct {
		ID       string          `json:"id"`
		Sequence json.RawMessage `json:"sequence"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	seq, err := strconv.ParseUint(strings.Trim(string(ev.Sequence), `"`), 10, 64)
	if err != nil || r.Header.Get("Idempotency-Key") == "" {
		http.Error(w, "no sequence or idempotency key", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.seqs = append(p.seqs, seq)
	p.ids[ev.ID]++
	p.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// reliabilityReport is what one run of the harness measured.
type reliabilityReport struct {
	Trials          int            `json:"trials"`
	AckedHTTP       int            `json:"acked_http"`
	AckedK8s        int            `json:"acked_k8s"`
	AckedLB         int            `json:"acked_lb"`
	Lost            int            `json:"lost"`
	JournalRecords  int            `json:"journal_records"`
	Duplicates      map[string]int `json:"duplicates"`
	PeerFailures    int64          `json:"peer_failures"`
	VESFaultEvents  int            `json:"ves_fault_events"`
	RecoverySeconds float64        `json:"recovery_seconds"`
}

// TestReliabilitySIGKILLMixedLoad kills the engine with SIGKILL at random
// moments while clients post events and Libra requests, a probe runs, the
// fake Nova's server flips between ERROR and ACTIVE and the http peer
// fails on and off. After the trials: every acknowledged event (a 202, a
// PASS) is in the journal, `sluice journal verify` passes, every sink
// receives every event its routes select, in journal order (first
// deliveries' sequences increase), and duplicates are counted per sink;
// the idempotent ones (the http peer by Idempotency-Key, KVP by record
// UUID, VES by eventId) must show each event's effect once after
// de-duplication.
func TestReliabilitySIGKILLMixedLoad(t *testing.T) {
	trials := 20
	if v := os.Getenv(reliabilityTrialsEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, reliabilityTrialsEnv)
		trials = n
	}
	dir := t.TempDir()
	keepOnFailure(t, dir)
	nova := fakenova.New()
	t.Cleanup(nova.Close)
	const serverID = "5f0b7c1e-3a4d-4e8b-9c2f-1d6e8a7b9c01"
	nova.Put(fakenova.Server{ID: serverID, Name: "web", Status: "ACTIVE", VMState: "active", PowerState: 1})
	peer := &flakyPeer{ids: map[string]int{}}
	peerSrv := httptest.NewServer(peer)
	t.Cleanup(peerSrv.Close)
	col, vesSrv := newVESCollector(t)
	ingest, lb, admin := freeAddr(t), freeAddr(t), freeAddr(t)
	kube, kubeconfig := startKube(t)
	cfg := reliabilityConfig(t, dir, ingest, lb, admin, nova.URL, peerSrv.URL, vesSrv.URL, kubeconfig)

	var mu sync.Mutex
	ackedHTTP, ackedKVP, ackedK8s, ackedLB := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for trial := range trials {
		e := startEngine(t, cfg, "OS_PASSWORD=s3cret")
		e.waitReady(admin, 30*time.Second)
		waitListening(t, ingest)
		waitListening(t, lb)
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ctx.Err() == nil; i++ {
					id := fmt.Sprintf("t%d-w%d-%d", trial, w, i)
					typ := "e2e.test"
					switch i % 20 {
					case 0, 10:
						typ = "e2e.kvp"
					case 5:
						typ = "e2e.k8s"
					}
					if postTyped(client, "http://"+ingest+"/events", id, typ) == http.StatusAccepted {
						mu.Lock()
						ackedHTTP[id] = true
						switch typ {
						case "e2e.kvp":
							ackedKVP[id] = true
						case "e2e.k8s":
							ackedK8s[id] = true
						}
						mu.Unlock()
					}
				}
			})
		}
		for w := range 2 {
			wg.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ctx.Err() == nil; i++ {
					key := fmt.Sprintf("t%d-lb%d-%d", trial, w, i)
					status, reply := postLB(client, "http://"+lb+"/lbaas", key, `{"hpcs_action":"ENABLE","key":"`+key+`"}`)
					if status == http.StatusOK && strings.Contains(reply, `"hpcs_response":"PASS"`) {
						mu.Lock()
						ackedLB["http/"+key] = true
						mu.Unlock()
					}
				}
			})
		}
		wg.Go(func() { // the world changes under the engine
			for ctx.Err() == nil {
				peer.down.Store(rand.IntN(3) == 0)
				if rand.IntN(2) == 0 {
					nova.Put(fakenova.Server{ID: serverID, Name: "web", Status: "ERROR", VMState: "error",
						Fault: &fakenova.Fault{Code: 500, Message: "No valid host was found.", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}})
				} else {
					nova.Put(fakenova.Server{ID: serverID, Name: "web", Status: "ACTIVE", VMState: "active", PowerState: 1})
				}
				time.Sleep(time.Duration(50+rand.IntN(200)) * time.Millisecond)
			}
		})
		time.Sleep(time.Duration(200+rand.IntN(600)) * time.Millisecond)
		e.kill()
		stop()
		wg.Wait()
	}
	require.NotEmpty(t, ackedHTTP, "no event was acknowledged")
	require.NotEmpty(t, ackedLB, "no Libra request passed")

	// A last run with every peer up drains the backlog, then stops.
	peer.down.Store(false)
	nova.Put(fakenova.Server{ID: serverID, Name: "web", Status: "ACTIVE", VMState: "active", PowerState: 1})
	restarted := time.Now()
	e := startEngine(t, cfg, "OS_PASSWORD=s3cret")
	e.waitReady(admin, 30*time.Second)
	archive := filepath.Join(dir, "archive.jsonl")
	wantArchive := map[string]bool{}
	for id := range ackedHTTP {
		wantArchive[id] = true
	}
	for id := range ackedLB {
		wantArchive[id] = true
	}
	missing := map[string]int{}
	caughtUp := func() bool {
		peer.mu.Lock()
		peerMissing := 0
		for id := range ackedHTTP {
			if peer.ids[id] == 0 {
				peerMissing++
			}
		}
		peer.mu.Unlock()
		missing = map[string]int{
			"peer":    peerMissing,
			"archive": countMissing(t, wantArchive, idsInLines(t, readLines(t, archive))),
			"host":    countMissing(t, ackedKVP, kvpIDs(t, filepath.Join(dir, "kvp_pool"))),
			"kube":    countMissing(t, ackedK8s, kubeEventIDs(t, kube)),
		}
		return missing["peer"]+missing["archive"]+missing["host"]+missing["kube"] == 0
	}
	if !assert.Eventually(t, caughtUp, 120*time.Second, 100*time.Millisecond, "every sink receives every acknowledged event its routes select") {
		t.Fatalf("acknowledged events missing per sink: %v", missing)
	}
	recovery := time.Since(restarted)
	require.Eventually(t, func() bool { return lastFaultIsClear(col) }, 30*time.Second, 20*time.Millisecond,
		"the VES collector's last word on the ACTIVE server is a clear")
	require.NoError(t, e.stop(30*time.Second))

	journalDir := filepath.Join(dir, "journal")
	out, stderr, code := sluice(t, nil, "journal", "tail", "--dir", journalDir, "--from", "1")
	require.Zero(t, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	journaled := idsInLines(t, lines)
	lost := countMissing(t, wantArchive, journaled)
	require.Zero(t, lost, "acknowledged events missing from the journal")
	requireConsecutiveSequences(t, lines)
	_, stderr, code = sluice(t, nil, "journal", "verify", "--dir", journalDir)
	require.Zero(t, code, "journal verify: %s", stderr)

	// Order and duplicates per sink.
	archiveLines := readLines(t, archive)
	archiveSeqs := make([]uint64, 0, len(archiveLines))
	for _, l := range archiveLines {
		archiveSeqs = append(archiveSeqs, sequenceOf(t, l))
	}
	dups := map[string]int{"archive": requireFirstDeliveriesInOrder(t, "archive", archiveSeqs)}
	peer.mu.Lock()
	dups["peer"] = requireFirstDeliveriesInOrder(t, "peer", peer.seqs)
	peer.mu.Unlock()
	dups["host"] = kvpDuplicates(t, filepath.Join(dir, "kvp_pool"))
	col.mu.Lock()
	require.Empty(t, col.bad, "VES bodies the schema rejects")
	vesEvents := len(col.events)
	col.mu.Unlock()
	dups["ves"] = vesEvents - len(col.faults())
	dups["kube"] = kubeDuplicates(t, kube)
	assert.Zero(t, dups["kube"], "a redelivered event patches its Event object (named from the delivery's key), it never makes a second one")

	rep := reliabilityReport{
		Trials: trials, AckedHTTP: len(ackedHTTP), AckedK8s: len(ackedK8s), AckedLB: len(ackedLB), Lost: lost, JournalRecords: len(lines),
		Duplicates: dups, PeerFailures: peer.failures.Load(), VESFaultEvents: len(col.faults()),
		RecoverySeconds: recovery.Seconds(),
	}
	t.Logf("reliability: %+v", rep)
	if path := os.Getenv(reliabilityReportEnv); path != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o600))
	}
}

// sequenceOf returns the sequence extension of a CloudEvents JSON line.
func sequenceOf(t *testing.T, line string) uint64 {
	t.Helper()
	var ev struct {
		Sequence json.RawMessage `json:"sequence"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &ev), "line %q", line)
	seq, err := strconv.ParseUint(strings.Trim(string(ev.Sequence), `"`), 10, 64)
	require.NoError(t, err, "line %q", line)
	return seq
}

// requireFirstDeliveriesInOrder checks that the first delivery of each
// sequence comes after the first delivery of every smaller one (a
// redelivery after a crash may repeat a run of events, never reorder),
// and returns how many deliveries were repeats.
func requireFirstDeliveriesInOrder(t *testing.T, sink string, seqs []uint64) int {
	t.Helper()
	seen := make(map[uint64]bool, len(seqs))
	var highest uint64
	dups := 0
	for i, s := range seqs {
		if seen[s] {
			dups++
			continue
		}
		seen[s] = true
		assert.Greater(t, s, highest, "sink %s: delivery %d (sequence %d) is new but comes after sequence %d", sink, i, s, highest)
		highest = max(highest, s)
	}
	return dups
}

// kvpEntries parses the KVP pool file's event records.
func kvpEntries(t *testing.T, path string) []kvpsink.Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	recs, err := kvpsink.DecodeRecords(b)
	require.NoError(t, err)
	out := make([]kvpsink.Entry, 0, len(recs))
	for _, r := range recs {
		e, err := kvpsink.ParseRecord(r)
		require.NoError(t, err, "record %q", r.Key)
		out = append(out, e)
	}
	return out
}

// kvpIDs returns the event ids (data.id) in the KVP pool.
func kvpIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, e := range kvpEntries(t, path) {
		var data struct {
			ID string `json:"id"`
		}
		if json.Unmarshal([]byte(e.Msg), &data) == nil {
			ids[data.ID] = true
		}
	}
	return ids
}

// kvpDuplicates counts KVP records whose UUID (the delivery's idempotency
// key) was written before.
func kvpDuplicates(t *testing.T, path string) int {
	t.Helper()
	seen := map[string]bool{}
	dups := 0
	for _, e := range kvpEntries(t, path) {
		if seen[e.UUID] {
			dups++
		}
		seen[e.UUID] = true
	}
	return dups
}

// lastFaultIsClear reports whether the VES collector's newest fault event
// clears the alarm (or none was ever raised).
func lastFaultIsClear(c *vesCollector) bool {
	faults := c.faults()
	if len(faults) == 0 {
		return true
	}
	last := faults[len(faults)-1]
	f, _ := last["faultFields"].(map[string]any)
	return f["eventSeverity"] == "NORMAL"
}

// outageEnv sets how long the sink's peer is down in
// TestSinkOutageDeliversEverything (default 10s; `task reliability` uses
// 10m, the figure).
const outageEnv = "SLUICE_RELIABILITY_OUTAGE"

// TestSinkOutageDeliversEverything: the http sink's peer is down while
// events arrive at 1,000 a second; once it is back, everything is
// delivered, in journal order, and the engine's resident memory stayed
// bounded during the outage (the journal holds the backlog, not memory).
func TestSinkOutageDeliversEverything(t *testing.T) {
	outage := 10 * time.Second
	if v := os.Getenv(outageEnv); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, outageEnv)
		outage = d
	}
	const rate = 1000 // events a second, in batches of 100 every 100ms
	peer := &flakyPeer{ids: map[string]int{}}
	peer.down.Store(true)
	peerSrv := httptest.NewServer(peer)
	t.Cleanup(peerSrv.Close)
	dir := t.TempDir()
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal, segment_max_bytes: 4MiB}
admin: {listen: "%[3]s"}
log: {level: warn}
sources:
  - {name: ingest, type: http, with: {listen: "%[2]s", path: /events}}
sinks:
  - name: peer
    type: http
    with: {url: "%[4]s/events", timeout: 2s}
    retry: {initial: 50ms, max: 1s}
routes:
  - {name: all, from: [ingest], to: [peer]}
`, dir, ingest, admin, peerSrv.URL))
	e := startEngine(t, cfg)
	e.waitReady(admin, 30*time.Second)
	waitListening(t, ingest)

	client := &http.Client{Timeout: 10 * time.Second}
	sent := 0
	var peakRSS int64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for start := time.Now(); time.Since(start) < outage; {
		<-tick.C
		var b strings.Builder
		b.WriteByte('[')
		for k := range rate / 10 {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"specversion":"1.0","id":"o-%d","source":"/e2e","type":"e2e.outage","data":{"n":%d}}`, sent, sent)
			sent++
		}
		b.WriteByte(']')
		require.NoError(t, post(client, "http://"+ingest+"/events", "application/cloudevents-batch+json", []byte(b.String())))
		peakRSS = max(peakRSS, rssBytes(t, e.cmd.Process.Pid))
	}
	peer.down.Store(false)
	recoveryStart := time.Now()
	require.Eventually(t, func() bool {
		peer.mu.Lock()
		defer peer.mu.Unlock()
		return len(peer.ids) == sent
	}, 5*time.Minute, 50*time.Millisecond, "every event is delivered after the outage")
	recovery := time.Since(recoveryStart)
	peakRSS = max(peakRSS, rssBytes(t, e.cmd.Process.Pid))
	require.NoError(t, e.stop(30*time.Second))
	peer.mu.Lock()
	dups := requireFirstDeliveriesInOrder(t, "peer", peer.seqs)
	peer.mu.Unlock()
	t.Logf("outage %s at %d events/s: %d events, all delivered %s after recovery, %d duplicates, %d refused requests, peak RSS %d MiB",
		outage, rate, sent, recovery.Round(time.Millisecond), dups, peer.failures.Load(), peakRSS>>20)
	assert.Less(t, peakRSS, int64(256<<20), "resident memory stays bounded while the backlog grows")
}

// rssBytes returns the resident set size of process pid.
func rssBytes(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err, l)
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// keepOnFailure copies dir (the journal and the sinks' files) to a new
// directory under the system's temporary directory when the test fails,
// and logs where, so that a failed campaign can be examined.
func keepOnFailure(t *testing.T, dir string) {
	t.Helper()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// Not t.TempDir: the copy must outlive the test.
		keep, err := os.MkdirTemp("", "sluice-"+strings.ReplaceAll(t.Name(), "/", "_")+"-") //nolint:usetesting // kept after the test on purpose
		if err == nil {
			err = copyRegularFiles(keep, dir)
		}
		if err != nil {
			t.Logf("keeping %s: %v", dir, err)
			return
		}
		t.Logf("the test's files are kept in %s", keep)
	})
}

// kubeEventNotes returns the Events the k8s sink made in the harness, by
// the event id their Node's name carries ("node-<id>": one series per
// journal event, since the sink folds isomorphic events, which differ only
// in their note, into one series as client-go does), with how many Events
// name it and the most any of them counts in its series.
func kubeEventNotes(t *testing.T, kube *kubepeer.Env) (objects, series map[string]int) {
	t.Helper()
	objects, series = map[string]int{}, map[string]int{}
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := kube.Client.EventsV1().Events("default").List(context.Background(), opts)
		require.NoError(t, err)
		for _, e := range list.Items {
			id, ok := strings.CutPrefix(e.Regarding.Name, "node-")
			if !ok {
				continue
			}
			objects[id]++
			if e.Series != nil && int(e.Series.Count) > series[id] {
				series[id] = int(e.Series.Count)
			}
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			return objects, series
		}
	}
}

// kubeEventIDs returns the ids of the events the k8s sink recorded.
func kubeEventIDs(t *testing.T, kube *kubepeer.Env) map[string]bool {
	t.Helper()
	objects, _ := kubeEventNotes(t, kube)
	ids := make(map[string]bool, len(objects))
	for id := range objects {
		ids[id] = true
	}
	return ids
}

// kubeDuplicates counts duplicate effects at the Kubernetes API: a second
// Event object for one journal event, or an Event whose series counts it
// more than once (a redelivery must patch the same object, not repeat it).
func kubeDuplicates(t *testing.T, kube *kubepeer.Env) int {
	t.Helper()
	objects, series := kubeEventNotes(t, kube)
	n := 0
	for id, k := range objects {
		n += k - 1
		if series[id] > 1 {
			n += series[id] - 1
		}
	}
	return n
}

// copyRegularFiles copies the directories and regular files under src
// into dst (os.CopyFS refuses the admin socket).
func copyRegularFiles(dst, src string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o700)
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o600)
		default:
			return nil
		}
	})
}
