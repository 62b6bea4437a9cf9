package kvpsink

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAppendPyJSONString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain ascii ~!@#$%^&*()_+{}[]:;'<>,.?/", `"plain ascii ~!@#$%^&*()_+{}[]:;'<>,.?/"`},
		{`quote " backslash \`, `"quote \" backslash \\"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f\u007f"`},
		{"é ß", `"\u00e9 \u00df"`},
		{"☃ \u2028", `"\u2603 \u2028"`},
		{"😀", `"\ud83d\ude00"`},
		{"\U0010ffff", `"\udbff\udfff"`},
		{"\xff", `"\ufffd"`},
		{"a\xe2\x82b", `"a\ufffd\ufffdb"`},
		{"\ufffd", `"\ufffd"`},
	}
	for _, tt := range tests {
		got := string(appendPyJSONString(nil, tt.in))
		assert.Equal(t, tt.want, got, "input %q", tt.in)
		assert.Equal(t, len(tt.want)-2, pyJSONLen(tt.in), "pyJSONLen(%q)", tt.in)
	}
}

func TestCapString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in           string
		raw, js      int
		want         string
		wantTruncate bool
	}{
		{"abc", 3, 3, "abc", false},
		{"abcd", 3, 100, "abc", true},
		{"abcd", 100, 3, "abc", true},
		{"aé", 2, 100, "a", true},  // é is 2 bytes: not cut in half
		{"aé", 3, 6, "a", true},    // é escapes to 6
		{"a😀", 100, 12, "a", true}, // the pair is 12 escaped
		{"a😀", 100, 13, "a😀", false},
		{`a"b`, 100, 3, `a"`, true},
		{`a"b`, 100, 2, "a", true},
		{"a\xffb", 2, 100, "a\xff", true}, // invalid bytes count 1 raw
	}
	for _, tt := range tests {
		got, cut := capString(tt.in, tt.raw, tt.js)
		assert.Equal(t, tt.want, got, "capString(%q, %d, %d)", tt.in, tt.raw, tt.js)
		assert.Equal(t, tt.wantTruncate, cut, "capString(%q, %d, %d) cut", tt.in, tt.raw, tt.js)
	}
}

func TestEscapeBoundary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  string
		room int
		want int
	}{
		{"abcdef", 3, 3},
		{"abcdef", 10, 6},
		{`ab"cd`, 3, 2},     // ab\"cd: \" would end at 4
		{`ab"cd`, 4, 4},     // ab\" fits
		{"abé", 5, 2},       // ab\u00e9: the escape ends at 8
		{"abé", 8, 8},       //
		{"ab😀", 13, 2},      // the surrogate pair is one unit of 12
		{"ab😀", 14, 14},     //
		{`\\\\`, 3, 2},      // \\\\: cut between the two \\ escapes
		{"ab\\u00e9", 4, 4}, // a literal backslash-u: \\ then u00e9 plain
	}
	for _, tt := range tests {
		des := appendPyJSONContent(nil, tt.msg)
		got := escapeBoundary(des, tt.room)
		assert.Equal(t, tt.want, got, "escapeBoundary(%s, %d)", des, tt.room)
	}
}
