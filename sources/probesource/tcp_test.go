package probesource_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestTCPChecks checks tcp probes against real loopback peers: a closed
// port, a port that accepts, a greeting, a request and its reply, a peer
// that hangs, one that closes early and one that floods.
func TestTCPChecks(t *testing.T) {
	t.Parallel()
	accept := tcpServer(t, func(net.Conn) {})
	greet := tcpServer(t, func(c net.Conn) { _, _ = io.WriteString(c, "220 smtp.test ESMTP ready\r\n") })
	echo := tcpServer(t, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		_, _ = io.WriteString(c, "+"+strings.ToUpper(line))
	})
	hang := tcpServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	flood := tcpServer(t, func(c net.Conn) {
		chunk := bytes.Repeat([]byte("z"), 64<<10)
		for range 160 { // 10 MiB
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	tests := []struct {
		name    string
		cfg     string
		healthy bool
		err     string
		output  string
	}{
		{name: "closed port", cfg: "address: " + closedAddr(t), err: "connection refused"},
		{name: "accepts", cfg: "address: " + accept, healthy: true},
		{name: "greeting", cfg: "{address: " + greet + ", expect: '220 '}", healthy: true, output: "220 smtp.test ESMTP ready\r\n"},
		{name: "request and reply", cfg: "{address: " + echo + `, send: "ping\n", expect: "+PING"}`, healthy: true, output: "+PING\n"},
		{name: "closed before the reply", cfg: "{address: " + greet + ", expect: '+OK'}", err: `connection closed before "+OK" was received`, output: "220 smtp.test ESMTP ready\r\n"},
		{name: "hangs", cfg: "{address: " + hang + ", send: hello, expect: '+OK', timeout: 100ms}", err: `waiting for "+OK": timed out after 100ms`},
		{name: "floods", cfg: "{address: " + flood + ", expect: '+OK', max_response_bytes: 1KiB}", err: `"+OK" not found in the first 1024 bytes`, output: strings.Repeat("z", 1024)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			if !strings.HasPrefix(cfg, "{") {
				cfg = "{" + cfg + "}"
			}
			if !strings.Contains(cfg, "timeout:") {
				cfg = strings.Replace(cfg, "{", "{timeout: 5s, ", 1)
			}
			cfg = strings.Replace(cfg, "{", "{kind: tcp, interval: 50ms, failure_threshold: 1, ", 1)
			start := time.Now()
			d := firstState(t, cfg)
			assert.Equal(t, tt.healthy, d.Healthy, d.Error)
			assert.Equal(t, tt.output, d.Output)
			if !tt.healthy {
				assert.Contains(t, d.Error, tt.err)
			}
			assert.Less(t, time.Since(start), waitTimeout/2)
		})
	}
}
