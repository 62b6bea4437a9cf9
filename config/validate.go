package config

import (
	"errors"
	"net"
	"reflect"
	"slices"

	"github.com/sluice-dev/sluice/pipeline"
)

var validatorType = reflect.TypeFor[pipeline.Config]()

// validateTree calls Validate on v and on every struct, list element and
// map value below it that has one (as otel's confmap does), reporting each
// problem at the position of the field it names. Problems below a value
// that failed to decode are dropped: the decoding error already explains
// them. Duplicates, from a Validate that also validates its nested
// configs, are dropped when the errors are sorted.
func (p *parser) validateTree(v reflect.Value, path string, depth int) {
	if depth > 32 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			p.validateTree(v.Elem(), path, depth+1)
		}
		return
	case reflect.Slice:
		for i := range v.Len() {
			p.validateTree(v.Index(i), indexPath(path, i), depth+1)
		}
		return
	case reflect.Map:
		keys := v.MapKeys()
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			switch {
			case a.String() < b.String():
				return -1
			case a.String() > b.String():
				return 1
			}
			return 0
		})
		for _, k := range keys {
			c := reflect.New(v.Type().Elem()).Elem()
			c.Set(v.MapIndex(k))
			p.validateTree(c, joinPath(path, k.String()), depth+1)
		}
		return
	case reflect.Struct:
		if v.Type() == nodeType {
			return
		}
	default:
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(validatorType) {
		p.report(path, v.Addr().Interface().(pipeline.Config).Validate())
	}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := parseTag(sf)
		if tag.skip || !sf.IsExported() && !tag.inline {
			continue
		}
		fp := path
		if !tag.inline {
			fp = joinPath(path, tag.name)
		}
		p.validateTree(v.Field(i), fp, depth+1)
	}
}

// report maps the errors a Validate method returned for the value at path
// to positions: a pipeline.FieldError at its field's node, or the nearest
// ancestor that was written; any other error at path.
func (p *parser) report(path string, err error) {
	for _, e := range pipeline.Unjoin(err) {
		full, msg, cause := path, e.Error(), e
		var fe *pipeline.FieldError
		if errors.As(e, &fe) {
			full, msg, cause = joinPath(path, fe.Field), fe.Err.Error(), fe.Err
		}
		if p.errs.covered(full) {
			continue
		}
		p.errs.addValidation(p.dec.valueNode(full), full, cause, msg)
	}
}

// validateSettings validates the journal, admin and log sections and
// shutdown_timeout.
func (p *parser) validateSettings(doc *document) {
	p.validateTree(reflect.ValueOf(&doc.Journal), "journal", 0)
	p.validateTree(reflect.ValueOf(&doc.Admin), "admin", 0)
	p.validateTree(reflect.ValueOf(&doc.Log), "log", 0)
	if doc.ShutdownTimeout <= 0 {
		p.report("shutdown_timeout", errors.New("must be positive, got "+doc.ShutdownTimeout.String()))
	}
	p.warnExposedAdmin(doc.Admin)
}

// warnExposedAdmin warns when the admin TCP listener is reachable from
// other hosts: its metrics always, and with api: tcp the admin API, whose
// token crosses the network in clear without tls.
func (p *parser) warnExposedAdmin(c AdminConfig) {
	if !c.Enabled() || p.errs.covered("admin.listen") {
		return
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil || host == "localhost" {
		return
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return
	}
	what := "the admin endpoint (health, readiness, metrics)"
	if c.APIOnTCP() {
		what = "the admin API (journal, dead letters, replay, export)"
	}
	p.errs.warn(p.dec.valueNode("admin.listen"), "admin.listen",
		"%s is reachable from other hosts; listen on 127.0.0.1 unless that is intended", what)
	if c.APIOnTCP() && c.TLS.IsZero() {
		p.errs.warn(p.dec.valueNode("admin.listen"), "admin.listen",
			"the admin API's bearer token crosses the network in clear: set admin.tls.cert_file and admin.tls.key_file")
	}
}
