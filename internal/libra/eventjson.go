package libra

import (
	"bytes"
	"strconv"
)

// Marshal encodes e as encoding/json does (the same members in the same
// order, the same omitempty and null), without reflection: it runs for
// every accepted request. Strings are not HTML-escaped; Message, which
// Decode wrote compact, is copied as it is. FuzzDecode checks that the
// two encodings decode to the same value.
func (e *RequestEvent) Marshal() []byte {
	var b bytes.Buffer
	b.Grow(256 + len(e.Message) + 192*len(e.LoadBalancers))
	b.WriteString(`{"action":`)
	writeString(&b, string(e.Action))
	b.WriteString(`,"request_id":`)
	writeString(&b, e.RequestID)
	b.WriteString(`,"transport":`)
	writeString(&b, e.Transport)
	b.WriteString(`,"client":`)
	writeString(&b, e.Client)
	if len(e.LoadBalancers) > 0 {
		b.WriteString(`,"load_balancers":[`)
		for i := range e.LoadBalancers {
			if i > 0 {
				b.WriteByte(',')
			}
			e.LoadBalancers[i].encode(&b)
		}
		b.WriteByte(']')
	}
	if a := e.Archive; a != nil {
		b.WriteString(`,"archive":{"type":`)
		writeString(&b, a.Type)
		b.WriteString(`,"basepath":`)
		writeString(&b, a.BasePath)
		b.WriteString(`,"endpoint":`)
		writeString(&b, a.Endpoint)
		b.WriteByte('}')
	}
	b.WriteString(`,"message":`)
	if e.Message == nil {
		b.WriteString("null")
	} else {
		b.Write(e.Message)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func (lb *LoadBalancer) encode(b *bytes.Buffer) {
	b.WriteByte('{')
	if lb.ID != "" {
		b.WriteString(`"id":`)
		writeString(b, lb.ID)
		b.WriteByte(',')
	}
	if lb.Name != "" {
		b.WriteString(`"name":`)
		writeString(b, lb.Name)
		b.WriteByte(',')
	}
	b.WriteString(`"protocol":`)
	writeString(b, lb.Protocol)
	writeInt(b, `,"port":`, lb.Port)
	b.WriteString(`,"algorithm":`)
	writeString(b, lb.Algorithm)
	if m := lb.Monitor; m != nil {
		b.WriteString(`,"monitor":{"type":`)
		writeString(b, m.Type)
		writeInt(b, `,"delay":`, m.Delay)
		writeInt(b, `,"timeout":`, m.Timeout)
		writeInt(b, `,"attempts":`, m.Attempts)
		b.WriteString(`,"path":`)
		writeString(b, m.Path)
		b.WriteByte('}')
	}
	o := lb.Options
	writeInt(b, `,"options":{"client_timeout":`, o.ClientTimeout)
	writeInt(b, `,"server_timeout":`, o.ServerTimeout)
	writeInt(b, `,"connect_timeout":`, o.ConnectTimeout)
	writeInt(b, `,"connect_retries":`, o.ConnectRetries)
	b.WriteString(`},"nodes":`)
	if lb.Nodes == nil {
		b.WriteString("null")
	} else {
		b.WriteByte('[')
		for i, n := range lb.Nodes {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"id":`)
			writeString(b, n.ID)
			b.WriteString(`,"address":`)
			writeString(b, n.Address)
			writeInt(b, `,"port":`, n.Port)
			writeInt(b, `,"weight":`, n.Weight)
			b.WriteString(`,"backup":`)
			b.WriteString(strconv.FormatBool(n.Backup))
			b.WriteByte('}')
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
}

// writeInt writes key (with its punctuation) and n.
func writeInt(b *bytes.Buffer, key string, n int) {
	b.WriteString(key)
	var num [20]byte
	b.Write(strconv.AppendInt(num[:0], int64(n), 10))
}
