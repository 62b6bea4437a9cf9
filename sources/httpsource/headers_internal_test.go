package httpsource

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeHeaderValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "plain", want: "plain"},
		{in: "", want: ""},
		{in: "Euro%20%E2%82%AC%20%F0%9F%98%80", want: "Euro € 😀"},
		{in: "lower%e2%82%ac", want: "lower€"},
		{in: "unnecessary%41", want: "unnecessaryA"},
		{in: "100%25", want: "100%"},
		{in: `"quoted value"`, want: "quoted value"},
		{in: `"esc \"q\" \\ b"`, want: `esc "q" \ b`},
		{in: `"pct%20inside"`, want: "pct inside"},
		{in: `""`, want: ""},
		// Senders that do not percent-encode (the Go SDK) send % raw.
		{in: "%", want: "%"},
		{in: "100%", want: "100%"},
		{in: "a%4", want: "a%4"},
		{in: "a%4g%zz%%41", want: "a%4g%zz%A"},
		{in: "raw € utf-8", want: "raw € utf-8"},
		{in: "%C0%A0", wantErr: "not valid UTF-8"},
		{in: "%FF", wantErr: "not valid UTF-8"},
		{in: "%ED%A0%80", wantErr: "not valid UTF-8"}, // a surrogate
		{in: `"open`, wantErr: "unterminated"},
		{in: `"`, wantErr: "unterminated"},
		{in: `"a\"`, wantErr: "backslash"},
		{in: `"a"b"`, wantErr: "unescaped double quote"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := decodeHeaderValue(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// encodeHeaderValue is the sender's side of the binding: percent-encode
// space, double quote, percent and everything outside U+0021-U+007E.
func encodeHeaderValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || c == '"' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func FuzzHeaderValueRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", "Euro € 😀", `q"uote`, "100%", "tab\there"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Decoding anything never panics, and yields UTF-8 or an error.
		if got, err := decodeHeaderValue(s); err == nil && !utf8.ValidString(got) {
			t.Fatalf("decodeHeaderValue(%q) = %q, not UTF-8", s, got)
		}
		if !utf8.ValidString(s) {
			return
		}
		enc := encodeHeaderValue(s)
		got, err := decodeHeaderValue(enc)
		if err != nil || got != s {
			t.Fatalf("round trip of %q via %q = %q, %v", s, enc, got, err)
		}
	})
}
