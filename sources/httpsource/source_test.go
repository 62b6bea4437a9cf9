package httpsource_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/httpsource"
)

func TestFactory(t *testing.T) {
	t.Parallel()
	f := httpsource.NewFactory()
	assert.Equal(t, httpsource.Type, f.Type())
	pipelinetest.TestSourceFactory(t, f)
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSource(t, func(t *testing.T) pipeline.Source {
		cfg := defaultConfig(t)
		cfg.Listen = "127.0.0.1:0"
		src, err := httpsource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("web"), cfg)
		require.NoError(t, err)
		return src
	})
}

func TestRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []serverOption
		hostErr error
		req     request
		// wantStatus is the answer; wantEmits the Emit calls made.
		wantStatus int
		wantEmits  int
		wantError  string // substring of the "error" field
		wantHeader map[string]string
		wantIndex  *int
		check      func(t *testing.T, events []pipeline.Event)
	}{
		{
			name: "structured", req: structured(validEvent), wantStatus: 202, wantEmits: 1,
			check: func(t *testing.T, evs []pipeline.Event) {
				require.Len(t, evs, 1)
				e := evs[0]
				assert.Equal(t, "e1", e.ID)
				assert.Equal(t, "/test", e.Source)
				assert.Equal(t, "acme.test", e.Type)
				assert.Equal(t, "web", e.Subject)
				assert.JSONEq(t, `{"up":true}`, string(e.Data))
				assert.Equal(t, map[string]string{"tenant": "acme"}, e.Extensions)
			},
		},
		{
			name: "structured with charset",
			req: request{
				headers: map[string]string{"Content-Type": "application/cloudevents+json; charset=UTF-8"},
				body:    validEvent,
			},
			wantStatus: 202, wantEmits: 1,
		},
		{
			name: "binary",
			req: binary(`{"up":false}`, map[string]string{
				"Content-Type": "application/json",
				"CE-SUBJECT":   "Euro%20%E2%82%AC%20%F0%9F%98%80",
				"Ce-Tenant":    "acme",
				"ce-time":      "2025-01-02T03:04:05Z",
				"ce-severity":  "warning",
			}),
			wantStatus: 202, wantEmits: 1,
			check: func(t *testing.T, evs []pipeline.Event) {
				require.Len(t, evs, 1)
				e := evs[0]
				assert.Equal(t, "bin-1", e.ID)
				assert.Equal(t, "Euro € 😀", e.Subject, "percent-decoded, header names case-insensitive")
				assert.Equal(t, "application/json", e.DataContentType)
				assert.Equal(t, `{"up":false}`, string(e.Data))
				assert.Equal(t, "acme", e.Extensions["tenant"])
				assert.Equal(t, pipeline.SeverityWarning, e.Severity)
				assert.True(t, e.Time.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)))
			},
		},
		{
			name:       "binary quoted-string value",
			req:        binary("", map[string]string{"ce-subject": `"hello \"world\""`}),
			wantStatus: 202, wantEmits: 1,
			check: func(t *testing.T, evs []pipeline.Event) {
				assert.Equal(t, `hello "world"`, evs[0].Subject)
				assert.Nil(t, evs[0].Data, "an empty body is no data")
			},
		},
		{
			name:       "batch",
			req:        batched(`[` + validEvent + `,{"specversion":"1.0","id":"e2","source":"/test","type":"acme.test","data_base64":"AAE="}]`),
			wantStatus: 202, wantEmits: 1,
			check: func(t *testing.T, evs []pipeline.Event) {
				require.Len(t, evs, 2)
				assert.Equal(t, "e1", evs[0].ID)
				assert.Equal(t, []byte{0, 1}, evs[1].Data)
			},
		},
		{name: "empty batch", req: batched(`[]`), wantStatus: 202, wantEmits: 0},
		{
			name: "bearer token", opts: []serverOption{withConfig(func(c *httpsource.Config) { c.Token = "t0k" })},
			req:        withHeader(structured(validEvent), "Authorization", "bearer t0k"),
			wantStatus: 202, wantEmits: 1,
		},

		// Malformed input: 400, nothing emitted.
		{name: "bad JSON", req: structured(`{"specversion":`), wantStatus: 400, wantError: "invalid cloudevent"},
		{name: "not an object", req: structured(`[1]`), wantStatus: 400, wantError: "invalid cloudevent"},
		{name: "missing id", req: structured(`{"specversion":"1.0","source":"/s","type":"t"}`), wantStatus: 400, wantError: "missing id"},
		{name: "wrong specversion", req: structured(`{"specversion":"0.3","id":"a","source":"/s","type":"t"}`), wantStatus: 400, wantError: `unsupported specversion "0.3"`},
		{name: "control character", req: structured(`{"specversion":"1.0","id":"a","source":"/s","type":"t","subject":"a\nb"}`), wantStatus: 400, wantError: "control character"},
		{name: "bad time", req: structured(`{"specversion":"1.0","id":"a","source":"/s","type":"t","time":"yesterday"}`), wantStatus: 400, wantError: "RFC 3339"},
		{
			name:       "batch with one bad event",
			req:        batched(`[` + validEvent + `,{"specversion":"1.0","source":"/s","type":"t"},` + validEvent + `]`),
			wantStatus: 400, wantError: "batch event 1: invalid cloudevent: missing id", wantIndex: ptr(1),
		},
		{name: "batch not an array", req: batched(validEvent), wantStatus: 400, wantError: "JSON array"},
		{name: "batch bad JSON", req: batched(`[{"a":`), wantStatus: 400, wantError: "batch:"},
		{name: "binary missing specversion", req: binary("", map[string]string{"ce-specversion": ""}), wantStatus: 400, wantError: "missing specversion"},
		{name: "binary missing source", req: binary("", map[string]string{"ce-source": ""}), wantStatus: 400, wantError: "missing source"},
		{name: "binary ce-datacontenttype", req: binary("", map[string]string{"ce-datacontenttype": "text/plain"}), wantStatus: 400, wantError: "must not be sent in binary mode"},
		{name: "binary invalid UTF-8", req: binary("", map[string]string{"ce-subject": "%FF"}), wantStatus: 400, wantError: "not valid UTF-8"},
		{name: "binary overlong UTF-8", req: binary("", map[string]string{"ce-subject": "%C0%A0"}), wantStatus: 400, wantError: "not valid UTF-8"},
		{name: "binary bad extension name", req: binary("", map[string]string{"ce-my-ext": "x"}), wantStatus: 400, wantError: "lower-case letters and digits"},
		{name: "binary bad content type", req: binary("x", map[string]string{"Content-Type": "text/"}), wantStatus: 400, wantError: "datacontenttype"},

		// Protocol errors.
		{
			name: "too large", opts: []serverOption{withConfig(func(c *httpsource.Config) { c.MaxBodyBytes = 64 })},
			req: structured(validEvent), wantStatus: 413, wantError: "limit is 64",
		},
		{
			name: "too large chunked", opts: []serverOption{withConfig(func(c *httpsource.Config) { c.MaxBodyBytes = 64 })},
			req: chunked(structured(validEvent)), wantStatus: 413, wantError: "exceeds the limit of 64 bytes",
		},
		{
			name: "batch too many events", opts: []serverOption{withConfig(func(c *httpsource.Config) { c.MaxBatchEvents = 2 })},
			req: batched(`[` + validEvent + `,` + validEvent + `,` + validEvent + `]`), wantStatus: 413, wantError: "batch has 3 events, the limit is 2",
		},
		{
			name: "missing token", opts: []serverOption{withConfig(func(c *httpsource.Config) { c.Token = "t0k" })},
			req: structured(validEvent), wantStatus: 401, wantError: "missing bearer token",
			wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="sluice"`},
		},
		{
			name: "wrong token", opts: []serverOption{withConfig(func(c *httpsource.Config) { c.Token = "t0k" })},
			req: withHeader(structured(validEvent), "Authorization", "Bearer t0K"), wantStatus: 401, wantError: "invalid bearer token",
			wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="sluice", error="invalid_token"`},
		},
		{
			name: "wrong scheme", opts: []serverOption{withConfig(func(c *httpsource.Config) { c.Token = "t0k" })},
			req: withHeader(structured(validEvent), "Authorization", "Basic t0k"), wantStatus: 401, wantError: "invalid bearer token",
		},
		{name: "GET", req: request{method: http.MethodGet}, wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "PUT", req: request{method: http.MethodPut, body: validEvent}, wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "wrong path", req: request{path: "/other", body: validEvent}, wantStatus: 404, wantError: "/events"},
		{name: "unsupported content type", req: request{headers: map[string]string{"Content-Type": "text/plain"}, body: "hi"}, wantStatus: 415, wantError: `unsupported content type "text/plain"`},
		{name: "no content type", req: request{body: validEvent}, wantStatus: 415, wantError: "missing Content-Type"},
		{name: "unsupported event format", req: request{headers: map[string]string{"Content-Type": "application/cloudevents+xml"}, body: "<e/>"}, wantStatus: 415, wantError: "unsupported event format"},
		{name: "unsupported charset", req: request{headers: map[string]string{"Content-Type": "application/cloudevents+json; charset=latin1"}, body: validEvent}, wantStatus: 415, wantError: "charset"},

		// Journal failures: 503/500 after one Emit, nothing recorded.
		{
			name: "journal full", hostErr: fmt.Errorf("append: %w", pipeline.ErrJournalFull), req: structured(validEvent),
			wantStatus: 503, wantEmits: 1, wantError: "journal full", wantHeader: map[string]string{"Retry-After": "30"},
		},
		{
			name: "journal full batch", hostErr: pipeline.ErrJournalFull, req: batched(`[` + validEvent + `,` + validEvent + `]`),
			wantStatus: 503, wantEmits: 1, wantError: "journal full",
		},
		{
			name: "journal unavailable", hostErr: fmt.Errorf("append: %w", pipeline.ErrJournalUnavailable), req: structured(validEvent),
			wantStatus: 503, wantEmits: 1, wantError: "journal unavailable", wantHeader: map[string]string{"Retry-After": "5"},
		},
		{
			name: "journal closed", hostErr: pipeline.ErrJournalClosed, req: structured(validEvent),
			wantStatus: 503, wantEmits: 1, wantError: "journal closed", wantHeader: map[string]string{"Retry-After": "5"},
		},
		{
			name: "journal error", hostErr: errors.New("disk on fire at /var/lib/sluice"), req: structured(validEvent),
			wantStatus: 500, wantEmits: 1, wantError: "internal error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tt.opts...)
			srv.host.SetError(tt.hostErr)
			got := srv.do(t, tt.req)

			require.Equal(t, tt.wantStatus, got.status, "body: %v", got.body)
			assert.Equal(t, tt.wantEmits, srv.host.Calls(), "Emit calls")
			for k, v := range tt.wantHeader {
				assert.Equal(t, v, got.header.Get(k), "header %s", k)
			}
			if tt.wantStatus == http.StatusAccepted {
				batches := srv.host.Batches()
				n := 0
				if len(batches) > 0 {
					n = len(batches[0])
				}
				assert.EqualValues(t, n, got.body["accepted"])
				if tt.check != nil {
					require.Len(t, batches, 1, "one request, one emit")
					tt.check(t, batches[0])
				}
				return
			}
			assert.Empty(t, srv.host.Events(), "nothing refused is recorded")
			msg, _ := got.body["error"].(string)
			assert.Contains(t, msg, tt.wantError)
			assert.NotContains(t, msg, "disk on fire", "internal errors stay in the log")
			if tt.wantIndex != nil {
				assert.EqualValues(t, *tt.wantIndex, got.body["index"])
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func withHeader(r request, k, v string) request {
	h := map[string]string{k: v}
	for hk, hv := range r.headers {
		h[hk] = hv
	}
	r.headers = h
	return r
}

func chunked(r request) request {
	r.chunked = true
	return r
}

func TestConcurrentPosts(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	const clients, posts = 8, 25
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for p := range posts {
				body := fmt.Sprintf(`[{"specversion":"1.0","id":"c%d-p%d-a","source":"/t","type":"t"},{"specversion":"1.0","id":"c%d-p%d-b","source":"/t","type":"t"}]`, c, p, c, p)
				got, err := srv.post(t.Context(), batched(body))
				if assert.NoError(t, err) {
					assert.Equal(t, http.StatusAccepted, got.status)
				}
			}
		})
	}
	wg.Wait()

	batches := srv.host.Batches()
	require.Len(t, batches, clients*posts, "one emit per request")
	seen := map[string]bool{}
	for _, b := range batches {
		require.Len(t, b, 2)
		assert.Equal(t, strings.TrimSuffix(b[0].ID, "-a"), strings.TrimSuffix(b[1].ID, "-b"), "a request's events stay together")
		assert.Equal(t, b[0].Sequence+1, b[1].Sequence)
		for _, e := range b {
			assert.False(t, seen[e.ID], "duplicate %s", e.ID)
			seen[e.ID] = true
		}
	}
}

