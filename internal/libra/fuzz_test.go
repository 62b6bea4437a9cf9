package libra_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sluice-dev/sluice/internal/libra"
)

// FuzzDecode: Decode never panics, every reply is valid JSON that never
// holds the token's value, an accepted request's event encodes as
// encoding/json encodes it (RequestEvent.Marshal), and it re-decodes to
// the same request from its journaled message.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"hpcs_action":"update","loadBalancers":[{"name":"web","protocol":"HTTP","algorithm":"LEAST_CONNECTIONS","nodes":[{"id":"101","address":"10.0.0.5","port":"8080","weight":"2","backup":"FALSE"}],"monitor":{"type":"HTTP","delay":"30","timeout":"30","attempts":"2","path":"healthz"}}]}`,
		`{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"TOKEN","loadBalancers":[{"protocol":"http","id":"15"}]}`,
		`{"hpcs_action":"DISCOVER"}`, `{}`, `[]`, `"x"`, `{"hpcs_action":`, `{"a":1,"a":2}`,
		`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"galera","port":3306,"nodes":[{"id":"a","address":"::1","port":1,"backup":true}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, ref := libra.Decode(data)
		if ref != nil {
			if !json.Valid(ref.Reply) {
				t.Fatalf("refusal reply is not JSON: %s", ref.Reply)
			}
			if bytes.Contains(data, []byte(`"TOKEN"`)) && bytes.Contains(ref.Reply, []byte(`"TOKEN"`)) && bytes.Contains(data, []byte(`"hpcs_object_store_token":"TOKEN"`)) {
				t.Fatalf("token leaked: %s", ref.Reply)
			}
			return
		}
		ev := libra.NewRequestEvent(d, "id", libra.TransportHTTP, "c")
		pass := libra.PassReply(d.Message.Clone())
		if !json.Valid(pass) || !json.Valid(ev.Message) {
			t.Fatalf("invalid JSON: %s / %s", pass, ev.Message)
		}
		var received map[string]json.RawMessage
		if err := json.Unmarshal(d.Received, &received); err != nil {
			t.Fatalf("received is not a JSON object: %v: %s", err, d.Received)
		}
		if tok, ok := received[libra.FieldToken]; ok && string(tok) != `"`+libra.Masked+`"` {
			t.Fatalf("token not masked: %s", tok)
		}
		fast := ev.Marshal()
		slow, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var fastV, slowV any
		if err := json.Unmarshal(fast, &fastV); err != nil {
			t.Fatalf("RequestEvent.Marshal is not JSON: %v: %s", err, fast)
		}
		if err := json.Unmarshal(slow, &slowV); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fastV, slowV) {
			t.Fatalf("RequestEvent.Marshal differs from encoding/json:\n%s\n%s", fast, slow)
		}
		again, ref := libra.Decode(ev.Message)
		if ref != nil {
			t.Fatalf("journaled message refused: %s: %s", ev.Message, ref.Reply)
		}
		a, _ := json.Marshal(again.Request)
		b, _ := json.Marshal(d.Request)
		if !bytes.Equal(a, b) {
			t.Fatalf("re-decoded request differs:\n%s\n%s", a, b)
		}
	})
}
