package hostpluginsink_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/sinks/hostpluginsink"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestAppendPyString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"empty", "", -1, `""`},
		{"ascii", "hello world", -1, `"hello world"`},
		{"html is not escaped", "<a href='x'>&amp;</a>", -1, `"<a href='x'>&amp;</a>"`},
		{"quote and backslash", `say "hi" \o/`, -1, `"say \"hi\" \\o/"`},
		{"short escapes", "\n\r\t\b\f", -1, `"\n\r\t\b\f"`},
		{"other controls", "\x00\x01\x1f\x7f", -1, `"\u0000\u0001\u001f\u007f"`},
		{"latin-1", "é\u00a0\u0085", -1, `"\u00e9\u00a0\u0085"`},
		{"bmp lower-case hex", "日本\u2028\uFFFD", -1, `"\u65e5\u672c\u2028\ufffd"`},
		{"astral as surrogates", "😀𝄞\U0010FFFF", -1, `"\ud83d\ude00\ud834\udd1e\udbff\udfff"`},
		{"invalid utf-8 per byte", "a\xff\xfeb", -1, `"a\ufffd\ufffdb"`},
		{"cut ascii", "abcdef", 3, `"abc"`},
		{"cut counts code points", "é😀abc", 2, `"\u00e9\ud83d\ude00"`},
		{"cut before escaping", `""""`, 2, `"\"\""`},
		{"cut inside an ascii run", "ab\ncd", 4, `"ab\nc"`},
		{"limit zero", "abc", 0, `""`},
		{"limit longer than string", "abc", 10, `"abc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, string(hostpluginsink.AppendPyString(nil, tt.in, tt.limit)))
		})
	}
}

// TestAppendBodyGolden pins the body layout; the byte comparison with
// WALinuxAgent itself is TestBodyIdenticalToWALinuxAgent.
func TestAppendBodyGolden(t *testing.T) {
	t.Parallel()
	var out []byte
	for _, obs := range [][]hostpluginsink.Observation{
		{{Name: hostpluginsink.NameHeartbeat, IsHealthy: true}},
		{{Name: hostpluginsink.NameVersions, Value: "[HTTP Failed] [500: Internal Server Error] b''"}},
		{{Name: "a", IsHealthy: true, Description: "ä", Value: "😀"}, {Name: "b", Description: strings.Repeat("x", 200)}},
		nil,
	} {
		out = hostpluginsink.AppendBody(out, "Sluice", obs...)
		out = append(out, '\n')
	}
	golden := filepath.Join("testdata", "body.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, out, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(out))
}

var upperHexEscape = regexp.MustCompile(`\\u[0-9a-f]{0,3}[A-F]`)

// FuzzAppendPyString checks the encoder against encoding/json: the
// output is printable ASCII, escapes use lower-case hex, and it decodes
// to the first limit code points of the input (each invalid byte as
// U+FFFD).
func FuzzAppendPyString(f *testing.F) {
	for _, s := range []string{"", "plain", "é😀\x00\x7f\"\\", "a\xffb", strings.Repeat("x", 200), "\ud7ff\ue000"} {
		f.Add(s, 128)
		f.Add(s, -1)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < -1 {
			limit = -1
		}
		out := hostpluginsink.AppendPyString(nil, s, limit)
		for i, c := range out {
			if c < ' ' || c > '~' {
				t.Fatalf("byte %d of %q is not printable ASCII", i, out)
			}
		}
		if upperHexEscape.Match(out) {
			t.Fatalf("upper-case hex escape in %q", out)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output %q is not a JSON string: %v", out, err)
		}
		var want []rune
		for _, r := range s {
			if limit >= 0 && len(want) == limit {
				break
			}
			want = append(want, r) // invalid bytes range as U+FFFD, one each
		}
		if got != string(want) {
			t.Fatalf("decoded %q, want %q", got, string(want))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("decoded invalid UTF-8 %q", got)
		}
	})
}
