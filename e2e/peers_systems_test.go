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

// peerPad is every peer-job event's payload, so that an event is about
// 200 bytes in each system's own JSON.
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
			ingestPath: "/events", targetPath: "/events", contentType: "application/json",
			body: jsonArrayBody, parse: parseJSONArray, durable: durable,
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
// warm, which must be unique to the target).
func (sys *peerSystem) start(tb testing.TB, dir string, target *peerTarget, warm int64) *peerInstance {
	tb.Helper()
	configs, err := filepath.Abs(filepath.Join("..", "bench", "peers", "configs"))
	if err != nil {
		tb.Fatal(err)
	}
	listen := freeAddr(tb)
	env := append([]string{
		"PEER_DIR=" + dir, "PEER_LISTEN=" + listen, "PEER_ADMIN=" + freeAddr(tb),
		"PEER_TARGET=" + target.srv.URL + sys.targetPath,
	}, sys.env...)
	in := &peerInstance{sys: sys, e: startProcess(tb, sys.bin, sys.args(configs), env...), ingest: "http://" + listen + sys.ingestPath}
	deadline := time.Now().Add(60 * time.Second)
	for !in.e.listensOn(listen) {
		select {
		case <-in.e.done:
			tb.Fatalf("%s exited before listening: %v\n%s", sys.name, in.e.err, in.e.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s not listening on %s after 60s\n%s", sys.name, listen, in.e.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := target.distinct()
	if err := in.post(defaultPeerClient, []peerEvent{{n: warm}}); err != nil {
		tb.Fatalf("%s warm-up: %v\n%s", sys.name, err, in.e.stderr.String())
	}
	if !target.waitDistinct(before+1, 60*time.Second) {
		tb.Fatalf("%s did not deliver the warm-up event\n%s", sys.name, in.e.stderr.String())
	}
	return in
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

// cloudEventsBody is a CloudEvents batch (sluice's http source).
func cloudEventsBody(events []peerEvent) []byte {
	return jsonArray(events, `{"specversion":"1.0","id":"%[1]d","source":"/bench","type":"bench","data":{"n":%[1]d,"sent":%[2]d,"pad":"%[3]s"}}`)
}

// jsonArray renders events as a JSON array, each element by format from
// the event's number, send time and peerPad.
func jsonArray(events []peerEvent, format string) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, format, e.n, e.sent, peerPad)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// parseCloudEvents reads sluice's http sink's batch (a CloudEvents array).
func parseCloudEvents(body []byte) ([]peerEvent, error) {
	var in []struct {
		Data struct {
			N    int64 `json:"n"`
			Sent int64 `json:"sent"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	out := make([]peerEvent, len(in))
	for i, e := range in {
		out[i] = peerEvent{n: e.Data.N, sent: e.Data.Sent}
	}
	return out, nil
}

// jsonArrayBody is an array of plain JSON objects (benthos's http_server,
// split by its unarchive processor).
func jsonArrayBody(events []peerEvent) []byte {
	return jsonArray(events, `{"n":%d,"sent":%d,"pad":"%s"}`)
}

// parseJSONArray reads benthos's http_client batch (archived as an array).
func parseJSONArray(body []byte) ([]peerEvent, error) {
	var in []struct {
		N    int64 `json:"n"`
		Sent int64 `json:"sent"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	out := make([]peerEvent, len(in))
	for i, e := range in {
		out[i] = peerEvent{n: e.N, sent: e.Sent}
	}
	return out, nil
}

// otlpLogsBody is an OTLP/HTTP JSON logs export request, one log record
// per event (the number and send time as attributes).
func otlpLogsBody(events []peerEvent) []byte {
	var b bytes.Buffer
	b.WriteString(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bench"}}]},"scopeLogs":[{"logRecords":[`)
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"attributes":[{"key":"n","value":{"intValue":"%d"}},{"key":"sent","value":{"intValue":"%d"}}],"body":{"stringValue":"%s"}}`,
			e.n, e.sent, peerPad)
	}
	b.WriteString(`]}]}]}`)
	return b.Bytes()
}

// parseOTLPLogs reads the otlphttp exporter's JSON logs export request.
func parseOTLPLogs(body []byte) ([]peerEvent, error) {
	var in struct {
		ResourceLogs []struct {
			ScopeLogs []struct {
				LogRecords []struct {
					Attributes []struct {
						Key   string `json:"key"`
						Value struct {
							IntValue json.Number `json:"intValue"`
						} `json:"value"`
					} `json:"attributes"`
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
				var e peerEvent
				for _, a := range lr.Attributes {
					v, err := strconv.ParseInt(a.Value.IntValue.String(), 10, 64)
					switch {
					case a.Key != "n" && a.Key != "sent":
					case err != nil:
						return nil, fmt.Errorf("attribute %s: %w", a.Key, err)
					case a.Key == "n":
						e.n = v
					default:
						e.sent = v
					}
				}
				out = append(out, e)
			}
		}
	}
	return out, nil
}
