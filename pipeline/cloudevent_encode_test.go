package pipeline_test

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// referenceCloudEventJSON is the straightforward encoding/json version of
// MarshalCloudEventJSON, which the fast encoder must match byte for byte.
func referenceCloudEventJSON(t *testing.T, e *pipeline.Event) []byte {
	t.Helper()
	m := map[string]any{}
	for k, v := range e.Extensions {
		m[k] = v
	}
	m["specversion"], m["id"], m["source"], m["type"] = "1.0", e.ID, e.Source, e.Type
	if e.Subject != "" {
		m["subject"] = e.Subject
	}
	if !e.Time.IsZero() {
		m["time"] = e.Time.UTC().Format(time.RFC3339Nano)
	}
	if e.DataContentType != "" {
		m["datacontenttype"] = e.DataContentType
	}
	if e.DataSchema != "" {
		m["dataschema"] = e.DataSchema
	}
	if e.Severity != pipeline.SeverityInfo {
		m["severity"] = e.Severity.String()
	}
	if e.Sequence != 0 {
		m["sequence"] = strconv.FormatUint(e.Sequence, 10)
	}
	if e.TraceParent != "" {
		m["traceparent"] = e.TraceParent
	}
	if len(e.Data) > 0 {
		if (e.DataContentType == "" || e.DataContentType == "application/json") && json.Valid(e.Data) && utf8.Valid(e.Data) {
			// Invalid UTF-8 would make the line invalid JSON text (D8).
			m["data"] = json.RawMessage(e.Data)
		} else {
			m["data_base64"] = base64.StdEncoding.EncodeToString(e.Data)
		}
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func FuzzAppendCloudEventJSONMatchesEncodingJSON(f *testing.F) {
	f.Add("id-1", "/src", "t.x", "subj <&>", `{"a": [1, 2, "<b>"]}`, "application/json", "ext", "v\u2028\x01\xff", int64(1700000000123456789), uint64(7), int8(3))
	f.Add("", "", "", "", "\x00\x01", "application/octet-stream", "id", "shadow", int64(0), uint64(0), int8(0))
	f.Add("i", "/s", "t", "", "\"\xc3\x28\"", "application/json", "e", "v", int64(1), uint64(1), int8(0))
	f.Add("é\"\\\n\t\r\b\f", "/s", "t", "", "not json", "", "data", "x", int64(-5), uint64(1<<63), int8(-1))
	f.Fuzz(func(t *testing.T, id, source, typ, subject, data, ct, extKey, extVal string, unixNano int64, seq uint64, sev int8) {
		if ct != "" && ct != "application/json" && ct != "application/octet-stream" {
			ct = "text/plain"
		}
		e := pipeline.Event{ID: id, Source: source, Type: typ, Subject: subject, Data: []byte(data), DataContentType: ct,
			Sequence: seq, Severity: pipeline.Severity(sev % 7), Extensions: map[string]string{extKey: extVal}}
		if unixNano != 0 {
			e.Time = time.Unix(0, unixNano)
		}
		got, err := pipeline.MarshalCloudEventJSON(&e)
		require.NoError(t, err)
		require.Equal(t, string(referenceCloudEventJSON(t, &e)), string(got))
	})
}

// FuzzAppendCloudEventJSONExtensions: several extensions, which the
// encoder sorts and merges among the attributes it writes in key order,
// some of them named like attributes (which win).
func FuzzAppendCloudEventJSONExtensions(f *testing.F) {
	f.Add("probe", "web", "region", "eu", "zone", "b", "subject")
	f.Add("data", "x", "id", "y", "type", "z", "")
	f.Add("a", "1", "zz", "2", "traceparent", "3", "s")
	f.Add("sequencex", "1", "sourc", "2", "timea", "3", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3, subject string) {
		e := pipeline.Event{ID: "i", Source: "/s", Type: "t", Subject: subject, Sequence: 9, Time: time.Unix(1, 2),
			DataContentType: "application/json", Data: []byte(`{"a":1}`), TraceParent: "00-x",
			Extensions: map[string]string{k1: v1, k2: v2, k3: v3}}
		got, err := pipeline.MarshalCloudEventJSON(&e)
		require.NoError(t, err)
		require.Equal(t, string(referenceCloudEventJSON(t, &e)), string(got))
	})
}

// TestAppendCloudEventJSONAllocations: rendering an event with extensions
// into a buffer with room allocates nothing.
func TestAppendCloudEventJSONAllocations(t *testing.T) {
	e := pipelinetest.ProbeEvents(0, 1)[0]
	e.ID, e.Sequence, e.Time = "0190f1b2-7c1d-7e3a-9a53-0c6f1b2c3d4e", 42, time.Unix(1700000000, 5)
	buf := pipeline.AppendCloudEventJSON(nil, &e)
	allocs := testing.AllocsPerRun(100, func() { buf = pipeline.AppendCloudEventJSON(buf[:0], &e) })
	require.Zero(t, allocs)
}

func BenchmarkMarshalCloudEventJSON(b *testing.B) {
	e := pipeline.Event{ID: "0190f1b2-7c1d-7e3a-9a53-0c6f1b2c3d4e", Source: "/sluice/sources/web", Type: "sluice.probe.state",
		Subject: "web", Time: time.Now(), DataContentType: "application/json", Severity: pipeline.SeverityWarning, Sequence: 123456,
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		Data:        []byte(`{"from":"healthy","to":"unhealthy","consecutive_failures":3,"last_error":"connection refused","latency_ms":1.5}`)}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = pipeline.AppendCloudEventJSON(buf[:0], &e)
	}
	b.SetBytes(int64(len(buf)))
}
