package httpsource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/internal/strictjson"
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
// batched or binary mode, or the answer explaining why it carries none.
// It reads body only in a mode it recognised; size is the announced
// length (-1 unknown). Every returned event is a valid CloudEvent.
func decodeRequest(h http.Header, body io.Reader, maxEvents int, size int64) ([]pipeline.Event, *response) {
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
		data, err := readBody(body, size)
		if err != nil {
			return nil, readFailure(err)
		}
		e, err := decodeEvent(data)
		if err != nil {
			return nil, fail(http.StatusBadRequest, "%v", err)
		}
		return []pipeline.Event{e}, nil
	case mt == mediaBatch:
		return decodeBatch(body, maxEvents, size)
	case strings.HasPrefix(mt, "application/cloudevents"):
		return nil, fail(http.StatusUnsupportedMediaType, "unsupported event format %q; %s", mt, supportedModes)
	case hasCEHeaders(h):
		data, err := readBody(body, size)
		if err != nil {
			return nil, readFailure(err)
		}
		e, r := decodeBinary(h, data)
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

// decodeEvent decodes one event in the JSON format, refusing what
// encoding/json would let through silently (see strictjson.Check), and
// checks its strings.
func decodeEvent(raw []byte) (pipeline.Event, error) {
	if err := strictjson.Check(raw); err != nil && !errors.Is(err, strictjson.ErrSyntax) {
		// Syntax errors are left to the codec, which words them.
		return pipeline.Event{}, fmt.Errorf("%w: %w", pipeline.ErrInvalidCloudEvent, err)
	}
	e, err := pipeline.UnmarshalCloudEventJSON(raw)
	if err == nil {
		err = checkStrings(&e)
	}
	return e, err
}

// readBody reads a whole body of announced length size (-1 unknown),
// which a structured event or binary data needs, in one allocation when
// the length is known.
func readBody(body io.Reader, size int64) ([]byte, error) {
	var b bytes.Buffer
	if size > 0 {
		b.Grow(int(size) + bytes.MinRead)
	}
	_, err := b.ReadFrom(body)
	return b.Bytes(), err
}

// isReadError reports whether err came from reading the body (a limit,
// the client going away) rather than from its content.
func isReadError(err error) bool {
	if err == nil || errors.Is(err, io.EOF) {
		return false
	}
	if errors.Is(err, httpserver.ErrTooLarge) || errors.Is(err, httpserver.ErrBusy) {
		return true
	}
	_, syntax := errors.AsType[*json.SyntaxError](err)
	return !syntax && !errors.Is(err, io.ErrUnexpectedEOF)
}

// readFailure answers an error reading the body.
func readFailure(err error) *response {
	r := bodyFailure(err)
	return &r
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
// would let a producer forge log lines downstream. It also refuses what
// is reserved to the engine (reserved.CheckIngest: sluice.* types,
// /sluice/ sources, sluice*, kvp* and Sluice's other extensions), so that
// no client passes for one of Sluice's own sources.
func checkStrings(e *pipeline.Event) error {
	if err := reserved.CheckIngest(e); err != nil {
		return err
	}
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
		if check(k, v) != nil {
			// Map order varies: name the first in sorted order.
			for _, k := range slices.Sorted(maps.Keys(e.Extensions)) {
				if err := check(k, e.Extensions[k]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func fail(status int, format string, args ...any) *response {
	r := failure(status, format, args...)
	return &r
}
