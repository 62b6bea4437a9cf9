package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/pipeline"
)

// serve runs a server for cfg with h until the test ends.
func serve(t *testing.T, cfg httpserver.Config, h func(*httpserver.Server) http.Handler) (*httpserver.Server, string) {
	t.Helper()
	require.Empty(t, cfg.Validate())
	srv := httpserver.New(&cfg, "test server", slog.New(slog.DiscardHandler))
	ln, err := srv.Listen(t.Context())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, h(srv)) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	return srv, ln.Addr().String()
}

func testConfig() httpserver.Config {
	cfg := httpserver.Defaults("127.0.0.1:0")
	cfg.ShutdownTimeout = time.Second
	return cfg
}

// get sends one keep-alive request on conn and reads the status line.
func get(t *testing.T, conn net.Conn, r *bufio.Reader) string {
	t.Helper()
	_, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.Status
}

// TestConnectionLimit checks that connections beyond max_connections
// wait until one closes (issue 12, D4).
func TestConnectionLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxConnections = 2
	_, addr := serve(t, cfg, func(*httpserver.Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	})
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		assert.Equal(t, "204 No Content", get(t, c, bufio.NewReader(c)))
		conns = append(conns, c)
	}

	third, err := net.Dial("tcp", addr) // the backlog takes it
	require.NoError(t, err)
	t.Cleanup(func() { _ = third.Close() })
	_, err = io.WriteString(third, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	require.NoError(t, third.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	r := bufio.NewReader(third)
	_, err = r.Peek(1)
	var ne net.Error
	require.ErrorAs(t, err, &ne, "no answer beyond the limit")
	require.True(t, ne.Timeout())

	require.NoError(t, conns[0].Close())
	require.NoError(t, third.SetReadDeadline(time.Now().Add(5*time.Second)))
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err, "served once a connection closed")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	_ = resp.Body.Close()
}

// TestBody checks the per-request and in-flight limits of Body.
func TestBody(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxBodyBytes = 100
	cfg.MaxInflightBytes = 150
	hold := make(chan struct{})
	srv, addr := serve(t, cfg, func(srv *httpserver.Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := srv.Body(w, r)
			if err == nil {
				defer func() { _ = body.Close() }()
				_, err = io.ReadAll(body)
			}
			switch {
			case errors.Is(err, httpserver.ErrTooLarge):
				http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			case errors.Is(err, httpserver.ErrBusy):
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
			case err != nil:
				http.Error(w, err.Error(), http.StatusBadRequest)
			default:
				if r.URL.Path == "/hold" {
					<-hold
				}
				w.WriteHeader(http.StatusNoContent)
			}
		})
	})
	post := func(path, body string, chunked bool) (int, string) {
		var r io.Reader = strings.NewReader(body)
		if chunked {
			r = io.MultiReader(r)
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+path, r)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	code, msg := post("/", strings.Repeat("a", 101), false)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.Contains(t, msg, "the body is 101 bytes, the limit is 100")
	code, msg = post("/", strings.Repeat("a", 101), true)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.Contains(t, msg, "exceeds the limit of 100 bytes")
	code, _ = post("/", strings.Repeat("a", 100), false)
	assert.Equal(t, http.StatusNoContent, code)
	assert.Zero(t, srv.Budget().InUse())

	held := make(chan int, 1)
	go func() {
		c, _ := post("/hold", strings.Repeat("a", 100), false)
		held <- c
	}()
	require.Eventually(t, func() bool { return srv.Budget().InUse() == 100 }, 5*time.Second, time.Millisecond)
	code, _ = post("/", strings.Repeat("a", 60), false)
	assert.Equal(t, http.StatusServiceUnavailable, code, "announced length beyond the budget")
	code, _ = post("/", strings.Repeat("a", 60), true)
	assert.Equal(t, http.StatusServiceUnavailable, code, "read bytes beyond the budget")
	code, _ = post("/", strings.Repeat("a", 50), true)
	assert.Equal(t, http.StatusNoContent, code, "what fits passes")
	close(hold)
	assert.Equal(t, http.StatusNoContent, <-held)
	assert.Zero(t, srv.Budget().InUse())
	assert.Equal(t, int64(150), srv.Budget().Peak())
}

func TestBudget(t *testing.T) {
	t.Parallel()
	b := httpserver.NewBudget(10)
	assert.True(t, b.TryAcquire(6))
	assert.False(t, b.TryAcquire(5))
	assert.True(t, b.TryAcquire(4))
	assert.False(t, b.TryAcquire(1))
	b.Release(6)
	assert.Equal(t, int64(4), b.InUse())
	assert.Equal(t, int64(10), b.Peak())
	assert.Equal(t, int64(10), b.Limit())
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Token = "t0k"
	srv := httpserver.New(&cfg, "test", slog.New(slog.DiscardHandler))
	assert.True(t, srv.AuthRequired())
	tests := []struct {
		header []string
		want   error
	}{
		{[]string{"Bearer t0k"}, nil},
		{[]string{"bearer  t0k "}, nil},
		{nil, httpserver.ErrMissingToken},
		{[]string{"Bearer t0K"}, httpserver.ErrInvalidToken},
		{[]string{"Basic t0k"}, httpserver.ErrInvalidToken},
		{[]string{"Bearer t0k", "Bearer t0k"}, httpserver.ErrInvalidToken},
	}
	for _, tt := range tests {
		err := srv.Authorize(http.Header{"Authorization": tt.header})
		if tt.want == nil {
			require.NoError(t, err, "%v", tt.header)
			continue
		}
		require.ErrorIs(t, err, tt.want, "%v", tt.header)
	}
	assert.Equal(t, `Bearer realm="sluice"`, httpserver.Challenge(httpserver.ErrMissingToken))
	assert.Equal(t, `Bearer realm="sluice", error="invalid_token"`, httpserver.Challenge(httpserver.ErrInvalidToken))
	open := httpserver.New(&httpserver.Config{}, "test", slog.New(slog.DiscardHandler))
	require.NoError(t, open.Authorize(http.Header{}))
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cfg := httpserver.Defaults("127.0.0.1:8088")
	require.Empty(t, cfg.Validate())
	cfg.MaxInflightBytes = cfg.MaxBodyBytes - 1
	cfg.MaxConnections = 0
	var fields []string
	for _, err := range cfg.Validate() {
		var fe *pipeline.FieldError
		require.ErrorAs(t, err, &fe)
		fields = append(fields, fe.Field)
	}
	assert.Equal(t, []string{"max_inflight_bytes", "max_connections"}, fields)
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	for listen, want := range map[string]bool{
		"127.0.0.1:1": true, "[::1]:1": true, "localhost:1": true, ":1": false, "0.0.0.0:1": false, "bad": false,
	} {
		c := httpserver.Config{Listen: listen}
		assert.Equal(t, want, c.Loopback(), listen)
	}
}
