package config

import (
	"errors"
	"strings"

	"github.com/sluice-dev/sluice/pipeline"
)

// Component kinds for Locate.
const (
	KindSource = "sources"
	KindSink   = "sinks"
)

// Locate turns err, which the component at index of kind (KindSource or
// KindSink, in file order) returned after loading (pipeline.Provision's
// errors: a missing certificate, an unreadable secret), into Errors at
// positions in the file, so that `sluice validate` reports them as
// FILE:LINE:COL like every other problem. Each joined error is placed at
// the setting it names: a pipeline.FieldError's Field, or a message that
// starts with a setting of the component's `with` ("tls.ca_file: open
// ..."); otherwise at the component's `with`, or its entry. nil stays nil.
func (f *File) Locate(kind string, index int, err error) error {
	if err == nil {
		return nil
	}
	base := indexPath(kind, index)
	return f.locateAt(base, joinPath(base, "with"), err)
}

// LocateSection is Locate for the errors of reading what a settings
// section names (section "admin": its TLS files, its token file): each is
// placed at the setting of the section it names ("tls.cert_file: open
// ..."), or at the section.
func (f *File) LocateSection(section string, err error) error {
	if err == nil {
		return nil
	}
	return f.locateAt(section, section, err)
}

// locateAt places err's errors at settings below with, or at with, or at
// base.
func (f *File) locateAt(base, with string, err error) error {
	c := &collector{file: f.Name, secrets: f.secrets, origins: f.origins, files: f.files}
	if len(f.files) > 0 {
		c.file = f.files[0]
	}
	for _, e := range pipeline.Unjoin(err) {
		path, msg := with, e.Error()
		var fe *pipeline.FieldError
		if errors.As(e, &fe) {
			path = joinPath(with, fe.Field)
		} else if field, ok := f.namedSetting(with, msg); ok {
			path = joinPath(with, field)
		}
		n := f.nodes[path]
		if n == nil {
			n = f.nodes[with]
		}
		if n == nil {
			n = f.nodes[base]
		}
		c.add(n, path, e, "%s", msg)
	}
	return c.result()
}

// namedSetting returns the setting below with that msg names: the first
// of its ": "-separated leading parts ("sink out: provision: tls.ca_file:
// open ...") that is a value of the file.
func (f *File) namedSetting(with, msg string) (string, bool) {
	parts := strings.Split(msg, ": ")
	for _, field := range parts[:len(parts)-1] {
		if field == "" || strings.ContainsAny(field, " \t") {
			continue
		}
		if _, known := f.nodes[joinPath(with, field)]; known {
			return field, true
		}
	}
	return "", false
}
