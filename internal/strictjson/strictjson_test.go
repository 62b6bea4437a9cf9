package strictjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/strictjson"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		wantErr   error
		wantAttr  string
		wantMsg   string
		wantBytes int
	}{
		{name: "event", in: `{"specversion":"1.0","id":"a","data":{"x":[1,2,{"y":"é"}]}}`},
		{name: "scalars", in: ` [true, false, null, -1.5e3, "", "\"\\\/\b\f\n\r\t"] `},
		{name: "surrogate pair", in: `{"id":"\ud83d\ude00"}`},
		{name: "same name in sibling objects", in: `[{"a":1},{"a":2}]`},
		{name: "same name at two depths", in: `{"a":{"a":1}}`},
		{name: "many members", in: `{"a0":0,"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9,"b0":0,"b1":1,"b2":2,"b3":3,"b4":4,"b5":5,"b6":6,"b7":7}`},
		{
			name: "invalid UTF-8 in data", in: "{\"id\":\"a\",\"data\":\"\xc3\x28\"}",
			wantErr: strictjson.ErrInvalidUTF8, wantAttr: "data", wantMsg: `attribute "data": invalid UTF-8 (byte 18)`,
		},
		{
			name: "invalid UTF-8 in id", in: "{\"id\":\"\xff\"}",
			wantErr: strictjson.ErrInvalidUTF8, wantAttr: "id", wantMsg: `attribute "id": invalid UTF-8 (byte 7)`,
		},
		{
			name: "invalid UTF-8 deep", in: "{\"data\":{\"items\":[1,{\"n\":\"\xed\xa0\x80\"}]}}",
			wantErr: strictjson.ErrInvalidUTF8, wantAttr: "data", wantMsg: `attribute "data": invalid UTF-8 at data.items[1].n`,
		},
		{name: "invalid UTF-8 in a name", in: "{\"\xc0\":1}", wantErr: strictjson.ErrInvalidUTF8, wantAttr: ""},
		{name: "invalid UTF-8 outside strings", in: "[1,\xff]", wantErr: strictjson.ErrInvalidUTF8, wantAttr: "[1]"},
		{
			name: "duplicate attribute", in: `{"id":"a","source":"s","id":"b"}`,
			wantErr: strictjson.ErrDuplicateMember, wantAttr: "id", wantMsg: `attribute "id": duplicate member "id" (byte 23)`,
		},
		{
			name: "duplicate after unescaping", in: `{"id":"a","\u0069d":"b"}`,
			wantErr: strictjson.ErrDuplicateMember, wantAttr: "id",
		},
		{
			name: "duplicate in data", in: `{"data":{"x":{"k":1,"k":2}}}`,
			wantErr: strictjson.ErrDuplicateMember, wantAttr: "data", wantMsg: `attribute "data": duplicate member "k" in data.x`,
		},
		{
			name: "duplicate beyond the first sixteen", in: `{"a0":0,"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9,"b0":0,"b1":1,"b2":2,"b3":3,"b4":4,"b5":5,"b6":6,"b7":7,"b6":8}`,
			wantErr: strictjson.ErrDuplicateMember, wantAttr: "b6",
		},
		{name: "lone high surrogate", in: `{"id":"\ud800"}`, wantErr: strictjson.ErrLoneSurrogate, wantAttr: "id"},
		{name: "lone low surrogate", in: `{"id":"x\udc00"}`, wantErr: strictjson.ErrLoneSurrogate, wantAttr: "id"},
		{name: "high surrogate then not low", in: `{"id":"\ud800\u0041"}`, wantErr: strictjson.ErrLoneSurrogate, wantAttr: "id"},
		{name: "truncated", in: `{"id":"a`, wantErr: strictjson.ErrSyntax, wantAttr: "id"},
		{name: "trailing", in: `{} {}`, wantErr: strictjson.ErrSyntax},
		{name: "empty", in: ``, wantErr: strictjson.ErrSyntax},
		{name: "too deep", in: strings.Repeat("[", strictjson.MaxDepth+1) + strings.Repeat("]", strictjson.MaxDepth+1), wantErr: strictjson.ErrTooDeep, wantAttr: "[0]"},
		{name: "deep enough", in: strings.Repeat("[", strictjson.MaxDepth) + strings.Repeat("]", strictjson.MaxDepth)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := strictjson.Check([]byte(tt.in))
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			var e *strictjson.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.wantAttr, e.Attribute())
			if tt.wantMsg != "" {
				assert.Contains(t, err.Error(), tt.wantMsg)
			}
		})
	}
}

// FuzzCheck checks that Check never panics, never calls valid JSON a
// syntax error, and refuses every valid JSON text that is not UTF-8.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `{"a":1,"a":2}`, "{\"a\":\"\xc3\x28\"}", `["\ud800"]`, `"\ud83d\ude00"`, `[]`, `{}`, `1`,
		`{"data":{"k":[1,{"k":2,"k":3}]}}`, `{"\u0061":1,"a":2}`, "[\"\\u00e9\", \"é\"]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := strictjson.Check(b)
		if !json.Valid(b) {
			return
		}
		if errors.Is(err, strictjson.ErrSyntax) {
			t.Fatalf("valid JSON %q called a syntax error: %v", b, err)
		}
		if err == nil && !utf8.Valid(b) {
			t.Fatalf("accepted invalid UTF-8: %q", b)
		}
		if err == nil {
			// Without duplicates, decoding loses no member: re-encoding
			// a decoded object keeps as many members as the text has.
			var v any
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.UseNumber()
			if dec.Decode(&v) != nil {
				t.Fatalf("valid JSON %q does not decode", b)
			}
			if m, ok := v.(map[string]any); ok && countTopMembers(t, b) != len(m) {
				t.Fatalf("accepted duplicate members: %q", b)
			}
		}
	})
}

// countTopMembers counts the members of the top object of b.
func countTopMembers(t *testing.T, b []byte) int {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil { // name
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func BenchmarkCheck(b *testing.B) {
	ev := []byte(`{"specversion":"1.0","id":"a","source":"/bench","type":"sluice.bench","subject":"web","time":"2025-01-02T03:04:05Z","datacontenttype":"application/json","data":{"up":true,"latency_ms":12,"items":[1,2,3]}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	for b.Loop() {
		if err := strictjson.Check(ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValid(b *testing.B) {
	ev := []byte(`{"specversion":"1.0","id":"a","source":"/bench","type":"sluice.bench","subject":"web","time":"2025-01-02T03:04:05Z","datacontenttype":"application/json","data":{"up":true,"latency_ms":12,"items":[1,2,3]}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	for b.Loop() {
		if !json.Valid(ev) {
			b.Fatal("invalid")
		}
	}
}
