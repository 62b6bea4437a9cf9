package httpsource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/sluice-dev/sluice/internal/strictjson"
	"github.com/sluice-dev/sluice/pipeline"
)

// decodeBatch decodes a JSON batch all or nothing: the first invalid
// event fails the request with its index; more than maxEvents events
// fail it with 413. size is the announced length (-1 unknown).
//
// It reads the body whole (httpserver.Body bounds it by max_body_bytes
// and the in-flight budget), then, when the body is valid JSON and an
// array, splits the elements in one scan without copying them, and
// checks strictness (strictjson.Check) once for the whole body instead
// of once per event: a body without problems has none in any element.
// Any other body (invalid JSON, not an array, a read error) goes to
// decodeBatchStream, replayed with the bytes read and the read error
// where it occurred, so that every answer, error text and index is the
// one the streaming decoder gives.
func decodeBatch(body io.Reader, maxEvents int, size int64) ([]pipeline.Event, *response) {
	data, err := readBody(body, size)
	if err != nil {
		return decodeBatchStream(io.MultiReader(bytes.NewReader(data), errReader{err}), maxEvents)
	}
	rest := bytes.TrimLeft(data, jsonSpace)
	if len(rest) == 0 || rest[0] != '[' || !json.Valid(rest) {
		return decodeBatchStream(bytes.NewReader(data), maxEvents)
	}
	checked := strictjson.Check(rest) == nil
	var events []pipeline.Event
	n := 0
	for elem := range arrayElements(rest) {
		if n < maxEvents {
			e, err := decodeEventChecked(elem, checked)
			if err != nil {
				i := n
				r := response{status: http.StatusBadRequest, body: errorBody{Error: fmt.Sprintf("batch event %d: %v", i, err), Index: &i}}
				return nil, &r
			}
			events = append(events, e)
		}
		n++
	}
	if n > maxEvents {
		return nil, fail(http.StatusRequestEntityTooLarge, "batch has %d events, the limit is %d", n, maxEvents)
	}
	return events, nil
}

// jsonSpace is JSON's insignificant whitespace (RFC 8259 §2).
const jsonSpace = " \t\r\n"

// arrayElements yields the elements of arr, a valid JSON array without
// leading whitespace, as subslices of arr without their surrounding
// whitespace. It relies on arr being valid: it only tracks strings and
// nesting to find the commas between elements.
func arrayElements(arr []byte) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		i := 1 // after [
		for i < len(arr) {
			for i < len(arr) && isJSONSpace(arr[i]) {
				i++
			}
			if i >= len(arr) || arr[i] == ']' {
				return
			}
			start := i
			depth := 0
		scan:
			for ; i < len(arr); i++ {
				switch arr[i] {
				case '"':
					for i++; i < len(arr) && arr[i] != '"'; i++ {
						if arr[i] == '\\' {
							i++
						}
					}
				case '{', '[':
					depth++
				case '}', ']':
					if depth == 0 {
						break scan
					}
					depth--
				case ',':
					if depth == 0 {
						break scan
					}
				}
			}
			end := i
			for end > start && isJSONSpace(arr[end-1]) {
				end--
			}
			if !yield(arr[start:end]) {
				return
			}
			if i < len(arr) && arr[i] == ']' {
				return
			}
			i++ // ,
		}
	}
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// errReader returns err on every read: the read error of a body, replayed
// after the bytes read before it.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// decodeEventChecked is decodeEvent, without strictjson.Check when the
// caller already found raw (or a document containing it) strict.
func decodeEventChecked(raw []byte, checked bool) (pipeline.Event, error) {
	if checked {
		e, err := pipeline.UnmarshalCloudEventJSON(raw)
		if err == nil {
			err = checkStrings(&e)
		}
		return e, err
	}
	return decodeEvent(raw)
}

// decodeBatchStream decodes a JSON batch all or nothing with
// encoding/json's Decoder, one event at a time: the first invalid event
// fails the request with its index. It words every syntax error, and is
// the reference decodeBatch falls back on for any body that is not valid
// JSON or could not be read whole.
func decodeBatchStream(body io.Reader, maxEvents int) ([]pipeline.Event, *response) {
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
