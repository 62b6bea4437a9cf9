package httpsink

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"ff2090987c08916dfe9e2f6f3caa810a", `quote" back\slash <&> ☃ ` + "\x01\xff"} {
		for i, d := range pipelinetest.SampleDeliveries(1, 3) {
			d.Key = key
			got := appendEvent(nil, &d)
			var m map[string]any
			require.NoError(t, json.Unmarshal(got, &m), "event %d: %s", i, got)
			want, err := json.Marshal(key)
			require.NoError(t, err)
			raw := map[string]json.RawMessage{}
			require.NoError(t, json.Unmarshal(got, &raw))
			assert.JSONEq(t, string(want), string(raw[keyExtension]))
			assert.Equal(t, string(want), string(raw[keyExtension]), "escaped as encoding/json does")

			// Without the extension, the rest is the pipeline's encoding.
			delete(m, keyExtension)
			plain, err := json.Marshal(m)
			require.NoError(t, err)
			assert.JSONEq(t, string(pipeline.AppendCloudEventJSON(nil, &d.Event)), string(plain))
		}
	}
}

func TestAppendEventReplacesUpstreamKey(t *testing.T) {
	t.Parallel()
	d := pipelinetest.SampleDeliveries(1, 1)[0]
	d.Event.Extensions[keyExtension] = "upstream"
	var m map[string]any
	require.NoError(t, json.Unmarshal(appendEvent(nil, &d), &m))
	assert.Equal(t, d.Key, m[keyExtension])
	assert.Equal(t, "upstream", d.Event.Extensions[keyExtension], "the event is not modified")
}

func TestChunks(t *testing.T) {
	t.Parallel()
	enc := &encoded{off: []int{0, 10, 20, 30, 130, 140}, bad: make([]error, 5)}
	assert.Equal(t, [][]int{{0, 1}, {2, 3}, {4}}, enc.chunks(2, 1000))
	// [10,10] is 23 bytes; a third would make 34.
	assert.Equal(t, [][]int{{0, 1}, {2}, {3}, {4}}, enc.chunks(100, 33))
	enc.bad[1] = pipeline.Permanent(assert.AnError)
	assert.Equal(t, [][]int{{0, 2}, {3}, {4}}, enc.chunks(100, 33), "bad events are skipped")
	assert.Empty(t, (&encoded{off: []int{0}}).chunks(1, 1))
}

func TestBatchBody(t *testing.T) {
	t.Parallel()
	batch := pipelinetest.SampleDeliveries(1, 4)
	enc := encode(batch)
	var arr []json.RawMessage
	require.NoError(t, json.Unmarshal(enc.batchBody([]int{1, 3}), &arr))
	require.Len(t, arr, 2)
	assert.Equal(t, string(enc.event(1)), string(arr[0]))
	assert.Equal(t, string(enc.event(3)), string(arr[1]))
}

func TestBatchKey(t *testing.T) {
	t.Parallel()
	batch := pipelinetest.SampleDeliveries(1, 4)
	k := batchKey(batch, []int{0, 1})
	assert.Len(t, k, 32)
	assert.Equal(t, k, batchKey(batch, []int{0, 1}), "stable")
	assert.NotEqual(t, k, batchKey(batch, []int{1, 0}), "order matters")
	assert.NotEqual(t, k, batchKey(batch, []int{0, 1, 2}))
	ab := []pipeline.Delivery{{Key: "ab"}, {Key: "c"}}
	abc := []pipeline.Delivery{{Key: "a"}, {Key: "bc"}}
	assert.NotEqual(t, batchKey(ab, []int{0, 1}), batchKey(abc, []int{0, 1}), "keys are delimited")
}

func TestSFString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, `"abc123"`, sfString("abc123"))
	assert.Equal(t, `"a\"b\\c"`, sfString(`a"b\c`))
	hashed := sfString("naïve")
	assert.Regexp(t, `^"[0-9a-f]{32}"$`, hashed)
	assert.Equal(t, hashed, sfString("naïve"))
}

func TestSanitizeSnippet(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"  ok  ", "ok"},
		{"line 1\r\nline\t2\x00\x1b[31m", "line 1 line 2 [31m"},
		{"bad \xff utf8", "bad utf8"},
		{strings.Repeat("a", 512), strings.Repeat("a", 512)},
		{strings.Repeat("a", 513), strings.Repeat("a", 509) + "…"},
		{strings.Repeat("é", 300)[:513], strings.Repeat("é", 254) + "…"},
	}
	for _, tt := range tests {
		got := httpclient.Snippet([]byte(tt.in))
		assert.Equal(t, tt.want, got)
		assert.LessOrEqual(t, len(got), httpclient.MaxSnippet)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	assert.Equal(t, 30*time.Second, parseRetryAfter("30", now))
	assert.Equal(t, 30*time.Second, parseRetryAfter(" 30 ", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("-1", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("soon", now))
	assert.Equal(t, 90*time.Second, parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter(now.Add(-time.Hour).Format(http.TimeFormat), now))
}

func TestBisectable(t *testing.T) {
	t.Parallel()
	for _, st := range []int{400, 409, 413, 422, 418} {
		assert.True(t, httpclient.Bisectable(st), "%d", st)
	}
	for _, st := range []int{301, 302, 307, 401, 403, 404, 405, 407, 410, 415} {
		assert.False(t, httpclient.Bisectable(st), "%d", st)
	}
}
