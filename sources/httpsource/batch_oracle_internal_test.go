package httpsource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/pipeline"
)

// FuzzBatchDifferential compares decodeBatch with oracleDecodeBatch, the
// streaming decoder it replaced, on the same body: the events and the
// answer (status, headers, body with its index, cause) must be equal.
// readErr > 0 cuts the body after cut bytes and fails the read there
// (1 too large, 2 busy, 3 another error); the oracle reads one byte at
// a time, so that its answers do not depend on buffering.
func FuzzBatchDifferential(f *testing.F) {
	const ev = `{"specversion":"1.0","id":"a","source":"/s","type":"t","data":{"x":1}}`
	bench := `{"specversion":"1.0","id":"a","source":"/bench","type":"acme.bench","subject":"web","time":"2025-01-02T03:04:05Z","datacontenttype":"application/json","data":{"up":true,"latency_ms":12}}`
	events := []string{
		ev, bench, `{"specversion":"1.0"}`, `null`, `42`, `"s"`, `[]`, `{}`,
		`{"specversion":"1.0","id":"a","source":"/s","type":"t","data_base64":"!!"}`,
		"{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\",\"data\":\"\xc3\x28\"}",
		"{\"specversion\":\"1.0\",\"id\":\"\xff\",\"source\":\"/s\",\"type\":\"t\"}",
		`{"specversion":"1.0","id":"a","id":"b","source":"/s","type":"t"}`,
		`{"specversion":"1.0","id":"\ud800","source":"/s","type":"t"}`,
		`{"specversion":"1.0","id":"a","source":"/s","type":"t","time":"2016-12-31t23:59:60z"}`,
		`{"specversion":"1.0","id":"a\"]},","source":"/s","type":"t","data":[{"a":"\\"},[]]}`,
		`{"specversion":"1.0","id":"a","source":"/s","type":"t","data":{"a":1,"a":2}}`,
		`{"specversion":"1.0","id":"a","source":"/s","type":"t","x":"a\u0007b"}`,
		`{"specversion":"1.0","id":"a","source":"/sluice/x","type":"t"}`,
	}
	bodies := []string{
		"", "[", "]", "[]", " [ ] ", "[,]", "[" + ev + "," + ev + "]", "[" + ev + "] [" + ev + "]",
		"[" + ev + "]x", "[" + ev + ",]", "[" + ev + " " + ev + "]", "\t[\n" + ev + " ,\r\n" + ev + "\n]\n",
		"[" + strings.TrimSuffix(strings.Repeat(bench+",", 100), ",") + "]",
		"[" + strings.TrimSuffix(strings.Repeat(ev+",", 9), ",") + "]", "[" + ev + ",{", "{}", `"x"`, "[1", "[[[[]]]]",
	}
	for _, e := range events {
		bodies = append(bodies, e, "["+e+"]", "["+ev+","+e+"]", "["+e+","+ev+"]", "[ "+e+" ,"+e+"]")
	}
	for _, b := range bodies {
		f.Add([]byte(b), uint8(8), uint8(0), uint16(0))
		f.Add([]byte(b), uint8(1), uint8(0), uint16(0))
		f.Add([]byte(b), uint8(8), uint8(1+len(b)%3), uint16(len(b)/2))
	}
	f.Fuzz(func(t *testing.T, body []byte, maxEvents, readErr uint8, cut uint16) {
		limit := int(maxEvents%16) + 1
		newBody := func() io.Reader { return bytes.NewReader(body) }
		if readErr%4 != 0 {
			c := int(cut) % (len(body) + 1)
			err := []error{
				fmt.Errorf("%w: the limit is %d", httpserver.ErrTooLarge, c), httpserver.ErrBusy, errors.New("connection reset"),
			}[readErr%4-1]
			newBody = func() io.Reader { return io.MultiReader(bytes.NewReader(body[:c]), errReader{err}) }
		}
		gotEvents, gotRes := decodeBatch(newBody(), limit, int64(len(body)))
		wantEvents, wantRes := oracleDecodeBatch(iotest.OneByteReader(newBody()), limit)
		want := describe(wantRes)
		if !reflect.DeepEqual(gotEvents, wantEvents) {
			t.Fatalf("events differ:\n got %+v\nwant %+v", gotEvents, wantEvents)
		}
		if got := describe(gotRes); got != want {
			t.Fatalf("answers differ:\n got %s\nwant %s", got, want)
		}
	})
}

// describe renders a decode answer for comparison ("<nil>" for none).
func describe(r *response) string {
	if r == nil {
		return "<nil>"
	}
	b, err := json.Marshal(r.body)
	if err != nil {
		return "unmarshalable body: " + err.Error()
	}
	return fmt.Sprintf("%d %v %s events=%d err=%v", r.status, r.header, b, r.events, r.err)
}

// oracleDecodeBatch is decodeBatch as it was before the one-pass split: it decodes a JSON batch all or nothing, one event at a time
// as it is read (the body is never held whole): the first invalid event
// fails the request with its index.
func oracleDecodeBatch(body io.Reader, maxEvents int) ([]pipeline.Event, *response) {
	dec := json.NewDecoder(body)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		if isReadError(err) {
			return nil, readFailure(err)
		}
		return nil, fail(http.StatusBadRequest, "batch must be a JSON array of CloudEvents")
	}
	var events []pipeline.Event
	var raw json.RawMessage // reused: the codec copies what it keeps
	n := 0
	for ; dec.More(); n++ {
		if err := dec.Decode(&raw); err != nil {
			if isReadError(err) {
				return nil, readFailure(err)
			}
			return nil, fail(http.StatusBadRequest, "batch: %v", err)
		}
		if n >= maxEvents {
			continue // counted, for the answer, not decoded
		}
		e, err := decodeEvent(raw)
		if err != nil {
			i := n
			r := response{status: http.StatusBadRequest, body: errorBody{Error: fmt.Sprintf("batch event %d: %v", i, err), Index: &i}}
			return nil, &r
		}
		events = append(events, e)
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		if isReadError(err) {
			return nil, readFailure(err)
		}
		return nil, fail(http.StatusBadRequest, "batch: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if isReadError(err) {
			return nil, readFailure(err)
		}
		return nil, fail(http.StatusBadRequest, "batch: data after the array")
	}
	if n > maxEvents {
		return nil, fail(http.StatusRequestEntityTooLarge, "batch has %d events, the limit is %d", n, maxEvents)
	}
	return events, nil
}
