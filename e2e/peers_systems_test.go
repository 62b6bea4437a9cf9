//go:build peers

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peerPad fills every peer-job event (peerEventJSON) to about 230 bytes.
var peerPad = strings.Repeat("x", 120)

// peerSystem is one way to run the peer job: HTTP JSON in, a buffer, HTTP
// out to a peerTarget. Its config is a file under bench/peers/configs,
// filled in from the environment (PEER_DIR, PEER_LISTEN, PEER_ADMIN,
// PEER_TARGET, PEER_FSYNC).
type peerSystem struct {
	name        string
	bin         string
	args        func(configs string) []string
	env         []string // added to the PEER_* variables
	ingestPath  string   // on PEER_LISTEN
	targetPath  string   // on the target
	contentType string
	// body renders events (number, send time) as one request.
	body func(events []peerEvent) []byte
	// parse reads a delivery the system POSTs to the target.
	parse func(body []byte) ([]peerEvent, error)
	// durable says what the client's 2xx means, for the report.
	durable string
}

// peerSystems returns the systems the peer job compares, sluice first.
// The peers' binaries come from bench/peers/build (SLUICE_PEER_OTELCOL,
// SLUICE_PEER_BENTHOS); without them the benchmark fails, naming the
// command.
func peerSystems(tb testing.TB) []*peerSystem {
	tb.Helper()
	otelcol, benthos := os.Getenv("SLUICE_PEER_OTELCOL"), os.Getenv("SLUICE_PEER_BENTHOS")
	for _, p := range []string{otelcol, benthos} {
		if p == "" {
			tb.Fatal("SLUICE_PEER_OTELCOL and SLUICE_PEER_BENTHOS must name the peers' binaries: " +
				"run `go tool -modfile=.tools/go.mod task bench:peers:job`, or export the lines `bash bench/peers/build` prints")
		}
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("peer binary: %v", err)
		}
	}
	sluice := &peerSystem{
		name: "sluice", bin: sluiceBin,
		args:       func(c string) []string { return []string{"run", "-c", filepath.Join(c, "sluice.yaml")} },
		ingestPath: "/events", targetPath: "/events", contentType: "application/cloudevents-batch+json",
		body: cloudEventsBody, parse: parseCloudEvents,
		durable: "journal append fsync'd before the 202",
	}
	otel := func(fsync bool) *peerSystem {
		durable := "persistent queue (bbolt) put, fsync'd, before the 200"
		if !fsync {
			durable = "persistent queue (bbolt) put before the 200, no fsync (in the page cache)"
		}
		return &peerSystem{
			name: "otelcol/fsync=" + strconv.FormatBool(fsync), bin: otelcol,
			args:       func(c string) []string { return []string{"--config", filepath.Join(c, "otelcol.yaml")} },
			env:        []string{"PEER_FSYNC=" + strconv.FormatBool(fsync)},
			ingestPath: "/v1/logs", targetPath: "/v1/logs", contentType: "application/json",
			body: otlpLogsBody, parse: parseOTLPLogs, durable: durable,
		}
	}
	bent := func(buffer, durable string) *peerSystem {
		return &peerSystem{
			name: "benthos/" + buffer, bin: benthos,
			args:       func(c string) []string { return []string{"-c", filepath.Join(c, "benthos-"+buffer+".yaml")} },
			ingestPath: "/events", targetPath: "/events", contentType: "application/cloudevents-batch+json",
			body: cloudEventsBody, parse: parseCloudEvents, durable: durable,
		}
	}
	return []*peerSystem{
		sluice, otel(true), otel(false),
		bent("memory", "memory buffer write before the 200 (not durable)"),
		bent("none", "no buffer: the 200 waits for the target's 200"),
	}
}

// peerInstance is one running process of a peerSystem.
type peerInstance struct {
	sys    *peerSystem
	e      *engine
	ingest string // URL
}

