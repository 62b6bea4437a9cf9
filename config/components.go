package config

import (
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
)

// buildSources looks up each source's factory and decodes and validates
// its `with` over the factory's defaults.
func (p *parser) buildSources(entries []sourceEntry, reg *pipeline.Registry[pipeline.SourceFactory]) []pipeline.SourceSpec {
	var specs []pipeline.SourceSpec
	for i, e := range entries {
		path := indexPath("sources", i)
		f, ok := lookup(reg, e.Type)
		if !ok {
			p.unknownType(path, "source", e.Type, types(reg))
			continue
		}
		cfg, ok := p.componentConfig(path, e.Type, f.DefaultConfig(), e.With)
		if !ok {
			continue
		}
		specs = append(specs, pipeline.SourceSpec{Name: e.Name, Type: e.Type, Config: cfg})
	}
	return specs
}

// buildSinks is buildSources for sinks, adding their retry and batch
// settings.
func (p *parser) buildSinks(entries []sinkEntry, reg *pipeline.Registry[pipeline.SinkFactory]) []pipeline.SinkSpec {
	var specs []pipeline.SinkSpec
	for i := range entries {
		e := &entries[i]
		path := indexPath("sinks", i)
		p.validateTree(reflect.ValueOf(&e.Retry), joinPath(path, "retry"), 0)
		p.validateTree(reflect.ValueOf(&e.Batch), joinPath(path, "batch"), 0)
		f, ok := lookup(reg, e.Type)
		if !ok {
			p.unknownType(path, "sink", e.Type, types(reg))
			continue
		}
		cfg, ok := p.componentConfig(path, e.Type, f.DefaultConfig(), e.With)
		if !ok {
			continue
		}
		spec := pipeline.SinkSpec{Name: e.Name, Type: e.Type, Config: cfg, Retry: e.Retry, Batch: e.Batch, StartAt: e.StartAt,
			Fingerprint: fingerprint(e.Throttle)}
		if e.Throttle != nil {
			if t, ok := p.compileThrottle(joinPath(path, "throttle"), e.Throttle); ok {
				spec.Throttle = t
			}
		}
		specs = append(specs, spec)
	}
	return specs
}

// componentConfig decodes with over cfg, the factory's defaults, and
// validates the result.
func (p *parser) componentConfig(path, typ string, cfg pipeline.Config, with *yaml.Node) (pipeline.Config, bool) {
	wp := joinPath(path, "with")
	rv := reflect.ValueOf(cfg)
	if cfg == nil || rv.Kind() != reflect.Pointer || rv.IsNil() {
		p.errs.add(p.dec.valueNode(joinPath(path, "type")), joinPath(path, "type"), nil,
			"%s", fmt.Sprintf("type %q: DefaultConfig returned %T; want a non-nil pointer (this is a bug in the component)", typ, cfg))
		return nil, false
	}
	if with == nil || isNull(resolveAlias(with)) {
		p.dec.checkRequired(rv.Type(), wp)
	} else {
		p.dec.decode(with, rv.Elem(), wp)
	}
	p.validateTree(rv, wp, 0)
	return cfg, true
}

func (p *parser) unknownType(path, kind, typ string, known []string) {
	if typ == "" {
		return // reported as a missing required key
	}
	tp := joinPath(path, "type")
	list := "none are registered"
	if len(known) > 0 {
		list = "known: " + joinNames(known)
	}
	p.errs.addCovering(p.dec.valueNode(tp), tp, path, pipeline.ErrUnknownType,
		"unknown %s type %q%s; %s", kind, typ, didYouMean(typ, known), list)
}

// lookup is Registry.Lookup that tolerates a nil registry.
func lookup[F pipeline.Factory](r *pipeline.Registry[F], typ string) (F, bool) {
	if r == nil {
		var zero F
		return zero, false
	}
	return r.Lookup(typ)
}

func types[F pipeline.Factory](r *pipeline.Registry[F]) []string {
	if r == nil {
		return nil
	}
	return r.Types()
}
