package libra

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzScanAgreesWithTokens: the fast scanner accepts only what the
// encoding/json token path accepts, and builds the same value.
func FuzzScanAgreesWithTokens(f *testing.F) {
	for _, seed := range []string{
		`{"hpcs_action":"update","loadBalancers":[{"protocol":"HTTP","nodes":[{"id":"101","port":"8080","weight":2,"backup":false}]}]}`,
		`{"a":"\u00e9\n\"x\"","b":[1,-0.5e+3,true,null],"a":{}}`, `[]`, `{}`, ` 1 `, `"\ud800"`, "\"\xff\"", `{"a":01}`, `-`, `1.`, `[1,]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := scanValue(data)
		slow, err := tokenParse(data)
		if !ok {
			return // the token path decides (and words the error)
		}
		if err != nil {
			t.Fatalf("scanner accepted what encoding/json refuses (%v): %q", err, data)
		}
		if !bytes.Equal(fast.Marshal(), slow.Marshal()) {
			t.Fatalf("values differ for %q:\n%s\n%s", data, fast.Marshal(), slow.Marshal())
		}
	})
}

// FuzzWriteString: the plain fast path writes what encoding/json writes.
func FuzzWriteString(f *testing.F) {
	for _, s := range []string{"", "abc", `a"b`, `a\b`, "é", "\x7f", "<&>", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want bytes.Buffer
		writeString(&got, s)
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got.String() != strings.TrimSuffix(want.String(), "\n") {
			t.Fatalf("%q: got %s want %s", s, got.String(), want.String())
		}
	})
}

// TestMarshalSize: size, Marshal's allocation hint, is the encoding's
// length for messages without escapes.
func TestMarshalSize(t *testing.T) {
	for _, msg := range []string{
		`{"hpcs_action":"update","loadBalancers":[{"protocol":"HTTP","nodes":[{"id":"101","port":"8080","weight":2,"backup":false}]}]}`,
		`[]`, `{}`, `[null,true,1.5e3,"x",{"a":[]}]`, `""`,
	} {
		v, err := parseValue([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if got := v.size(); got != len(v.Marshal()) {
			t.Errorf("size %d, Marshal %d bytes: %s", got, len(v.Marshal()), msg)
		}
	}
}
