package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	j, err := journal.Open(t.TempDir(), journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close(context.Background()) })
	_, err = j.Append(context.Background(), pipeline.AppendBatch{Events: []pipeline.Event{
		{ID: "a", Source: "/t", Type: "t"}, {ID: "b", Source: "/t", Type: "t"}, {ID: "c", Source: "/t", Type: "t"},
	}})
	require.NoError(t, err)
	var ready atomic.Bool
	tel, err := newTelemetry(t.Context(), pipeline.NopSettings("admin").Logger, io.Discard)
	require.NoError(t, err)
	a := &admin{journal: j, ready: ready.Load, metrics: tel.metricsHandler(), log: pipeline.NopSettings("admin").Logger, pprof: true}
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, _ := get("/healthz")
	assert.Equal(t, http.StatusOK, code)
	code, body := get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	ready.Store(true)
	code, _ = get("/readyz")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get("/metrics")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get("/debug/pprof/")
	assert.Equal(t, http.StatusOK, code)

	code, body = get("/journal/stats")
	require.Equal(t, http.StatusOK, code)
	var st statsView
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	assert.Equal(t, uint64(3), st.Last)

	code, body = get("/journal/records?from=2&limit=1")
	require.Equal(t, http.StatusOK, code)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], `"id":"b"`)
	assert.Contains(t, lines[0], `"sequence":"2"`)
	assert.Contains(t, lines[0], `"chainhash":"`)

	code, body = get("/journal/verify")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"records":3`)
	assert.NotContains(t, body, "corrupt")

	code, body = get("/journal/records?from=x")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, "invalid number")
	code, _ = get("/nope")
	assert.Equal(t, http.StatusNotFound, code)

	a.pprof = false
	noPprof := httptest.NewServer(a.handler())
	t.Cleanup(noPprof.Close)
	resp, err := http.Get(noPprof.URL + "/debug/pprof/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "pprof is off unless admin.pprof")
}
