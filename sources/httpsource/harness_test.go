package httpsource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/httpsource"
)

// server is a running source on 127.0.0.1 with a recording host.
type server struct {
	src    *httpsource.Source
	host   *pipelinetest.RecordingHost
	url    string // the events URL
	base   string // scheme://host:port
	client *http.Client
	// stop cancels Run and returns its result; it is idempotent.
	stop func() error
}

type serverOption func(*httpsource.Config, *pipeline.Settings)

func withConfig(fn func(*httpsource.Config)) serverOption {
	return func(c *httpsource.Config, _ *pipeline.Settings) { fn(c) }
}

func withSettings(fn func(*pipeline.Settings)) serverOption {
	return func(_ *httpsource.Config, s *pipeline.Settings) { fn(s) }
}

// startServer runs a source on an ephemeral loopback port until the test
// ends (or stop is called) and requires Run to return nil.
func startServer(t *testing.T, opts ...serverOption) *server {
	t.Helper()
	cfg := defaultConfig(t)
	cfg.Listen = "127.0.0.1:0"
	set := pipeline.NopSettings("web")
	for _, opt := range opts {
		opt(cfg, &set)
	}
	src, err := httpsource.NewFactory().NewSource(t.Context(), set, cfg)
	require.NoError(t, err)
	s, ok := src.(*httpsource.Source)
	require.True(t, ok, "the factory builds *httpsource.Source, got %T", src)

	host := pipelinetest.NewRecordingHost("web")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, host) }()
	addrCtx, addrCancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer addrCancel()
	addr, err := s.Addr(addrCtx)
	if err != nil {
		cancel()
		require.NoError(t, err, "run: %v", <-done)
	}

	transport := &http.Transport{}
	scheme := "http"
	if !cfg.TLS.IsZero() {
		scheme = "https"
	}
	srv := &server{
		src:    s,
		host:   host,
		base:   scheme + "://" + addr.String(),
		client: &http.Client{Transport: transport, Timeout: 20 * time.Second},
	}
	srv.url = srv.base + cfg.Path
	srv.stop = sync.OnceValue(func() error {
		cancel()
		var err error
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after cancel")
		}
		transport.CloseIdleConnections()
		return err
	})
	t.Cleanup(func() { require.NoError(t, srv.stop(), "Run must return nil after cancel") })
	return srv
}

// request describes one HTTP request to the source.
type request struct {
	method  string
	path    string // default: the events path
	headers map[string]string
	body    string
	// chunked hides the length, so the server learns the size by reading.
	chunked bool
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

// do sends r and requires a JSON answer.
func (s *server) do(t *testing.T, r request) reply {
	t.Helper()
	got, err := s.post(t.Context(), r)
	require.NoError(t, err)
	return got
}

// post sends r; it makes no assertions, so goroutines may call it.
func (s *server) post(ctx context.Context, r request) (reply, error) {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	url := s.url
	if r.path != "" {
		url = s.base + r.path
	}
	var body io.Reader = bytes.NewReader([]byte(r.body))
	if r.chunked {
		body = io.MultiReader(body) // no Len: sent chunked
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return reply{}, err
	}
	for k, v := range r.headers {
		// Raw keys: the test controls the exact header name case.
		req.Header[k] = append(req.Header[k], v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	out := reply{status: resp.StatusCode, header: resp.Header}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return out, fmt.Errorf("answer %d has Content-Type %q: %s", resp.StatusCode, ct, b)
	}
	if err := json.Unmarshal(b, &out.body); err != nil {
		return out, fmt.Errorf("answer %d: %w: %s", resp.StatusCode, err, b)
	}
	return out, nil
}

func structured(body string) request {
	return request{headers: map[string]string{"Content-Type": "application/cloudevents+json"}, body: body}
}

func batched(body string) request {
	return request{headers: map[string]string{"Content-Type": "application/cloudevents-batch+json"}, body: body}
}

// binary returns a binary-mode request with the required attributes set
// and extra headers added or (with value "") removed.
func binary(body string, headers map[string]string) request {
	h := map[string]string{
		"ce-specversion": "1.0",
		"ce-id":          "bin-1",
		"ce-source":      "/test/binary",
		"ce-type":        "acme.test.binary",
	}
	for k, v := range headers {
		if v == "" {
			delete(h, k)
			continue
		}
		h[k] = v
	}
	return request{headers: h, body: body}
}

const validEvent = `{"specversion":"1.0","id":"e1","source":"/test","type":"acme.test","subject":"web","datacontenttype":"application/json","data":{"up":true},"tenant":"acme"}`
