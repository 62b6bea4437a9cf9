package httpsource

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// gateHost blocks every Emit until release is closed, counting the
// requests that reached it.
type gateHost struct {
	release chan struct{}
	waiting atomic.Int32
}

func (h *gateHost) Emit(ctx context.Context, events []pipeline.Event, _ ...pipeline.StateUpdate) (pipeline.AppendResult, error) {
	h.waiting.Add(1)
	select {
	case <-h.release:
	case <-ctx.Done():
		return pipeline.AppendResult{}, ctx.Err()
	}
	return pipeline.AppendResult{First: 1, Last: uint64(len(events))}, nil
}

func (*gateHost) State(context.Context) (map[string][]byte, error) { return nil, nil }

// runLimited runs a source with cfg changed by mod and returns it with
// its events URL; the source stops when the test ends.
func runLimited(t *testing.T, host pipeline.SourceHost, mod func(*Config)) (*Source, string) {
	t.Helper()
	cfg := defaultConfig()
	cfg.Listen = "127.0.0.1:0"
	mod(cfg)
	require.NoError(t, cfg.Validate())
	src, err := newSource(pipeline.NopSettings("limits"), cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, host) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	addr, err := src.Addr(t.Context())
	require.NoError(t, err)
	return src, "http://" + addr.String() + cfg.Path
}

// bigBatch returns a batch of n events whose data pad it to about size
// bytes.
func bigBatch(n, size int) string {
	pad := strings.Repeat("x", size/n)
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"specversion":"1.0","id":"e%d","source":"/s","type":"t","data":{"pad":%q}}`, i, pad)
	}
	b.WriteByte(']')
	return b.String()
}

type outcome struct {
	status     int
	retryAfter string
}

// postAll posts body n times concurrently and returns each answer; when
// answered is not nil it counts the answers as they come.
func postAll(t *testing.T, url, body string, n int, chunked bool, answered *atomic.Int64) []outcome {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0}, Timeout: 20 * time.Second}
	out := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var r io.Reader = strings.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // no length: sent chunked
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, r)
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", mediaBatch)
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			out[i] = outcome{resp.StatusCode, resp.Header.Get("Retry-After")}
			if answered != nil {
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	return out
}

// TestInflightBudget sends many concurrent large requests while the
// journal holds them: the bytes held never exceed max_inflight_bytes,
// the requests beyond it get 503 with Retry-After at once, and those
// within it are accepted (issue 12, D4).
func TestInflightBudget(t *testing.T) {
	t.Parallel()
	const (
		size     = 200 << 10
		limit    = 1 << 20
		requests = 40
	)
	body := bigBatch(50, size)
	host := &gateHost{release: make(chan struct{})}
	src, url := runLimited(t, host, func(c *Config) {
		c.MaxBodyBytes = 256 << 10
		c.MaxInflightBytes = limit
	})
	budget := src.srv.Budget()

	results := make(chan []outcome, 1)
	var answered atomic.Int64
	go func() { results <- postAll(t, url, body, requests, false, &answered) }()
	fits := limit / len(body)
	// Every request is either held by the journal or refused before the
	// journal lets go: a request a loaded machine sends late would
	// otherwise find the budget free again.
	require.Eventually(t, func() bool {
		return int(host.waiting.Load()) == fits && int(answered.Load()) == requests-fits
	}, 20*time.Second, time.Millisecond, "the requests that fit the budget reach the journal, the others are refused")
	assert.LessOrEqual(t, budget.InUse(), int64(limit))
	close(host.release)

	var accepted, busy int
	for _, o := range <-results {
		switch o.status {
		case http.StatusAccepted:
			accepted++
		case http.StatusServiceUnavailable:
			busy++
			assert.Equal(t, "1", o.retryAfter)
		default:
			t.Errorf("unexpected status %d", o.status)
		}
	}
	assert.Equal(t, fits, accepted)
	assert.Equal(t, requests-fits, busy)
	assert.LessOrEqual(t, budget.Peak(), int64(limit), "the budget is never exceeded")
	assert.Zero(t, budget.InUse(), "every request returned its bytes")
}

// TestInflightBudgetChunked is TestInflightBudget with bodies of unknown
// length, whose bytes are counted as they are read.
func TestInflightBudgetChunked(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	body := bigBatch(50, 200<<10)
	host := &gateHost{release: make(chan struct{})}
	close(host.release)
	src, url := runLimited(t, host, func(c *Config) {
		c.MaxBodyBytes = 256 << 10
		c.MaxInflightBytes = limit
	})
	var accepted int
	for _, o := range postAll(t, url, body, 40, true, nil) {
		switch o.status {
		case http.StatusAccepted:
			accepted++
		case http.StatusServiceUnavailable:
			assert.Equal(t, "1", o.retryAfter)
		default:
			t.Errorf("unexpected status %d", o.status)
		}
	}
	assert.Positive(t, accepted)
	assert.LessOrEqual(t, src.srv.Budget().Peak(), int64(limit), "the budget is never exceeded")
	assert.Zero(t, src.srv.Budget().InUse())
}