// blockEmits makes the host hold every Emit until release is closed (or
// the emit's context ends), and reports each held Emit on entered.
func blockEmits(host *pipelinetest.RecordingHost) (entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 16), make(chan struct{})
	host.SetHook(func(ctx context.Context, _ []pipeline.Event) error {
		entered <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return entered, release
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	entered, release := blockEmits(srv.host)

	type result struct {
		reply
		err error
	}
	answer := make(chan result, 1)
	go func() {
		got, err := srv.post(context.Background(), structured(validEvent))
		answer <- result{got, err}
	}()
	<-entered

	stopped := make(chan error, 1)
	go func() { stopped <- srv.stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("Run returned with a request in flight: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// The listener is closed: new connections are refused.
	_, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.base, "http://"), time.Second)
	require.Error(t, err, "no new connections during shutdown")

	close(release)
	got := <-answer
	require.NoError(t, got.err)
	assert.Equal(t, http.StatusAccepted, got.status, "the in-flight request completes")
	require.NoError(t, <-stopped)
	assert.Len(t, srv.host.Events(), 1)
}

func TestShutdownTimeoutAbandonsInFlight(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withConfig(func(c *httpsource.Config) { c.ShutdownTimeout = 100 * time.Millisecond }))
	entered, _ := blockEmits(srv.host)

	type result struct {
		status int
		err    error
	}
	answer := make(chan result, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.url, strings.NewReader(validEvent))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		resp, err := srv.client.Do(req)
		if err != nil {
			answer <- result{err: err}
			return
		}
		resp.Body.Close()
		answer <- result{status: resp.StatusCode}
	}()
	<-entered

	start := time.Now()
	require.NoError(t, srv.stop())
	assert.Less(t, time.Since(start), 5*time.Second, "shutdown is bounded")
	got := <-answer
	if got.err == nil {
		assert.Equal(t, http.StatusServiceUnavailable, got.status, "an abandoned request is never acknowledged")
	}
	assert.Empty(t, srv.host.Events())
}

func TestBindError(t *testing.T) {
	t.Parallel()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	cfg := defaultConfig(t)
	cfg.Listen = ln.Addr().String()
	src, err := httpsource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("web"), cfg)
	require.NoError(t, err)
	err = src.Run(t.Context(), pipelinetest.NewRecordingHost("web"))
	require.ErrorContains(t, err, "address already in use")

	_, err = src.(*httpsource.Source).Addr(t.Context())
	require.ErrorIs(t, err, httpsource.ErrNotListening)
}

func TestRunTwice(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	err := srv.src.Run(t.Context(), srv.host)
	require.ErrorContains(t, err, "already running")
}
