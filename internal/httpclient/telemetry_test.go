package httpclient_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

func TestStatusClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   string
	}{
		{0, "error"}, {-1, "error"}, {99, "error"}, {100, "1xx"}, {200, "2xx"}, {302, "3xx"},
		{404, "4xx"}, {503, "5xx"}, {600, "6xx"}, {999, "9xx"}, {1000, "error"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, httpclient.StatusClass(tt.status), "%d", tt.status)
	}
}
