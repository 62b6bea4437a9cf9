package httpsource_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/sources/httpsource"
)

// TestDNSRebindingRefused: a browser tricked by DNS rebinding sends the
// attacker's name as Host, and a page of another site sends its Origin;
// both are refused with 403 and a reason, and nothing is emitted (issue
// 13 item 2).
func TestDNSRebindingRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, withConfig(func(c *httpsource.Config) { c.AllowedHosts = []string{"ingest.example.com"} }))
	event := `{"specversion":"1.0","id":"1","source":"/x","type":"t"}`
	tests := []struct {
		name   string
		host   string
		header map[string]string
		want   int
		reason string
	}{
		{name: "rebinding host", host: "rebind.attacker.example", want: http.StatusForbidden, reason: "allowed_hosts"},
		{name: "cross-site origin", header: map[string]string{"Origin": "http://attacker.example"}, want: http.StatusForbidden, reason: "Origin"},
		{name: "sec-fetch-site", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: http.StatusForbidden, reason: "Sec-Fetch-Site"},
		{name: "allowed name", host: "ingest.example.com", want: http.StatusAccepted},
		{name: "loopback", want: http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, s.url, strings.NewReader(event))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/cloudevents+json")
			if tt.host != "" {
				req.Host = tt.host
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := s.client.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode, string(body))
			assert.Contains(t, string(body), tt.reason)
		})
	}
	assert.Len(t, s.host.Events(), 2, "only the accepted requests emitted")
}
