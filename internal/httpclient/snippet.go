package httpclient

import (
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxSnippet bounds, in bytes, the part of a failed answer's body kept
	// for an error message, and the length of what Snippet returns.
	MaxSnippet = 512
	// MaxDrain bounds how much of an answer Drain reads so that the
	// connection can be reused; a longer answer closes the connection.
	MaxDrain = 64 << 10
)

// Snippet makes up to MaxSnippet bytes of b printable on one line:
// invalid UTF-8 and control characters become spaces, runs of space
// collapse, leading and trailing space is dropped, and a longer b is cut
// to at most MaxSnippet bytes ending in "…" (never inside a character).
func Snippet(b []byte) string {
	cut := len(b) > MaxSnippet
	if cut {
		b = b[:MaxSnippet-len("…")]
	}
	var out strings.Builder
	out.Grow(len(b))
	space := false
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 && !utf8.FullRune(b) {
			break // a character cut by the limit
		}
		b = b[size:]
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && out.Len() > 0 {
			out.WriteByte(' ')
		}
		space = false
		out.WriteRune(r)
	}
	if cut {
		out.WriteString("…")
	}
	return out.String()
}

// ReadSnippet reads up to MaxSnippet+1 bytes of r (one more than kept, so
// that Snippet knows to cut) and returns them through Snippet. Read
// errors are ignored: what was read before one is used.
func ReadSnippet(r io.Reader) string {
	var buf [MaxSnippet + 1]byte
	n, _ := io.ReadFull(r, buf[:])
	return Snippet(buf[:n])
}

// Drain reads and discards at most MaxDrain bytes of r, so that the
// connection of a fully read answer can be reused. Errors are ignored.
func Drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, MaxDrain))
}

// ReadAnswer consumes resp's body: it returns ReadSnippet of it when keep
// is set (and "" otherwise), drains it and closes it. Read errors are
// ignored, since the status decides a request's outcome.
func ReadAnswer(resp *http.Response, keep bool) string {
	defer resp.Body.Close()
	var snippet string
	if keep {
		snippet = ReadSnippet(resp.Body)
	}
	Drain(resp.Body)
	return snippet
}
