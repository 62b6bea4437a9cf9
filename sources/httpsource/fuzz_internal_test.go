package httpsource

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/strictjson"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// FuzzRequest feeds arbitrary requests to the handler: it must never
// panic, answer 2xx only with valid events (UTF-8 attributes, no
// duplicate members, no leap second kept) all recorded in one emit, and
// record nothing for any other answer.
func FuzzRequest(f *testing.F) {
	const ev = `{"specversion":"1.0","id":"a","source":"/s","type":"t","data":{"x":1}}`
	seeds := []struct {
		method, contentType, name, value, auth string
		ce                                     uint8
		body                                   string
	}{
		{"POST", mediaStructured, "", "", "Bearer tok", 0, ev},
		{"POST", mediaBatch, "", "", "Bearer tok", 0, "[" + ev + "," + ev + "]"},
		{"POST", mediaBatch, "", "", "Bearer tok", 0, "[]"},
		{"POST", mediaBatch, "", "", "Bearer tok", 0, `[{"specversion":"1.0"}]`},
		{"POST", "application/json", "ce-subject", "Euro%20%E2%82%AC", "Bearer tok", 0xf, `{"x":1}`},
		{"POST", "", "ce-ext", `"quoted"`, "Bearer tok", 0xf, ""},
		{"POST", "text/plain", "ce-datacontenttype", "x", "Bearer tok", 0xf, "hi"},
		{"POST", mediaStructured + "; charset=utf-16", "", "", "Bearer tok", 0, ev},
		{"POST", mediaStructured, "", "", "Bearer nope", 0, ev},
		{"GET", "", "", "", "", 0, ""},
		{"POST", mediaStructured, "", "", "Bearer tok", 0, `{"specversion":"1.0","id":"a","source":"/s","type":"t","data_base64":"!!"}`},
		{"POST", mediaStructured, "", "", "Bearer tok", 0, `null`},
		{"POST", mediaStructured, "", "", "Bearer tok", 0, "{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\",\"data\":\"\xc3\x28\"}"},
		{"POST", mediaStructured, "", "", "Bearer tok", 0, "{\"specversion\":\"1.0\",\"id\":\"\xff\",\"source\":\"/s\",\"type\":\"t\"}"},
		{"POST", mediaStructured, "", "", "Bearer tok", 0, `{"specversion":"1.0","id":"a","id":"b","source":"/s","type":"t"}`},
		{"POST", mediaStructured, "", "", "Bearer tok", 0, `{"specversion":"1.0","id":"\ud800","source":"/s","type":"t"}`},
		{"POST", mediaStructured, "", "", "Bearer tok", 0, `{"specversion":"1.0","id":"a","source":"/s","type":"t","time":"2016-12-31t23:59:60z"}`},
		{"POST", mediaBatch, "", "", "Bearer tok", 0, "[" + ev + "] [" + ev + "]"},
		{"POST", "", "ce-time", "2016-12-31T23:59:60Z", "Bearer tok", 0xf, ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.contentType, s.name, s.value, s.auth, s.ce, []byte(s.body))
	}
	cfg := defaultConfig()
	cfg.Token = "tok"
	cfg.MaxBodyBytes = 4096
	cfg.MaxBatchEvents = 8
	src, err := newSource(pipeline.NopSettings("fuzz"), cfg)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, method, contentType, name, value, auth string, ce uint8, body []byte) {
		host := pipelinetest.NewRecordingHost("fuzz")
		h := src.newHandler(host)
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/events", bytes.NewReader(body))
		req.Method = method
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		for i, kv := range [][2]string{{"ce-specversion", "1.0"}, {"ce-id", "id"}, {"ce-source", "/s"}, {"ce-type", "t"}} {
			if ce&(1<<i) != 0 {
				req.Header.Set(kv[0], kv[1])
			}
		}
		if name != "" {
			req.Header.Add(name, value)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		answer := decodeAnswer(t, rec)
		events := host.Events()
		switch rec.Code {
		case http.StatusAccepted:
			if answer.Accepted == nil || *answer.Accepted != len(events) {
				t.Fatalf("202 says %v accepted, %d recorded", answer.Accepted, len(events))
			}
			if len(host.Batches()) > 1 || host.Calls() > 1 {
				t.Fatalf("one request made %d emits", host.Calls())
			}
			for _, e := range events {
				if err := pipeline.ValidateCloudEvent(&e); err != nil {
					t.Fatalf("accepted an invalid event: %v", err)
				}
				if err := checkStrings(&e); err != nil {
					t.Fatalf("accepted an event with control characters: %v", err)
				}
				if !validUTF8(&e) {
					t.Fatalf("accepted an attribute that is not UTF-8: %+v", e)
				}
				if e.Time.Second() == 60 {
					t.Fatalf("kept a leap second: %v", e.Time)
				}
			}
			if mt := req.Header.Get("Content-Type"); mt == mediaStructured || mt == mediaBatch {
				if mt == mediaStructured {
					if _, err := pipeline.UnmarshalCloudEventJSON(body); err != nil {
						t.Fatalf("accepted a structured body the codec refuses: %v", err)
					}
				}
				if !utf8.Valid(body) {
					t.Fatalf("accepted JSON that is not UTF-8: %q", body)
				}
				if err := strictjson.Check(bytes.TrimSpace(body)); err != nil {
					t.Fatalf("accepted JSON strictjson refuses: %v", err)
				}
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusMethodNotAllowed,
			http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			if host.Calls() != 0 || len(events) != 0 {
				t.Fatalf("answer %d after %d emits", rec.Code, host.Calls())
			}
			if answer.Error == "" {
				t.Fatalf("answer %d without a reason", rec.Code)
			}
		default:
			t.Fatalf("unexpected answer %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}

// validUTF8 reports whether every attribute of e is UTF-8.
func validUTF8(e *pipeline.Event) bool {
	for _, v := range []string{e.ID, e.Source, e.Type, e.Subject, e.DataContentType, e.DataSchema, e.TraceParent} {
		if !utf8.ValidString(v) {
			return false
		}
	}
	for k, v := range e.Extensions {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}
