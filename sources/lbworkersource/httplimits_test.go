package lbworkersource_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// The HTTP transport runs on internal/httpserver: Host and Origin checks,
// bodies bounded one by one (max_request_bytes, also when chunked) and
// together (max_inflight_bytes).
func TestHTTPSharedServerPlumbing(t *testing.T) {
	t.Parallel()
	host := pipelinetest.NewRecordingHost("lb")
	cfg := httpConfig()
	cfg.MaxRequestBytes = 1024
	r := startSource(t, cfg, host)
	for r.src.Addr() == nil {
		runtimeGosched()
	}
	url := "http://" + r.src.Addr().String() + "/lbaas"
	do := func(req *http.Request) (int, string) {
		t.Helper()
		req.Header.Set("Authorization", "Bearer t0ken")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		reply  string
	}{
		{"rebinding host", func() *http.Request {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(`{"hpcs_action":"ENABLE"}`))
			req.Host = "attacker.example:8089"
			return req
		}, http.StatusForbidden, `"hpcs_response":"FAIL"`},
		{"cross-site origin", func() *http.Request {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(`{"hpcs_action":"ENABLE"}`))
			req.Header.Set("Origin", "https://evil.example")
			return req
		}, http.StatusForbidden, `"hpcs_response":"FAIL"`},
		{"chunked body over the limit", func() *http.Request {
			body := io.MultiReader(strings.NewReader(`{"hpcs_action":"ENABLE","pad":"`), strings.NewReader(strings.Repeat("x", 4000)), strings.NewReader(`"}`))
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, body)
			req.ContentLength = -1
			return req
		}, http.StatusRequestEntityTooLarge, `{"hpcs_error":"request exceeds max_request_bytes (1024)","hpcs_response":"FAIL"}`},
		{"same-origin request passes", func() *http.Request {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(`{"hpcs_action":"ENABLE"}`))
			return req
		}, http.StatusOK, `{"hpcs_action":"ENABLE","hpcs_response":"PASS"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, reply := do(tt.req())
			assert.Equal(t, tt.status, status, reply)
			assert.Contains(t, reply, tt.reply)
		})
	}
	assert.Len(t, host.Events(), 1, "only the request that passed is journaled")
}

// A body that does not fit max_inflight_bytes with the others in flight
// is 503 with Retry-After, before it is read.
func TestHTTPInflightBudget(t *testing.T) {
	t.Parallel()
	host := pipelinetest.NewRecordingHost("lb")
	release, blocked := make(chan struct{}), make(chan struct{}, 1)
	host.SetHook(func(ctx context.Context, _ []pipeline.Event) error {
		blocked <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	cfg := httpConfig()
	cfg.MaxRequestBytes = 1024
	cfg.HTTP.MaxInflightBytes = 1024
	r := startSource(t, cfg, host)
	for r.src.Addr() == nil {
		runtimeGosched()
	}
	url := "http://" + r.src.Addr().String() + "/lbaas"
	big := `{"hpcs_action":"ENABLE","pad":"` + strings.Repeat("x", 900) + `"}`
	first := make(chan int, 1)
	go func() { // holds 933 bytes of the budget while its append waits
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(big))
		if err != nil {
			first <- 0
			return
		}
		req.Header.Set("Authorization", "Bearer t0ken")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		_ = resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-blocked
	status, reply := post(t, url, "t0ken", "", big)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, reply, "max_inflight_bytes")
	close(release)
	assert.Equal(t, http.StatusOK, <-first)
}

func TestHTTPMaxBodyBytesIsMaxRequestBytes(t *testing.T) {
	t.Parallel()
	cfg := httpConfig()
	cfg.HTTP.MaxBodyBytes = 2048
	require.ErrorContains(t, cfg.Validate(), "http.max_body_bytes")
	cfg = httpConfig()
	cfg.HTTP.MaxConnections = 0
	require.ErrorContains(t, cfg.Validate(), "http.max_connections")
}
