package httpclient_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// TestRedactorRemovesOwnSecrets checks issue 13 item 6: a peer's answer
// echoing the client's Authorization header (or its base64 parts, or a
// header value) keeps none of them.
func TestRedactorRemovesOwnSecrets(t *testing.T) {
	t.Parallel()
	basic := httpclient.BasicAuth("alice", "hunter2-pw")
	r := httpclient.NewRedactor(basic, "Bearer tok-3141592", "x-api-k3y-value", "")
	b64 := strings.TrimPrefix(basic.Reveal(), "Basic ")
	answer := `{"echo":{"Authorization":"` + basic.Reveal() + `","X-Api-Key":"x-api-k3y-value","token":"tok-3141592",` +
		`"b64":"` + base64.StdEncoding.EncodeToString([]byte("x-api-k3y-value")) + `","pw":"hunter2-pw","raw":"` + b64 + `"}}`
	got := r.RedactString(answer)
	for _, s := range []string{"hunter2-pw", "tok-3141592", "x-api-k3y-value", b64, "alice:hunter2-pw"} {
		assert.NotContains(t, got, s)
	}
	assert.Contains(t, got, "[REDACTED]")
	assert.Contains(t, got, `"echo"`)

	long := strings.Repeat("x", httpclient.MaxSnippet-5) + "tok-3141592 tail"
	resp := &http.Response{Body: io.NopCloser(strings.NewReader(long))}
	s := r.ReadAnswer(resp, true)
	assert.NotContains(t, s, "tok-")
	assert.NotContains(t, s, "3141592", "a secret cut by the snippet's end is removed whole first")

	var none *httpclient.Redactor
	assert.Equal(t, "a", none.RedactString("a"))
}
