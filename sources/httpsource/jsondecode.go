package httpsource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"text/template"

	"github.com/sluice-dev/sluice/internal/strictjson"
	"github.com/sluice-dev/sluice/pipeline"
)

// jsonDecoder turns plain JSON bodies into events (format: json).
type jsonDecoder struct {
	source, typ string
	tpl         jsonTemplates
	maxEvents   int
}

func newJSONDecoder(cfg *Config) (*jsonDecoder, error) {
	tpl, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	return &jsonDecoder{source: cfg.EventSource, typ: cfg.EventType, tpl: tpl, maxEvents: cfg.MaxBatchEvents}, nil
}

// decode reads a request's events in the configured format.
func (h *handler) decode(hdr http.Header, body io.Reader, size int64) ([]pipeline.Event, *response) {
	if h.json != nil {
		return h.json.decode(hdr, body, size)
	}
	return decodeRequest(hdr, body, h.cfg.MaxBatchEvents, size)
}

// decode returns the events of a plain JSON body: one per element of a
// top-level array (all or nothing; an empty array is no event), or one
// for any other value. The body must be strict JSON (see
// strictjson.Check) whatever its Content-Type, except that CloudEvents
// (their media types or ce-* headers) are refused with 415: this source
// does not read them.
func (d *jsonDecoder) decode(h http.Header, body io.Reader, size int64) ([]pipeline.Event, *response) {
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); strings.HasPrefix(mt, "application/cloudevents") || hasCEHeaders(h) {
		return nil, fail(http.StatusUnsupportedMediaType, "this source takes plain JSON (format: json), not CloudEvents: post the JSON value itself, or an array of them")
	}
	data, err := readBody(body, size)
	if err != nil {
		return nil, readFailure(err)
	}
	if err := checkJSON(data); err != nil {
		return nil, fail(http.StatusBadRequest, "%v", err)
	}
	values, err := splitArray(data)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "%v", err)
	}
	if values == nil { // not an array: one value
		e, err := d.event(data)
		if err != nil {
			return nil, fail(http.StatusBadRequest, "%v", err)
		}
		return []pipeline.Event{e}, nil
	}
	if len(values) > d.maxEvents {
		return nil, fail(http.StatusRequestEntityTooLarge, "array has %d elements, the limit is %d (max_batch_events)", len(values), d.maxEvents)
	}
	events := make([]pipeline.Event, 0, len(values))
	for i, v := range values {
		e, err := d.event(v)
		if err != nil {
			r := response{status: http.StatusBadRequest, body: errorBody{Error: fmt.Sprintf("element %d: %v", i, err), Index: &i}}
			return nil, &r
		}
		events = append(events, e)
	}
	return events, nil
}

// errEmptyBody is a request without a JSON value.
var errEmptyBody = errors.New("empty body: send a JSON value, or an array of them")

// checkJSON reports why data is not one strict JSON value: encoding/json's
// syntax error with its byte offset, or strictjson's problem (invalid
// UTF-8, a lone surrogate, a repeated member) with its path.
func checkJSON(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errEmptyBody
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			return fmt.Errorf("invalid JSON: %w (byte %d)", se, se.Offset)
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if err := strictjson.Check(data); err != nil {
		var se *strictjson.Error
		if errors.As(err, &se) {
			// The paths of a plain body are not CloudEvents attributes.
			return fmt.Errorf("invalid JSON: %w at %s (byte %d)", se.Err, jsonPath(se.Path), se.Offset)
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// jsonPath renders a strictjson path from the top value: $, $.a[2].b.
func jsonPath(p []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range p {
		if !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// splitArray returns the elements of data if it is a JSON array (each its
// own copy; an empty array gives an empty, non-nil slice), or nil if it
// is another value. data is valid JSON.
func splitArray(data []byte) ([]json.RawMessage, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '[' {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	values := []json.RawMessage{}
	for dec.More() {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		values = append(values, v)
	}
	return values, nil
}

// event makes one JSON value an event: the value is the data, source and
// type are configured, id and subject rendered by their templates.
func (d *jsonDecoder) event(value []byte) (pipeline.Event, error) {
	e := pipeline.Event{Source: d.source, Type: d.typ, DataContentType: "application/json", Data: bytes.TrimSpace(value)}
	if d.tpl.id != nil || d.tpl.subject != nil {
		dec := json.NewDecoder(bytes.NewReader(value))
		dec.UseNumber() // {{.n}} renders 12345678901234567890 as sent
		var v any
		if err := dec.Decode(&v); err != nil {
			return pipeline.Event{}, fmt.Errorf("invalid JSON: %w", err)
		}
		v = nullsEmpty(v)
		var err error
		if e.ID, err = render(d.tpl.id, v); err != nil {
			return pipeline.Event{}, err
		}
		if d.tpl.id != nil && e.ID == "" {
			return pipeline.Event{}, fmt.Errorf("%w: event_id template gives an empty id", pipeline.ErrInvalidCloudEvent)
		}
		if e.Subject, err = render(d.tpl.subject, v); err != nil {
			return pipeline.Event{}, err
		}
	}
	if err := checkStrings(&e); err != nil {
		return pipeline.Event{}, err
	}
	return e, nil
}

// render executes tpl on v ("" for a nil tpl).
func render(tpl *template.Template, v any) (string, error) {
	if tpl == nil {
		return "", nil
	}
	var b strings.Builder
	if err := tpl.Execute(&b, v); err != nil {
		return "", fmt.Errorf("%s template: %w", tpl.Name(), err)
	}
	return b.String(), nil
}

// nullsEmpty replaces JSON nulls in v with "", which templates render as
// nothing (text/template would print "<no value>").
func nullsEmpty(v any) any {
	switch x := v.(type) {
	case nil:
		return ""
	case map[string]any:
		for k, e := range x {
			x[k] = nullsEmpty(e)
		}
	case []any:
		for i, e := range x {
			x[i] = nullsEmpty(e)
		}
	}
	return v
}
