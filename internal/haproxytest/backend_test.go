package haproxytest_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/haproxytest"
)

func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url) //nolint:noctx // bounded by the client timeout
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestHTTPBackend(t *testing.T) {
	t.Parallel()
	b := haproxytest.StartHTTPBackend(t, "n1")
	base := "http://127.0.0.1:" + strconv.Itoa(b.Port)
	status, body := getStatus(t, base+"/any")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "n1", body)
	status, _ = getStatus(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, status)
	b.Healthy.Store(false)
	status, _ = getStatus(t, base+"/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, int64(1), b.Hits.Load(), "health checks are not hits")
	b.Close()
	_, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(b.Port), time.Second)
	assert.Error(t, err, "a closed backend refuses connections")
}

func TestTCPBackend(t *testing.T) {
	t.Parallel()
	port := haproxytest.TCPBackend(t, "t1")
	for range 2 {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		require.NoError(t, err)
		line, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, "t1\n", line)
		_ = c.Close()
	}
}
