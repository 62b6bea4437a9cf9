package k8ssink

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"text/template"
	"time"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// view is what rule templates see: {{.Subject}}, {{.Data.probe}},
// {{index .Attributes "node"}}, {{.Time.Format "15:04"}}.
type view struct {
	ID, Source, Type, Subject, Origin, Severity string
	Time                                        time.Time
	Sequence                                    uint64
	// Key is the delivery's idempotency key.
	Key string
	// Attributes are the event's extension attributes.
	Attributes map[string]string
	// Data is the event's data decoded as JSON (nil when it is not JSON).
	Data any
}

func newView(d *pipeline.Delivery) view {
	e := &d.Event
	v := view{
		ID: e.ID, Source: e.Source, Type: e.Type, Subject: e.Subject, Origin: e.Origin,
		Severity: e.Severity.String(), Time: e.Time, Sequence: e.Sequence, Key: d.Key,
		Attributes: e.Extensions,
	}
	if v.Attributes == nil {
		v.Attributes = map[string]string{}
	}
	if len(e.Data) > 0 && pipeline.IsJSONContentType(e.DataContentType) {
		var data any
		if json.Unmarshal(e.Data, &data) == nil {
			v.Data = data
		}
	}
	return v
}

// templateFuncs are the functions templates may call besides text/template's.
var templateFuncs = template.FuncMap{
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"camel": camel,
	// default returns def when v is empty or missing.
	"default": func(def string, v any) string {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
		if v == nil {
			return def
		}
		if s := strings.TrimSpace(toString(v)); s != "" {
			return s
		}
		return def
	},
	"trunc": func(n int, s string) string { return truncate(s, n) },
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// field is one compiled template; a nil *field renders its default.
type field struct{ tpl *template.Template }

// compileField parses src and runs it over an empty event, so that a
// field that cannot exist ({{.Nope}}) is a config error.
func compileField(name, src string) (*field, error) {
	if src == "" {
		return nil, nil
	}
	tpl, err := template.New(name).Funcs(templateFuncs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, err
	}
	if err := tpl.Execute(new(bytes.Buffer), view{Attributes: map[string]string{}, Data: map[string]any{}}); err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), "k8ssink.view", "event"))
	}
	return &field{tpl: tpl}, nil
}

// render executes the field over v, trimmed of surrounding space. A
// missing data member renders as "" rather than "<no value>".
func (f *field) render(v *view, def string) (string, error) {
	if f == nil {
		return def, nil
	}
	var b strings.Builder
	if err := f.tpl.Execute(&b, v); err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.ReplaceAll(b.String(), "<no value>", "")), nil
}

// camel turns an event type (minus a "sluice." prefix) into CamelCase:
// "sluice.probe.state" -> "ProbeState". Anything but ASCII letters and
// digits separates words.
func camel(s string) string {
	s = strings.TrimPrefix(s, eventtypes.Prefix)
	var b strings.Builder
	up := true
	for _, r := range s {
		isAlnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !isAlnum {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "Event"
	}
	return b.String()
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
