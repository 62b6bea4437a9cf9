package httpclient_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

func TestSnippet(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"surrounding space", "  ok  ", "ok"},
		{"controls", "line 1\r\nline\t2\x00\x1b[31m", "line 1 line 2 [31m"},
		{"invalid utf8", "bad \xff utf8", "bad utf8"},
		{"unicode space", "a\u00a0\u2028b", "a b"},
		{"at the limit", strings.Repeat("a", 512), strings.Repeat("a", 512)},
		{"over the limit", strings.Repeat("a", 513), strings.Repeat("a", 509) + "…"},
		{"cut inside a character", strings.Repeat("é", 300)[:513], strings.Repeat("é", 254) + "…"},
		{"space before the cut", strings.Repeat("a", 508) + "     ", strings.Repeat("a", 508) + "…"},
		{"leading space counts", strings.Repeat(" ", 100) + strings.Repeat("a", 500), strings.Repeat("a", 409) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := httpclient.Snippet([]byte(tt.in))
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), httpclient.MaxSnippet)
		})
	}
}

func TestReadSnippet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"short", strings.NewReader("no\nway"), "no way"},
		{"long", strings.NewReader(strings.Repeat("x", 10000)), strings.Repeat("x", 509) + "…"},
		{"read error keeps what was read", io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(io.ErrUnexpectedEOF)), "partial"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, httpclient.ReadSnippet(tt.r), tt.name)
	}
}

// countingBody records what was read and whether it was closed.
type countingBody struct {
	r      io.Reader
	read   int
	closed bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { b.closed = true; return nil }

func TestReadAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		size     int
		keep     bool
		want     string
		wantRead int
	}{
		{"delivered, drained", 100, false, "", 100},
		{"failed, snippet", 100, true, strings.Repeat("b", 100), 100},
		{"drain is bounded", 1 << 20, false, "", httpclient.MaxDrain},
		{"snippet and bounded drain", 1 << 20, true, strings.Repeat("b", 509) + "…", httpclient.MaxSnippet + 1 + httpclient.MaxDrain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := &countingBody{r: strings.NewReader(strings.Repeat("b", tt.size))}
			got := httpclient.ReadAnswer(&http.Response{Body: body}, tt.keep)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantRead, body.read)
			require.True(t, body.closed)
		})
	}
}
