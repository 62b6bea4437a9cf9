package httpclient_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://h.example/healthz", "https://h.example/healthz"},
		{"https://h.example/h?api_key=s3cr3t", "https://h.example/h?api_key=REDACTED"},
		{"https://h.example/h?a=1&token=s3cr3t&flag", "https://h.example/h?a=REDACTED&token=REDACTED&REDACTED"},
		{"https://h.example/h?api_key=", "https://h.example/h?api_key=REDACTED"},
		{"http://user:pw0rd@h.example:8080/h?k=v#frag-s3cr3t", "http://user:xxxxx@h.example:8080/h?k=REDACTED"},
		{"http://user@h.example/", "http://user@h.example/"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.in)
			require.NoError(t, err)
			got := httpclient.RedactURL(u)
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, got, "s3cr3t")
			assert.NotContains(t, got, "pw0rd")
		})
	}
	assert.Empty(t, httpclient.RedactURL(nil))
}