// start runs sys on state directory dir (kept across restarts), delivering
// to target, and returns once it has delivered a warm-up event (numbered
// warm, which must be unique to the target); it fails tb if sys does not.
func (sys *peerSystem) start(tb testing.TB, dir string, target *peerTarget, warm int64) *peerInstance {
	tb.Helper()
	in, err := sys.launch(tb, dir, target, warm)
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

// launch is start that returns, rather than fails on, a system that
// exits, does not listen within 60 s or does not deliver its warm-up
// event within 60 s (a system that cannot start on what a power cut left
// of its state); the process is killed then.
func (sys *peerSystem) launch(tb testing.TB, dir string, target *peerTarget, warm int64) (*peerInstance, error) {
	tb.Helper()
	configs, err := filepath.Abs(filepath.Join("..", "bench", "peers", "configs"))
	if err != nil {
		return nil, err
	}
	listen := freeAddr(tb)
	env := append([]string{
		"PEER_DIR=" + dir, "PEER_LISTEN=" + listen, "PEER_ADMIN=" + freeAddr(tb),
		"PEER_TARGET=" + target.srv.URL + sys.targetPath,
	}, sys.env...)
	in := &peerInstance{sys: sys, e: startProcess(tb, sys.bin, sys.args(configs), env...), ingest: "http://" + listen + sys.ingestPath}
	fail := func(format string, args ...any) (*peerInstance, error) {
		in.e.kill()
		return nil, fmt.Errorf("%s %s\n%s", sys.name, fmt.Sprintf(format, args...), in.e.stderr.String())
	}
	deadline := time.Now().Add(60 * time.Second)
	for !in.e.listensOn(listen) {
		select {
		case <-in.e.done:
			return fail("exited before listening: %v", in.e.err)
		default:
		}
		if time.Now().After(deadline) {
			return fail("not listening on %s after 60s", listen)
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := target.distinct()
	if err := in.post(defaultPeerClient, []peerEvent{{n: warm}}); err != nil {
		return fail("warm-up: %v", err)
	}
	if !target.waitDistinct(before+1, 60*time.Second) {
		return fail("did not deliver the warm-up event")
	}
	return in, nil
}

// post sends events as one request and fails unless the system answered
// 2xx: only then are they acknowledged.
func (in *peerInstance) post(client *peerClient, events []peerEvent) error {
	status, err := client.post(in.ingest, in.sys.contentType, in.sys.body(events))
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("%s answered %d", in.sys.name, status)
	}
	return nil
}

// peerEventJSON is one event as every system receives it: the same
// CloudEvent JSON bytes for the same number and send time, whatever the
// system (sluice and benthos get them as array elements, the collector as
// a log record's body string). With numbers of 10 digits and send times
// of 19 (peerIDs, nextEvents) it is peerEventBytes long.
func peerEventJSON(b *bytes.Buffer, e peerEvent) {
	fmt.Fprintf(b, `{"specversion":"1.0","id":"%[1]d","source":"/bench","type":"bench","data":{"n":%[1]d,"sent":%[2]d,"pad":"%[3]s"}}`,
		e.n, e.sent, peerPad)
}

// peerEventBytes is the length of a job event (peerEventJSON) with a
// 10-digit number and a 19-digit send time.
func peerEventBytes() int {
	var b bytes.Buffer
	peerEventJSON(&b, peerEvent{n: 1_000_000_000, sent: 1_000_000_000_000_000_000})
	return b.Len()
}

// cloudEventsBody is the events as a JSON array of peerEventJSON: a
// CloudEvents batch for sluice's http source, and the same bytes for
// benthos's http_server, whose unarchive processor splits the array.
func cloudEventsBody(events []peerEvent) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		peerEventJSON(&b, e)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// peerEventData is the part of a job event the target reads back.
type peerEventData struct {
	Data struct {
		N    int64 `json:"n"`
		Sent int64 `json:"sent"`
	} `json:"data"`
}

// parseCloudEvents reads a JSON array of job events: sluice's http sink's
// batch (a CloudEvents array) and benthos's http_client batch (the
// messages archived as an array).
func parseCloudEvents(body []byte) ([]peerEvent, error) {
	var in []peerEventData
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	out := make([]peerEvent, len(in))
	for i, e := range in {
		out[i] = peerEvent{n: e.Data.N, sent: e.Data.Sent}
	}
	return out, nil
}

// otlpLogsBody is an OTLP/HTTP JSON logs export request with one log
// record per event, whose body is the event's peerEventJSON as a string
// value (so the payload is the same bytes as sluice's and benthos's; on
// the wire it is JSON-escaped and wrapped in the OTLP envelope).
func otlpLogsBody(events []peerEvent) []byte {
	var b, ev bytes.Buffer
	b.WriteString(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bench"}}]},"scopeLogs":[{"logRecords":[`)
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		ev.Reset()
		peerEventJSON(&ev, e)
		quoted, err := json.Marshal(ev.String())
		if err != nil {
			panic(err) // a string always marshals
		}
		b.WriteString(`{"body":{"stringValue":`)
		b.Write(quoted)
		b.WriteString(`}}`)
	}
	b.WriteString(`]}]}]}`)
	return b.Bytes()
}

// parseOTLPLogs reads the otlphttp exporter's JSON logs export request:
// every log record's body string is a job event.
func parseOTLPLogs(body []byte) ([]peerEvent, error) {
	var in struct {
		ResourceLogs []struct {
			ScopeLogs []struct {
				LogRecords []struct {
					Body struct {
						StringValue string `json:"stringValue"`
					} `json:"body"`
				} `json:"logRecords"`
			} `json:"scopeLogs"`
		} `json:"resourceLogs"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	var out []peerEvent
	for _, rl := range in.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				var e peerEventData
				if err := json.Unmarshal([]byte(lr.Body.StringValue), &e); err != nil {
					return nil, fmt.Errorf("log record body: %w", err)
				}
				out = append(out, peerEvent{n: e.Data.N, sent: e.Data.Sent})
			}
		}
	}
	return out, nil
}

// requestBytesPerEvent is the size of a request of 100 job events per
// event, as the load sends them to sys (envelope included).
func (sys *peerSystem) requestBytesPerEvent() float64 {
	const n = 100
	events := make([]peerEvent, n)
	for i := range events {
		events[i] = peerEvent{n: peerIDBase + int64(i), sent: 1_000_000_000_000_000_000}
	}
	return float64(len(sys.body(events))) / n
}
