package httpclient_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

func TestCheckCredentialTransport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url   string
		allow bool
		ok    bool
	}{
		{"https://collector.example/x", false, true},
		{"http://127.0.0.1:8080/x", false, true},
		{"http://127.8.9.1/x", false, true},
		{"http://[::1]:80/x", false, true},
		{"http://localhost/x", false, true},
		{"http://LOCALHOST./x", false, true},
		{"http://api.localhost/x", false, true},
		{"http://collector.example/x", false, false},
		{"http://user:pw@10.0.0.1/x", false, false},
		{"http://localhost.example/x", false, false},
		{"http://127.0.0.1.nip.io/x", false, false},
		{"http://collector.example/x", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.url)
			require.NoError(t, err)
			err = httpclient.CheckCredentialTransport(u, tt.allow)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, httpclient.ErrCleartextCredentials)
			require.NotContains(t, err.Error(), "pw", "the error must not carry the password")
		})
	}
}
