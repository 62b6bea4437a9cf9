package pipeline

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"mime"
	"slices"
	"strconv"
)

// CloudEventsSpecVersion is the CloudEvents version Sluice speaks.
const CloudEventsSpecVersion = "1.0"

// reservedAttributes are the CloudEvents context attributes and Sluice
// extensions that have their own Event fields.
var reservedAttributes = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true,
	"time": true, "datacontenttype": true, "dataschema": true, "data": true,
	"data_base64": true, "severity": true, "sequence": true, "traceparent": true,
}

// MarshalCloudEventJSON encodes e in the CloudEvents JSON structured format.
// JSON data (by datacontenttype, or absent type with valid JSON) is embedded
// as "data"; anything else is "data_base64". The sequence extension is
// written when e.Sequence is set. Extensions named like a reserved
// attribute are ignored. See AppendCloudEventJSON.
func MarshalCloudEventJSON(e *Event) ([]byte, error) {
	return AppendCloudEventJSON(make([]byte, 0, 256+len(e.Data)), e), nil
}

// ErrInvalidCloudEvent is returned (wrapped) by UnmarshalCloudEventJSON and
// ValidateCloudEvent for input that is not a valid CloudEvent.
var ErrInvalidCloudEvent = errors.New("invalid cloudevent")

// UnmarshalCloudEventJSON decodes one CloudEvent in the JSON structured
// format. It checks specversion and the required attributes and keeps
// extension attributes (as strings) in Extensions. Of several invalid
// attributes, the error names the first in document order.
func UnmarshalCloudEventJSON(b []byte) (Event, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrInvalidCloudEvent, err)
	}
	if raw == nil {
		return Event{}, fmt.Errorf("%w: not a JSON object", ErrInvalidCloudEvent)
	}
	attrs, data, err := jsonAttributes(raw, maps.Keys(raw))
	if err != nil {
		// Map order varies: name the first invalid member in the document.
		if _, _, first := jsonAttributes(raw, slices.Values(memberNames(b))); first != nil {
			err = first
		}
		return Event{}, err
	}
	if _, ok := raw["data"]; ok {
		if _, both := raw["data_base64"]; both {
			return Event{}, fmt.Errorf("%w: both data and data_base64 present", ErrInvalidCloudEvent)
		}
		// JSON data is kept as its JSON text; a JSON string with a
		// non-JSON content type is the string itself.
		var s string
		if !IsJSONContentType(attrs["datacontenttype"]) && json.Unmarshal(data, &s) == nil {
			data = []byte(s)
		} else if string(data) == "null" {
			data = nil
		}
	}
	return eventFromAttributes(attrs, data, func() []string { return memberNames(b) })
}

// jsonAttributes converts the members of a JSON event, taken in the order
// names gives, to attributes and data.
func jsonAttributes(raw map[string]json.RawMessage, names iter.Seq[string]) (map[string]string, []byte, error) {
	attrs := make(map[string]string, len(raw))
	var data []byte
	for k := range names {
		v := raw[k]
		switch k {
		case "data":
			data = v
			continue
		case "data_base64":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, nil, fmt.Errorf("%w: data_base64 must be a string", ErrInvalidCloudEvent)
			}
			d, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: data_base64: %w", ErrInvalidCloudEvent, err)
			}
			if data != nil {
				return nil, nil, fmt.Errorf("%w: both data and data_base64 present", ErrInvalidCloudEvent)
			}
			data = d
			if data == nil {
				data = []byte{}
			}
			continue
		}
		s, err := attributeString(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: attribute %q: %w", ErrInvalidCloudEvent, k, err)
		}
		attrs[k] = s
	}
	return attrs, data, nil
}

// memberNames returns the member names of the JSON object b, valid JSON,
// in document order, each once.
func memberNames(b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	var names []string
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return names
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return names
		}
		if k, ok := tok.(string); ok && !seen[k] {
			seen[k] = true
			names = append(names, k)
		}
	}
	return names
}

