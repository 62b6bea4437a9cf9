package httpclient_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

func TestUserAgent(t *testing.T) {
	t.Parallel()
	ua := httpclient.UserAgent()
	assert.True(t, ua == "sluice" || strings.HasPrefix(ua, "sluice/"), ua)
}
