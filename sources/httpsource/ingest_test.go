package httpsource_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIngestEncoding checks that what encoding/json would accept
// silently is refused with a 400 naming the attribute (issue 12, D8), and
// that every RFC 3339 time is accepted.
func TestIngestEncoding(t *testing.T) {
	t.Parallel()
	const head = `{"specversion":"1.0","source":"/s","type":"t",`
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantError  string
		wantIndex  *int
		wantTime   time.Time
	}{
		{
			name: "invalid UTF-8 in data", req: structured(head + "\"id\":\"a\",\"data\":\"\xc3\x28\"}"),
			wantStatus: 400, wantError: `attribute "data": invalid UTF-8`,
		},
		{
			name: "invalid UTF-8 deep in data", req: structured(head + "\"id\":\"a\",\"data\":{\"k\":[\"\xff\"]}}"),
			wantStatus: 400, wantError: `attribute "data": invalid UTF-8 at data.k[0]`,
		},
		{
			name: "invalid UTF-8 in id", req: structured(head + "\"id\":\"a\xff\"}"),
			wantStatus: 400, wantError: `attribute "id": invalid UTF-8`,
		},
		{
			name: "lone surrogate in id", req: structured(head + `"id":"a\ud800"}`),
			wantStatus: 400, wantError: `attribute "id": \u escape of a lone surrogate`,
		},
		{
			name: "duplicate id", req: structured(head + `"id":"a","id":"b"}`),
			wantStatus: 400, wantError: `attribute "id": duplicate member "id"`,
		},
		{
			name: "duplicate in data", req: structured(head + `"id":"a","data":{"x":1,"x":2}}`),
			wantStatus: 400, wantError: `attribute "data": duplicate member "x" in data`,
		},
		{
			name: "batch event with invalid UTF-8", req: batched("[" + validEvent + "," + head + "\"id\":\"\xc3\x28\"}]"),
			wantStatus: 400, wantError: `batch event 1: invalid cloudevent: attribute "id": invalid UTF-8`, wantIndex: ptr(1),
		},
		{
			name: "batch event with a duplicate", req: batched("[" + head + `"id":"a","type":"u"}]`),
			wantStatus: 400, wantError: `batch event 0: invalid cloudevent: attribute "type": duplicate member "type"`, wantIndex: ptr(0),
		},
		{
			name: "escaped UTF-8 is fine", req: structured(head + `"id":"\u00e9\ud83d\ude00","data":"é"}`),
			wantStatus: 202,
		},
		{
			name: "lowercase t and z", req: structured(head + `"id":"a","time":"2024-05-01t10:00:00.5z"}`),
			wantStatus: 202, wantTime: time.Date(2024, 5, 1, 10, 0, 0, 5e8, time.UTC),
		},
		{
			name: "leap second", req: structured(head + `"id":"a","time":"2016-12-31T23:59:60Z"}`),
			wantStatus: 202, wantTime: time.Date(2016, 12, 31, 23, 59, 59, 999999999, time.UTC),
		},
		{
			name: "leap second in binary mode", req: binary("", map[string]string{"ce-time": "2017-01-01t00:59:60+01:00"}),
			wantStatus: 202, wantTime: time.Date(2016, 12, 31, 23, 59, 59, 999999999, time.UTC),
		},
		{
			name: "not a leap second", req: structured(head + `"id":"a","time":"2016-12-30T23:59:60Z"}`),
			wantStatus: 400, wantError: "RFC 3339",
		},
		{
			name: "batch with data after the array", req: batched("[" + validEvent + "] []"),
			wantStatus: 400, wantError: "data after the array",
		},
	}
	srv := startServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.host.Events())
			got := srv.do(t, tt.req)
			require.Equal(t, tt.wantStatus, got.status, "body: %v", got.body)
			events := srv.host.Events()
			if tt.wantStatus != 202 {
				assert.Len(t, events, before, "nothing refused is recorded")
				msg, _ := got.body["error"].(string)
				assert.Contains(t, msg, tt.wantError)
				if tt.wantIndex != nil {
					assert.EqualValues(t, *tt.wantIndex, got.body["index"])
				}
				return
			}
			require.Len(t, events, before+1)
			if !tt.wantTime.IsZero() {
				got := events[len(events)-1].Time
				assert.True(t, tt.wantTime.Equal(got), "time %s, want %s", got, tt.wantTime)
			}
		})
	}
}
