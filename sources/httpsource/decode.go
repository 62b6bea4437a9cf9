package httpsource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/sluice-dev/sluice/pipeline"
)

// Media types of the CloudEvents JSON formats.
const (
	mediaStructured = "application/cloudevents+json"
	mediaBatch      = "application/cloudevents-batch+json"
)

// supportedModes is appended to 415 answers.
const supportedModes = "send " + mediaStructured + ", " + mediaBatch +
	", or binary mode (ce-specversion, ce-id, ce-source and ce-type headers)"

// decodeRequest returns the events a request carries in structured,
// batched or binary mode, or the 4xx answer explaining why it carries
// none. Every returned event is a valid CloudEvent.
func decodeRequest(h http.Header, body []byte, maxEvents int) ([]pipeline.Event, *response) {
	ct := h.Get("Content-Type")
	mt := ""
	if ct != "" {
		var params map[string]string
		var err error
		mt, params, err = mime.ParseMediaType(ct)
		if err != nil && !hasCEHeaders(h) {
			return nil, fail(http.StatusUnsupportedMediaType, "invalid Content-Type %q: %v; %s", ct, err, supportedModes)
		}
		if (mt == mediaStructured || mt == mediaBatch) && params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8") {
			return nil, fail(http.StatusUnsupportedMediaType, "unsupported charset %q: CloudEvents JSON is UTF-8", params["charset"])
		}
	}
	switch {
	case mt == mediaStructured:
		e, err := pipeline.UnmarshalCloudEventJSON(body)
		if err == nil {
			err = checkStrings(&e)
		}
		if err != nil {
			return nil, fail(http.StatusBadRequest, "%v", err)
		}
		return []pipeline.Event{e}, nil
	case mt == mediaBatch:
		return decodeBatch(body, maxEvents)
	case strings.HasPrefix(mt, "application/cloudevents"):
		return nil, fail(http.StatusUnsupportedMediaType, "unsupported event format %q; %s", mt, supportedModes)
	case hasCEHeaders(h):
		e, r := decodeBinary(h, body)
		if r != nil {
			return nil, r
		}
		return []pipeline.Event{e}, nil
	case ct == "":
		return nil, fail(http.StatusUnsupportedMediaType, "missing Content-Type and no ce-* headers; %s", supportedModes)
	default:
		return nil, fail(http.StatusUnsupportedMediaType, "unsupported content type %q without ce-* headers; %s", mt, supportedModes)
	}
}

// decodeBatch decodes a JSON batch all or nothing: the first invalid event
// fails the request with its index.
func decodeBatch(body []byte, maxEvents int) ([]pipeline.Event, *response) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, fail(http.StatusBadRequest, "batch must be a JSON array of CloudEvents")
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, fail(http.StatusBadRequest, "batch: %v", err)
	}
	if len(raws) > maxEvents {
		return nil, fail(http.StatusRequestEntityTooLarge, "batch has %d events, the limit is %d", len(raws), maxEvents)
	}
	events := make([]pipeline.Event, len(raws))
	for i, raw := range raws {
		e, err := pipeline.UnmarshalCloudEventJSON(raw)
		if err == nil {
			err = checkStrings(&e)
		}
		if err != nil {
			r := response{status: http.StatusBadRequest, body: errorBody{Error: fmt.Sprintf("batch event %d: %v", i, err), Index: &i}}
			return nil, &r
		}
		events[i] = e
	}
	return events, nil
}

// decodeBinary maps ce-* headers to attributes, Content-Type to
// datacontenttype and the body to data.
func decodeBinary(h http.Header, body []byte) (pipeline.Event, *response) {
	attrs := make(map[string]string)
	// Sorted, so that the first error reported does not vary.
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if !isCEHeader(name) {
			continue
		}
		values := h[name]
		attr := strings.ToLower(name[3:])
		switch attr {
		case "datacontenttype":
			return pipeline.Event{}, fail(http.StatusBadRequest, "header %s must not be sent in binary mode: Content-Type carries datacontenttype", name)
		case "data", "data_base64":
			return pipeline.Event{}, fail(http.StatusBadRequest, "header %s: data travels in the body in binary mode", name)
		}
		if len(values) != 1 {
			return pipeline.Event{}, fail(http.StatusBadRequest, "header %s sent %d times", name, len(values))
		}
		v, err := decodeHeaderValue(values[0])
		if err != nil {
			return pipeline.Event{}, fail(http.StatusBadRequest, "header %s: %v", name, err)
		}
		attrs[attr] = v
	}
	if ct := h.Values("Content-Type"); len(ct) > 1 {
		return pipeline.Event{}, fail(http.StatusBadRequest, "header Content-Type sent %d times", len(ct))
	} else if len(ct) == 1 && ct[0] != "" {
		attrs["datacontenttype"] = ct[0]
	}
	var data []byte
	if len(body) > 0 {
		data = body
	}
	e, err := pipeline.EventFromAttributes(attrs, data)
	if err == nil {
		err = checkStrings(&e)
	}
	if err != nil {
		return pipeline.Event{}, fail(http.StatusBadRequest, "%v", err)
	}
	return e, nil
}

func hasCEHeaders(h http.Header) bool {
	for name := range h {
		if isCEHeader(name) {
			return true
		}
	}
	return false
}

func isCEHeader(name string) bool {
	return len(name) >= 3 && strings.EqualFold(name[:3], "ce-")
}

// checkStrings enforces the CloudEvents String type on every attribute:
// no control characters (U+0000-U+001F, U+007F-U+009F). Such characters
// would let a producer forge log lines downstream.
func checkStrings(e *pipeline.Event) error {
	check := func(name, v string) error {
		if strings.ContainsFunc(v, unicode.IsControl) {
			return fmt.Errorf("%w: attribute %q contains a control character", pipeline.ErrInvalidCloudEvent, name)
		}
		return nil
	}
	for _, a := range []struct{ name, v string }{
		{"id", e.ID}, {"source", e.Source}, {"type", e.Type}, {"subject", e.Subject},
		{"datacontenttype", e.DataContentType}, {"dataschema", e.DataSchema}, {"traceparent", e.TraceParent},
	} {
		if err := check(a.name, a.v); err != nil {
			return err
		}
	}
	for k, v := range e.Extensions {
		if err := check(k, v); err != nil {
			return err
		}
	}
	return nil
}

func fail(status int, format string, args ...any) *response {
	r := failure(status, format, args...)
	return &r
}
