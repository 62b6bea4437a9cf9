package httpclient_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// A TLS handshake that times out in the transport while the request's own
// context is still alive is a timeout: that is what a loaded machine does
// when the transport's timer runs before the context's.
func TestTimedOutCountsTheTransportsTimeouts(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() { // accepts and never answers the handshake
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	c := &http.Client{Transport: &http.Transport{TLSHandshakeTimeout: 50 * time.Millisecond}}
	rctx := context.Background() // the transport's timer is the only one
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "https://"+ln.Addr().String()+"/", nil)
	require.NoError(t, err)
	_, err = c.Do(req) //nolint:bodyclose // it fails
	require.ErrorContains(t, err, "TLS handshake timeout")
	assert.True(t, httpclient.TimedOut(rctx, err))

	ended, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		rctx context.Context
		err  error
		want bool
	}{
		{"the request's context ended", ended, errors.New("EOF"), true},
		{"a wrapped dial timeout", context.Background(), fmt.Errorf("post: %w", &net.OpError{Op: "dial", Err: timeoutError{}}), true},
		{"connection refused", context.Background(), &net.OpError{Op: "dial", Err: errors.New("connection refused")}, false},
		{"not a network error", context.Background(), errors.New("bad certificate"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, httpclient.TimedOut(tt.rctx, tt.err), tt.name)
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
