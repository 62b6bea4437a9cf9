package httpsource_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sources/httpsource"
)

// jsonMode configures the plain JSON format with optional templates.
func jsonMode(id, subject string) serverOption {
	return withConfig(func(c *httpsource.Config) {
		c.BodyFormat = httpsource.BodyFormat{Format: httpsource.FormatJSON, EventSource: "/apps/web", EventType: "com.example.log",
			EventID: id, EventSubject: subject}
		c.MaxBatchEvents = 3
	})
}

func plain(contentType, body string) request {
	r := request{body: body}
	if contentType != "" {
		r.headers = map[string]string{"Content-Type": contentType}
	}
	return r
}

// In format: json any JSON value, or each element of an array, becomes a
// CloudEvent with the configured source and type, the value as its data;
// the array is appended all or nothing, and a malformed body is a 400
// with the reason.
func TestJSONFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opt         serverOption
		req         request
		wantStatus  int
		wantError   string
		wantIndex   *int
		wantData    []string
		wantID      []string
		wantSubject []string
	}{
		{name: "object", opt: jsonMode("", ""), req: plain("application/json", `{"msg": "hello", "level": "info"}`),
			wantStatus: 202, wantData: []string{`{"msg": "hello", "level": "info"}`}, wantID: []string{"rec-1"}},
		{name: "any content type (curl's default)", opt: jsonMode("", ""), req: plain("application/x-www-form-urlencoded", `{"a":1}`),
			wantStatus: 202, wantData: []string{`{"a":1}`}},
		{name: "no content type", opt: jsonMode("", ""), req: plain("", " \"just a string\"\n"),
			wantStatus: 202, wantData: []string{`"just a string"`}},
		{name: "scalar", opt: jsonMode("", ""), req: plain("application/json", `42`), wantStatus: 202, wantData: []string{`42`}},
		{name: "array", opt: jsonMode("{{.id}}", "{{.host}}"), req: plain("application/json", `[{"id":"a","host":"web-1"}, {"id":7,"host":""}, {"id":12345678901234567890,"host":"db"}]`),
			wantStatus: 202, wantData: []string{`{"id":"a","host":"web-1"}`, `{"id":7,"host":""}`, `{"id":12345678901234567890,"host":"db"}`},
			wantID: []string{"a", "7", "12345678901234567890"}, wantSubject: []string{"web-1", "", "db"}},
		{name: "nested template", opt: jsonMode(`{{.req.id}}-{{index . "x-y"}}`, ""), req: plain("application/json", `{"req":{"id":"r1"},"x-y":"z"}`),
			wantStatus: 202, wantID: []string{"r1-z"}},
		{name: "empty array", opt: jsonMode("", ""), req: plain("application/json", `[]`), wantStatus: 202},

		{name: "syntax error", opt: jsonMode("", ""), req: plain("application/json", `{"a":1,}`),
			wantStatus: 400, wantError: "invalid JSON: invalid character '}' looking for beginning of object key string (byte 8)"},
		{name: "empty body", opt: jsonMode("", ""), req: plain("application/json", "  "), wantStatus: 400, wantError: "empty body"},
		{name: "two values", opt: jsonMode("", ""), req: plain("application/json", `{} {}`), wantStatus: 400, wantError: "invalid JSON"},
		{name: "duplicate member", opt: jsonMode("", ""), req: plain("application/json", `[{"a":1},{"b":{"c":1,"c":2}}]`),
			wantStatus: 400, wantError: `invalid JSON: duplicate member at $[1].b.c (byte 21)`},
		{name: "invalid UTF-8", opt: jsonMode("", ""), req: plain("application/json", "{\"a\":\"\xff\"}"),
			wantStatus: 400, wantError: "invalid JSON: invalid UTF-8 at $.a"},
		{name: "missing key for id", opt: jsonMode("{{.id}}", ""), req: plain("application/json", `[{"id":"a"},{"other":1}]`),
			wantStatus: 400, wantError: `element 1: event_id template:`, wantIndex: ptr(1)},
		{name: "empty id", opt: jsonMode("{{.id}}", ""), req: plain("application/json", `{"id":""}`),
			wantStatus: 400, wantError: "event_id template gives an empty id"},
		{name: "null id", opt: jsonMode("{{.id}}", ""), req: plain("application/json", `{"id":null}`),
			wantStatus: 400, wantError: "event_id template gives an empty id"},
		{name: "null subject", opt: jsonMode("", "{{.host}}"), req: plain("application/json", `{"host":null}`),
			wantStatus: 202, wantSubject: []string{""}},
		{name: "control character in subject", opt: jsonMode("", "{{.host}}"), req: plain("application/json", `{"host":"a\nforged"}`),
			wantStatus: 400, wantError: `attribute "subject" contains a control character`},
		{name: "too many elements", opt: jsonMode("", ""), req: plain("application/json", `[1,2,3,4]`),
			wantStatus: 413, wantError: "array has 4 elements, the limit is 3"},
		{name: "CloudEvents refused", opt: jsonMode("", ""), req: plain("application/cloudevents+json", validEvent),
			wantStatus: 415, wantError: "not CloudEvents"},
		{name: "binary mode refused", opt: jsonMode("", ""), req: request{headers: map[string]string{"Content-Type": "application/json", "ce-id": "1"}, body: `{}`},
			wantStatus: 415, wantError: "not CloudEvents"},
		{name: "cloudevents format unchanged", opt: withConfig(func(*httpsource.Config) {}), req: plain("application/json", `{"a":1}`),
			wantStatus: 415, wantError: "unsupported content type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tt.opt)
			got := srv.do(t, tt.req)
			require.Equal(t, tt.wantStatus, got.status, "body: %v", got.body)
			if tt.wantStatus != http.StatusAccepted {
				assert.Contains(t, got.body["error"], tt.wantError)
				assert.Empty(t, srv.host.Events(), "all or nothing")
				if tt.wantIndex != nil {
					assert.EqualValues(t, *tt.wantIndex, got.body["index"])
				}
				return
			}
			events := srv.host.Events()
			assert.EqualValues(t, len(events), got.body["accepted"])
			if tt.wantData != nil {
				require.Len(t, events, len(tt.wantData))
			}
			if len(events) > 0 {
				assert.Len(t, srv.host.Batches(), 1, "one request, one append")
			}
			for i, e := range events {
				assert.Equal(t, "/apps/web", e.Source)
				assert.Equal(t, "com.example.log", e.Type)
				assert.Equal(t, "application/json", e.DataContentType)
				if tt.wantData != nil {
					assert.JSONEq(t, tt.wantData[i], string(e.Data))
					assert.Equal(t, tt.wantData[i], string(e.Data), "the bytes as sent")
				}
				if tt.wantID != nil {
					assert.Equal(t, tt.wantID[i], e.ID)
				}
				if tt.wantSubject != nil {
					assert.Equal(t, tt.wantSubject[i], e.Subject)
				}
				_, err := pipeline.MarshalCloudEventJSON(&e)
				assert.NoError(t, err, "a valid CloudEvent")
			}
		})
	}
}
