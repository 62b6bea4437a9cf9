package httpsource

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sluice-dev/sluice/internal/strictjson"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// FuzzJSONFormat feeds arbitrary bodies to a source in format: json: it
// must never panic; a 202 must record one valid CloudEvent per array
// element (or one for another value) in one emit, each holding strict
// JSON data, and its id and subject rendered from it; any other answer
// is a 400, 413 or 415 with a reason and records nothing.
func FuzzJSONFormat(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","host":"h"}`, `[{"id":"a"},{"id":"b","host":"x"}]`, `[]`, `42`, `"s"`, `null`,
		`[{"id":1},{"nope":2}]`, `{"id":""}`, `{"a":1,"a":2}`, "{\"id\":\"\xff\"}", `{"id":"\ud800"}`,
		`[1,2,3,4,5,6,7,8,9]`, `{} {}`, `{"host":"a\u0007b","id":"x"}`, ` [ {"id" : "sp"} ] `, `[[1],[2]]`, `{"id":null}`, `{"id":{"a":null}}`,
	} {
		f.Add("application/json", []byte(s))
	}
	f.Add("application/cloudevents+json", []byte(`{}`))
	cfg := defaultConfig()
	cfg.MaxBodyBytes = 4096
	cfg.MaxBatchEvents = 8
	cfg.BodyFormat = BodyFormat{Format: FormatJSON, EventSource: "/fuzz", EventType: "fuzz.json", EventID: "{{.id}}", EventSubject: "{{.host}}"}
	if err := cfg.Validate(); err != nil {
		f.Fatal(err)
	}
	src, err := newSource(pipeline.NopSettings("fuzz"), cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		host := pipelinetest.NewRecordingHost("fuzz")
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		src.newHandler(host).ServeHTTP(rec, req)
		answer := decodeAnswer(t, rec)
		events := host.Events()
		switch rec.Code {
		case http.StatusAccepted:
			if answer.Accepted == nil || *answer.Accepted != len(events) || host.Calls() > 1 {
				t.Fatalf("202 says %v accepted; %d recorded in %d emits", answer.Accepted, len(events), host.Calls())
			}
			if err := strictjson.Check(body); err != nil || !json.Valid(body) {
				t.Fatalf("accepted a body that is not strict JSON: %q", body)
			}
			var values []json.RawMessage
			if json.Unmarshal(body, &values) != nil {
				values = []json.RawMessage{body}
			}
			if len(values) != len(events) {
				t.Fatalf("%d values, %d events", len(values), len(events))
			}
			for i, e := range events {
				if err := pipeline.ValidateCloudEvent(&e); err != nil {
					t.Fatalf("accepted an invalid event: %v", err)
				}
				if err := checkStrings(&e); err != nil || !validUTF8(&e) {
					t.Fatalf("accepted bad attributes: %+v", e)
				}
				if !bytes.Equal(e.Data, bytes.TrimSpace(values[i])) {
					t.Fatalf("event %d data %q, value %q", i, e.Data, values[i])
				}
				var v map[string]any
				if json.Unmarshal(e.Data, &v) != nil || v["id"] == nil {
					t.Fatalf("event %d has an id without an id member: %q", i, e.Data)
				}
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			if host.Calls() != 0 || answer.Error == "" {
				t.Fatalf("answer %d after %d emits, reason %q", rec.Code, host.Calls(), answer.Error)
			}
		default:
			t.Fatalf("unexpected answer %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}

// fuzzAnswer is the JSON body of every answer of the source.
type fuzzAnswer struct {
	Accepted *int   `json:"accepted"`
	Error    string `json:"error"`
}

// decodeAnswer decodes rec's body, which must be JSON whatever the status.
func decodeAnswer(t *testing.T, rec *httptest.ResponseRecorder) fuzzAnswer {
	t.Helper()
	var a fuzzAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer %d is not JSON: %q", rec.Code, rec.Body.Bytes())
	}
	return a
}
