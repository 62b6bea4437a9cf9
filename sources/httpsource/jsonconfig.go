package httpsource

import (
	"net/url"
	"strings"
	"text/template"
	"unicode"

	"github.com/sluice-dev/sluice/pipeline"
)

// Body formats (format).
const (
	// FormatCloudEvents accepts CloudEvents in structured, batched or
	// binary mode.
	FormatCloudEvents = "cloudevents"
	// FormatJSON accepts any JSON value, or an array of them, and makes
	// each a CloudEvent with event_source and event_type.
	FormatJSON = "json"
)

// BodyFormat is what requests carry, and in the plain JSON format how
// each JSON value becomes a CloudEvent.
type BodyFormat struct {
	// Format is "cloudevents" (default: CloudEvents in structured,
	// batched or binary mode) or "json": the body is any JSON value, or a
	// JSON array whose elements are one event each, the value being the
	// event's data (application/json).
	Format string `yaml:"format"`
	// EventSource is the CloudEvents source of the events of the json
	// format, a URI-reference such as /myapp or urn:example:logs;
	// required with format: json.
	EventSource string `yaml:"event_source"`
	// EventType is the CloudEvents type of the events of the json format,
	// such as com.example.log; required with format: json.
	EventType string `yaml:"event_type"`
	// EventID optionally renders each event's id from its JSON value with
	// a Go template, such as '{{.request_id}}' (a missing key fails the
	// request with 400). Without it every event gets a fresh UUIDv7, so a
	// retried request is appended again; with it the id, and the
	// idempotency key sinks see, is the producer's.
	EventID string `yaml:"event_id"`
	// EventSubject optionally renders each event's subject from its JSON
	// value with a Go template, such as '{{.host}}'; an empty result
	// leaves the subject unset.
	EventSubject string `yaml:"event_subject"`
}

// jsonTemplates are the compiled id and subject templates (nil when
// unset).
type jsonTemplates struct {
	id, subject *template.Template
}

// parseJSONTemplate parses an event_id or event_subject template. The
// templates see the request's JSON value, objects as maps, so a key that
// is missing is an error rather than "<no value>".
func parseJSONTemplate(name, src string) (*template.Template, error) {
	if src == "" {
		return nil, nil
	}
	return template.New(name).Option("missingkey=error").Parse(src)
}

// compile returns f's templates; Validate has checked they parse.
func (f *BodyFormat) compile() (jsonTemplates, error) {
	id, err := parseJSONTemplate("event_id", f.EventID)
	if err != nil {
		return jsonTemplates{}, err
	}
	subject, err := parseJSONTemplate("event_subject", f.EventSubject)
	return jsonTemplates{id: id, subject: subject}, err
}

// validate returns f's problems as field errors.
func (f *BodyFormat) validate() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	switch f.Format {
	case "", FormatCloudEvents:
		for _, x := range []struct{ field, v string }{
			{"event_source", f.EventSource}, {"event_type", f.EventType}, {"event_id", f.EventID}, {"event_subject", f.EventSubject},
		} {
			if x.v != "" {
				add(x.field, "applies only with format: json (CloudEvents carry their own attributes)")
			}
		}
		return errs
	case FormatJSON:
	default:
		add("format", "must be %s or %s, got %q", FormatCloudEvents, FormatJSON, f.Format)
		return errs
	}
	if f.EventSource == "" {
		add("event_source", "is required with format: json (a URI-reference such as /myapp)")
	} else if _, err := url.Parse(f.EventSource); err != nil || strings.ContainsFunc(f.EventSource, unicode.IsControl) {
		add("event_source", "must be a URI-reference, got %q", f.EventSource)
	}
	if f.EventType == "" {
		add("event_type", "is required with format: json (such as com.example.log)")
	} else if strings.ContainsFunc(f.EventType, unicode.IsControl) {
		add("event_type", "must not contain control characters, got %q", f.EventType)
	}
	for _, x := range []struct{ field, v string }{{"event_id", f.EventID}, {"event_subject", f.EventSubject}} {
		if _, err := parseJSONTemplate(x.field, x.v); err != nil {
			add(x.field, "%v", err)
		}
	}
	return errs
}
