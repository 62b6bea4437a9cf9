package libra_test

import (
	"encoding/json"
	"testing"

	"github.com/sluice-dev/sluice/internal/libra"
)

// BenchmarkDecode: validate the PROTOCOLS.md §4.4 example UPDATE and build
// its PASS reply (on a shallow copy, as the source does) and journal
// message.
func BenchmarkDecode(b *testing.B) {
	msg := []byte(`{"hpcs_action":"update","loadBalancers":[{"name":"web","protocol":"HTTP","algorithm":"LEAST_CONNECTIONS","nodes":[{"id":"101","address":"10.0.0.5","port":"8080","weight":"2","backup":"FALSE"}],"monitor":{"type":"HTTP","delay":"30","timeout":"30","attempts":"2","path":"healthz"}}]}`)
	b.ReportAllocs()
	for b.Loop() {
		d, ref := libra.Decode(msg)
		if ref != nil {
			b.Fatal(ref)
		}
		_ = libra.PassReply(d.Message.Shallow())
		_ = libra.NewRequestEvent(d, "id", libra.TransportHTTP, "c")
	}
}

// BenchmarkRequestEventMarshal: the journal event of the §4.4 example,
// with encoding/json (what the source used) and RequestEvent.Marshal.
func BenchmarkRequestEventMarshal(b *testing.B) {
	d, ref := libra.Decode([]byte(`{"hpcs_action":"update","loadBalancers":[{"name":"web","protocol":"HTTP","algorithm":"LEAST_CONNECTIONS","nodes":[{"id":"101","address":"10.0.0.5","port":"8080","weight":"2","backup":"FALSE"}],"monitor":{"type":"HTTP","delay":"30","timeout":"30","attempts":"2","path":"healthz"}}]}`))
	if ref != nil {
		b.Fatal(ref)
	}
	ev := libra.NewRequestEvent(d, "0190d6e2-7a1c-7000-8000-000000000000", libra.TransportHTTP, "127.0.0.1:50000")
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = ev.Marshal()
		}
	})
}
