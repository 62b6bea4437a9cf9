package httpclient_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestReadSecretFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string // "" with noFile: the file does not exist
		noFile  bool
		want    pipeline.Secret
		wantErr string
	}{
		{name: "plain", content: "s3cret", want: "s3cret"},
		{name: "one newline dropped", content: "s3cret\n", want: "s3cret"},
		{name: "crlf dropped", content: "s3cret\r\n", want: "s3cret"},
		{name: "only one newline dropped", content: "s3cret\n\n", want: "s3cret\n"},
		{name: "inner space kept", content: " a b ", want: " a b "},
		{name: "empty", content: "", wantErr: "is empty"},
		{name: "newline only", content: "\n", wantErr: "is empty"},
		{name: "at the limit", content: strings.Repeat("x", httpclient.MaxSecretFile), want: pipeline.Secret(strings.Repeat("x", httpclient.MaxSecretFile))},
		{name: "too large", content: strings.Repeat("x", httpclient.MaxSecretFile+1), wantErr: "is larger than 65536 bytes"},
		{name: "missing", noFile: true, wantErr: "no such file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, "secret"+strings.Repeat("_", i))
			if !tt.noFile {
				require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			}
			got, err := httpclient.ReadSecretFile(path)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.NotContains(t, err.Error(), "xxxx", "errors never hold the content")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		user string
		pass pipeline.Secret
		want pipeline.Secret
	}{
		{"Aladdin", "open sesame", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}, // RFC 7617 §2
		{"", "", "Basic Og=="},
		{"u", "p:w", "Basic dTpwOnc="},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, httpclient.BasicAuth(tt.user, tt.pass))
	}
}
