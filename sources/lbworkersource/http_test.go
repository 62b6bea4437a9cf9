package lbworkersource_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/lbworkersource"
)

func httpConfig() *lbworkersource.Config {
	cfg := lbworkersource.NewFactory().DefaultConfig().(*lbworkersource.Config)
	cfg.Gearman.Servers = nil
	cfg.Gearman.Function = "lb-http"
	cfg.HTTP.Enabled = true
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.HTTP.Token = "t0ken"
	cfg.MaxRequestBytes = 1024
	cfg.Diagnostics.NetworkTarget = ""
	return cfg
}

// post sends body and returns the status and reply.
func post(t *testing.T, url, token, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	return resp.StatusCode, string(b)
}

func startHTTP(t *testing.T, host *pipelinetest.RecordingHost) string {
	t.Helper()
	r := startSource(t, httpConfig(), host)
	for r.src.Addr() == nil {
		runtimeGosched()
	}
	return "http://" + r.src.Addr().String() + "/lbaas"
}

func TestHTTPReplies(t *testing.T) {
	t.Parallel()
	host := pipelinetest.NewRecordingHost("lb")
	url := startHTTP(t, host)
	for _, tc := range []struct {
		name, token, body string
		status            int
		want              string
	}{
		{"pass", "t0ken", exampleUpdate, 200, examplePass},
		{"no token", "", `{"hpcs_action":"ENABLE"}`, 401, `{"hpcs_error":"unauthorized","hpcs_response":"FAIL"}`},
		{"wrong token", "t0ken2", `{"hpcs_action":"ENABLE"}`, 401, `{"hpcs_error":"unauthorized","hpcs_response":"FAIL"}`},
		{"badRequest", "t0ken", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http"}]}`, 400,
			`{"badRequest":{"code":"400","message":"Validation fault","details":"The object is not valid","validationErrors":{"message":"Missing 'nodes' element"}}}`},
		{"fail", "t0ken", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"ftp","nodes":[]}]}`, 422,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"ftp","nodes":[]}],"hpcs_error":"Unsupported protocol: ftp","hpcs_response":"FAIL"}`},
		{"malformed", "t0ken", `{`, 422, `{"hpcs_error":"malformed JSON: unexpected end of input","hpcs_response":"FAIL"}`},
		{"too large", "t0ken", `{"hpcs_action":"ENABLE","pad":"` + strings.Repeat("x", 2000) + `"}`, 413,
			`{"hpcs_error":"request of 2033 bytes exceeds max_request_bytes (1024)","hpcs_response":"FAIL"}`},
		{"archive token masked", "t0ken", `{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"SECRET","loadBalancers":[{"protocol":"http","id":"1"}]}`, 422,
			`{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"*****","loadBalancers":[{"protocol":"http","id":"1"}],"hpcs_error":"ARCHIVE is answered by a sink: configure reply_after with the sink that applies requests; the request is journaled","hpcs_response":"FAIL"}`},
	} {
		status, body := post(t, url, tc.token, "", tc.body)
		assert.Equal(t, tc.status, status, tc.name)
		assert.Equal(t, tc.want, body, tc.name)
	}
	events := host.Events()
	require.Len(t, events, 2, "the UPDATE and the ARCHIVE")
	for _, ev := range events {
		assert.NotContains(t, string(ev.Data), "SECRET")
		req, err := libra.ParseRequestEvent(ev.Data)
		require.NoError(t, err)
		assert.Equal(t, libra.TransportHTTP, req.Transport)
		assert.Equal(t, req.RequestID, ev.ID)
		assert.True(t, strings.HasPrefix(req.Client, "127.0.0.1:"), req.Client)
	}

	resp, err := http.Get(url) //nolint:noctx // a plain GET is the case under test
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestHTTPIdempotencyKeyAndRefusingJournal(t *testing.T) {
	t.Parallel()
	host := pipelinetest.NewRecordingHost("lb")
	url := startHTTP(t, host)
	host.SetError(fmt.Errorf("%w", pipeline.ErrJournalClosed))
	status, body := post(t, url, "t0ken", "k1", `{"hpcs_action":"DELETE"}`)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	exactJSON(t, `{"hpcs_action":"DELETE","hpcs_error":"request not journaled: journal closed","hpcs_response":"FAIL"}`, body)
	host.SetError(nil)
	for range 3 {
		status, body = post(t, url, "t0ken", "k1", `{"hpcs_action":"DELETE"}`)
		assert.Equal(t, http.StatusOK, status)
		exactJSON(t, `{"hpcs_action":"DELETE","hpcs_response":"PASS"}`, body)
	}
	events := host.Events()
	require.Len(t, events, 1)
	assert.Equal(t, "http/k1", events[0].ID)
}

func TestHTTPConcurrentRequests(t *testing.T) {
	t.Parallel()
	host := pipelinetest.NewRecordingHost("lb")
	url := startHTTP(t, host)
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := ""
			if i%2 == 0 {
				key = "same" // 100 concurrent requests with one key: one event
			}
			status, body := post(t, url, "t0ken", key, `{"hpcs_action":"ENABLE"}`)
			assert.Equal(t, http.StatusOK, status)
			exactJSON(t, `{"hpcs_action":"ENABLE","hpcs_response":"PASS"}`, body)
		})
	}
	wg.Wait()
	assert.Len(t, host.Events(), n/2+1)
}

// TestHTTPRefusesRebindingAndCrossSite: the Libra HTTP transport refuses
// a foreign Host (DNS rebinding) and another site's Origin with 403, and
// journals nothing (issue 13 item 2).
func TestHTTPRefusesRebindingAndCrossSite(t *testing.T) {
	t.Parallel()
	host := pipelinetest.NewRecordingHost("lb")
	url := startHTTP(t, host)
	for _, tc := range []struct {
		name, host, origin string
		want               string
	}{
		{"rebinding", "rebind.attacker.example", "", "allowed_hosts"},
		{"cross-site", "", "http://attacker.example", "Origin"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(exampleUpdate))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer t0ken")
		if tc.host != "" {
			req.Host = tc.host
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, tc.name)
		assert.Contains(t, string(b), tc.want, tc.name)
		assert.Contains(t, string(b), `"hpcs_response":"FAIL"`, tc.name)
	}
	assert.Empty(t, host.Events())
}
