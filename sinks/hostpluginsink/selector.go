package hostpluginsink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/pipeline"
)

// selectorKind is what a selector reads.
type selectorKind int

const (
	selNone selectorKind = iota // always ""
	selLiteral
	selData
	selID
	selSource
	selType
	selSubject
	selOrigin
	selSeverity
	selTime
	selSequence
	selRoute
	selExtension
)

var attributeSelectors = map[string]selectorKind{
	"id": selID, "source": selSource, "type": selType, "subject": selSubject, "origin": selOrigin,
	"severity": selSeverity, "time": selTime, "sequence": selSequence, "route": selRoute,
}

// maxSelectorDepth bounds a data path.
const maxSelectorDepth = 32

// selector is a compiled selector (see ObservationConfig).
type selector struct {
	kind selectorKind
	// arg is the literal text or the extension name.
	arg string
	// path is the member path below data.
	path []string
}

// errBadSelector is wrapped by parseSelector's errors.
var errBadSelector = errors.New("invalid selector")

// parseSelector compiles a selector; "" selects nothing (always "").
func parseSelector(s string) (selector, error) {
	switch {
	case s == "":
		return selector{kind: selNone}, nil
	case strings.HasPrefix(s, "literal:"):
		return selector{kind: selLiteral, arg: strings.TrimPrefix(s, "literal:")}, nil
	case s == "data":
		return selector{kind: selData}, nil
	case strings.HasPrefix(s, "data."):
		p := strings.Split(strings.TrimPrefix(s, "data."), ".")
		if len(p) > maxSelectorDepth {
			return selector{}, fmt.Errorf("%w %q: at most %d levels below data", errBadSelector, s, maxSelectorDepth)
		}
		for _, seg := range p {
			if seg == "" {
				return selector{}, fmt.Errorf("%w %q: empty member name", errBadSelector, s)
			}
		}
		return selector{kind: selData, path: p}, nil
	case strings.HasPrefix(s, "ext."):
		name := strings.TrimPrefix(s, "ext.")
		if name == "" {
			return selector{}, fmt.Errorf("%w %q: want ext.NAME", errBadSelector, s)
		}
		return selector{kind: selExtension, arg: name}, nil
	}
	if k, ok := attributeSelectors[s]; ok {
		return selector{kind: k}, nil
	}
	return selector{}, fmt.Errorf("%w %q: want data, data.PATH, ext.NAME, literal:TEXT or one of id, source, type, subject, origin, severity, time, sequence, route", errBadSelector, s)
}

// selected is what a selector found.
type selected struct {
	text string
	// present is false for a missing member, a missing attribute and null.
	present bool
	// isBool and boolean are set when the value is a JSON boolean.
	isBool, boolean bool
}

// eventView evaluates selectors over one delivery, decoding the JSON
// payload at most once.
type eventView struct {
	d       *pipeline.Delivery
	decoded bool
	data    any
	dataErr error
}

func (v *eventView) get(s selector) (selected, error) {
	e := &v.d.Event
	str := func(x string) (selected, error) { return selected{text: x, present: x != ""}, nil }
	switch s.kind {
	case selNone:
		return selected{}, nil
	case selLiteral:
		return selected{text: s.arg, present: true}, nil
	case selID:
		return str(e.ID)
	case selSource:
		return str(e.Source)
	case selType:
		return str(e.Type)
	case selSubject:
		return str(e.Subject)
	case selOrigin:
		return str(e.Origin)
	case selSeverity:
		return str(e.Severity.String())
	case selTime:
		if e.Time.IsZero() {
			return selected{}, nil
		}
		return str(e.Time.UTC().Format(time.RFC3339Nano))
	case selSequence:
		return str(strconv.FormatUint(e.Sequence, 10))
	case selRoute:
		return str(v.d.Route)
	case selExtension:
		x, ok := e.Extensions[s.arg]
		return selected{text: x, present: ok}, nil
	case selData:
		return v.getData(s.path)
	}
	return selected{}, fmt.Errorf("%w: kind %d", errBadSelector, s.kind)
}

func (v *eventView) getData(p []string) (selected, error) {
	e := &v.d.Event
	if len(e.Data) == 0 {
		return selected{}, nil
	}
	if !v.decoded {
		v.decoded = true
		v.data, v.dataErr = decodeData(e)
	}
	if v.dataErr != nil {
		if len(p) == 0 && utf8.Valid(e.Data) {
			return selected{text: string(e.Data), present: true}, nil // non-JSON text payload
		}
		return selected{}, v.dataErr
	}
	x := v.data
	for _, seg := range p {
		switch c := x.(type) {
		case map[string]any:
			m, ok := c[seg]
			if !ok {
				return selected{}, nil
			}
			x = m
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return selected{}, nil
			}
			x = c[i]
		default:
			return selected{}, nil
		}
	}
	return jsonText(x)
}

// decodeData decodes a JSON payload; a payload declared as something
// other than JSON is an error.
func decodeData(e *pipeline.Event) (any, error) {
	if ct := e.DataContentType; !pipeline.IsJSONContentType(ct) {
		return nil, fmt.Errorf("data is %s, not JSON", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(e.Data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("data is not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("data is not JSON: more than one value")
	}
	return x, nil
}

// jsonText turns a decoded JSON value into selected text.
func jsonText(x any) (selected, error) {
	switch c := x.(type) {
	case nil:
		return selected{}, nil
	case string:
		return selected{text: c, present: true}, nil
	case bool:
		return selected{text: strconv.FormatBool(c), present: true, isBool: true, boolean: c}, nil
	case json.Number:
		return selected{text: c.String(), present: true}, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return selected{}, fmt.Errorf("encode selected value: %w", err)
	}
	return selected{text: strings.TrimSuffix(b.String(), "\n"), present: true}, nil
}
