package httpclient_test

import (
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

func TestUnwrapURLError(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection refused")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"url.Error", &url.Error{Op: "Post", URL: "https://u:p@x/?token=secret", Err: cause}, cause},
		{"wrapped url.Error", fmt.Errorf("send: %w", &url.Error{Op: "Post", URL: "https://x", Err: cause}), cause},
		{"other", cause, cause},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, httpclient.UnwrapURLError(tt.err), tt.name)
	}
}