// EventFromAttributes builds an Event from CloudEvents context attributes
// (as strings, as in the HTTP binary mode) and data, validating them. Of
// several invalid extension names, the error names the first in sorted
// order.
func EventFromAttributes(attrs map[string]string, data []byte) (Event, error) {
	return eventFromAttributes(attrs, data, func() []string { return slices.Sorted(maps.Keys(attrs)) })
}

// eventFromAttributes is EventFromAttributes; order gives the attribute
// names in the order the first invalid extension name is looked for.
func eventFromAttributes(attrs map[string]string, data []byte, order func() []string) (Event, error) {
	var e Event
	if v := attrs["specversion"]; v != CloudEventsSpecVersion {
		if v == "" {
			return e, fmt.Errorf("%w: missing specversion", ErrInvalidCloudEvent)
		}
		return e, fmt.Errorf("%w: unsupported specversion %q (want %s)", ErrInvalidCloudEvent, v, CloudEventsSpecVersion)
	}
	e.ID, e.Source, e.Type = attrs["id"], attrs["source"], attrs["type"]
	e.Subject = attrs["subject"]
	e.DataContentType = attrs["datacontenttype"]
	e.DataSchema = attrs["dataschema"]
	e.TraceParent = attrs["traceparent"]
	e.Data = data
	if t := attrs["time"]; t != "" {
		ts, err := ParseTime(t)
		if err != nil {
			return e, fmt.Errorf("%w: time %q is not RFC 3339", ErrInvalidCloudEvent, t)
		}
		e.Time = ts
		e.TimeGiven = ts.IsZero()
	}
	if s := attrs["severity"]; s != "" {
		sev, err := ParseSeverity(s)
		if err != nil {
			return e, fmt.Errorf("%w: %w", ErrInvalidCloudEvent, err)
		}
		e.Severity = sev
	}
	if s := attrs["sequence"]; s != "" {
		seq, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return e, fmt.Errorf("%w: sequence %q is not an unsigned integer", ErrInvalidCloudEvent, s)
		}
		e.Sequence = seq
	}
	for k, v := range attrs {
		if reservedAttributes[k] {
			continue
		}
		if !validExtensionName(k) {
			for _, name := range order() {
				if _, ok := attrs[name]; ok && !reservedAttributes[name] && !validExtensionName(name) {
					k = name
					break
				}
			}
			return e, fmt.Errorf("%w: attribute name %q must be lower-case letters and digits", ErrInvalidCloudEvent, k)
		}
		if e.Extensions == nil {
			e.Extensions = make(map[string]string)
		}
		e.Extensions[k] = v
	}
	return e, ValidateCloudEvent(&e)
}

// ValidateCloudEvent checks the attributes CloudEvents requires.
func ValidateCloudEvent(e *Event) error {
	var errs []error
	if e.ID == "" {
		errs = append(errs, errors.New("missing id"))
	}
	if e.Source == "" {
		errs = append(errs, errors.New("missing source"))
	}
	if e.Type == "" {
		errs = append(errs, errors.New("missing type"))
	}
	if e.DataContentType != "" {
		if _, _, err := mime.ParseMediaType(e.DataContentType); err != nil {
			errs = append(errs, fmt.Errorf("datacontenttype %q: %w", e.DataContentType, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidCloudEvent, errors.Join(errs...))
	}
	return nil
}

// CloneEvent returns a deep copy of e.
func CloneEvent(e Event) Event {
	if e.Data != nil {
		e.Data = append([]byte(nil), e.Data...)
	}
	if e.Extensions != nil {
		e.Extensions = maps.Clone(e.Extensions)
	}
	return e
}

func attributeString(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return n.String(), nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return strconv.FormatBool(b), nil
	}
	return "", errors.New("must be a string, number or boolean")
}

func validExtensionName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
