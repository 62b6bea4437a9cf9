package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"strings"
	"text/template"
	"time"

	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/pipeline"
)

// reservedAttributes cannot be set, renamed or dropped by a transform:
// they are CloudEvents context attributes or Sluice's own (type and
// subject have their own transform fields).
var reservedAttributes = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true, "time": true,
	"datacontenttype": true, "dataschema": true, "data": true, "data_base64": true,
	"severity": true, "sequence": true, "traceparent": true,
}

// templateEvent is what transform templates see: {{.Type}},
// {{.Subject}}, {{index .Attributes "region"}}, {{.Time.Format "..."}}.
type templateEvent struct {
	ID, Source, Type, Subject, Origin, Severity string
	DataContentType, DataSchema                 string
	Time                                        time.Time
	Sequence                                    uint64
	Attributes                                  map[string]string
}

func newTemplateEvent(e *pipeline.Event) templateEvent {
	return templateEvent{
		ID: e.ID, Source: e.Source, Type: e.Type, Subject: e.Subject, Origin: e.Origin, Severity: e.Severity.String(),
		DataContentType: e.DataContentType, DataSchema: e.DataSchema, Time: e.Time, Sequence: e.Sequence,
		Attributes: attributesOf(e),
	}
}

// compileTransform compiles a route's transform, reporting problems under
// path. It returns nil when the transform changes nothing.
func (p *parser) compileTransform(path string, c *TransformConfig) (pipeline.EventTransformer, bool) {
	t := &transformer{rename: c.Rename, drop: c.Drop, set: map[string]*template.Template{}}
	ok := true
	checkName := func(field, name, what string) {
		switch {
		case reservedAttributes[name]:
			p.report(field, fmt.Errorf("cannot %s %q: it is a CloudEvents context attribute, not an extension (use transform.type or transform.subject for those)", what, name))
			ok = false
		case strings.HasPrefix(name, "sluice"):
			p.report(field, fmt.Errorf("cannot %s %q: sluice* attributes are reserved to the engine", what, name))
			ok = false
		case !isExtensionName(name):
			p.report(field, fmt.Errorf("cannot %s %q: extension attribute names are lower-case letters and digits", what, name))
			ok = false
		}
	}
	compile := func(field, src string) *template.Template {
		tpl, err := parseTemplate(src)
		if err != nil {
			p.report(field, err)
			ok = false
		}
		return tpl
	}
	for k, v := range c.Set {
		f := joinPath(joinPath(path, "set"), k)
		checkName(f, k, "set")
		t.set[k] = compile(f, v)
		t.setNames = append(t.setNames, k)
	}
	for from, to := range c.Rename {
		f := joinPath(joinPath(path, "rename"), from)
		checkName(f, from, "rename")
		checkName(f, to, "rename to")
	}
	for i, name := range c.Drop {
		checkName(indexPath(joinPath(path, "drop"), i), name, "drop")
	}
	if c.Type != "" {
		t.typ = compile(joinPath(path, "type"), c.Type)
	}
	if c.Subject != "" {
		t.subject = compile(joinPath(path, "subject"), c.Subject)
	}
	if !ok {
		return nil, false
	}
	if len(t.set) == 0 && len(t.rename) == 0 && len(t.drop) == 0 && t.typ == nil && t.subject == nil {
		return nil, true
	}
	return t, true
}

// parseTemplate parses a transform template and checks it against a
// sample event, so that a field that cannot exist ({{.Nope}}) is a
// config error, not a failure per event.
func parseTemplate(src string) (*template.Template, error) {
	tpl, err := template.New("transform").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	sample := templateEvent{Attributes: map[string]string{}}
	if err := tpl.Option("missingkey=zero").Execute(new(bytes.Buffer), sample); err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), "config.templateEvent", "event"))
	}
	tpl.Option("missingkey=error")
	return tpl, nil
}

// transformer is a compiled route transform. Order: rename, drop, set,
// then type and subject, all templates seeing the event as it arrived.
// The kvp* attributes it sets are listed in reserved.ExtTransformSet.
type transformer struct {
	set map[string]*template.Template
	// setNames are the keys of set, for reserved.MarkTransformSet.
	setNames []string
	rename   map[string]string
	drop     []string
	typ      *template.Template
	subject  *template.Template
}

// Transform implements pipeline.EventTransformer.
func (t *transformer) Transform(e pipeline.Event) (pipeline.Event, error) {
	view := newTemplateEvent(&e)
	ext := maps.Clone(e.Extensions)
	if ext == nil {
		ext = map[string]string{}
	}
	for from, to := range t.rename {
		if v, ok := ext[from]; ok {
			delete(ext, from)
			ext[to] = v
		}
	}
	for _, name := range t.drop {
		delete(ext, name)
	}
	var buf strings.Builder
	render := func(tpl *template.Template) (string, error) {
		buf.Reset()
		if err := tpl.Execute(&buf, view); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	for k, tpl := range t.set {
		v, err := render(tpl)
		if err != nil {
			return e, fmt.Errorf("set %s: %w", k, err)
		}
		ext[k] = v
	}
	if t.typ != nil {
		v, err := render(t.typ)
		if err != nil {
			return e, fmt.Errorf("type: %w", err)
		}
		if v == "" {
			return e, fmt.Errorf("type: template yields an empty type")
		}
		e.Type = v
	}
	if t.subject != nil {
		v, err := render(t.subject)
		if err != nil {
			return e, fmt.Errorf("subject: %w", err)
		}
		e.Subject = v
	}
	// The kvp* attributes this transform set are the only ones the KVP
	// sink honours.
	reserved.MarkTransformSet(ext, t.setNames)
	if len(ext) == 0 {
		ext = nil
	}
	e.Extensions = ext
	return e, nil
}
