package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
)

// Load reads the config file at path and parses it with Parse, taking
// ${VAR} values from the process environment. A file that cannot be read
// is an ordinary wrapped error (errors.Is(err, fs.ErrNotExist) works); an
// invalid file is an Errors.
func Load(path string, regs pipeline.Registries) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, regs, os.LookupEnv)
}

// Parse decodes, interpolates and validates the config file data. name is
// used in positions and resolves relative ${file:...} paths; env looks up
// ${VAR} references (nil means no variables are set). Components are
// looked up in regs.
//
// If the file is invalid, Parse returns a nil File and an Errors listing
// every problem, sorted by position.
func Parse(name string, data []byte, regs pipeline.Registries, env func(string) (string, bool)) (*File, error) {
	return ParseAll([]Source{{Name: name, Data: data}}, regs, env)
}

// parseRoot decodes and validates the document root (of the file name,
// or of files merged), reporting into p.errs.
func (p *parser) parseRoot(root *yaml.Node, name string, regs pipeline.Registries, env func(string) (string, bool)) (*File, error) {
	errs := p.errs
	ip := newInterpolator(name, env)
	ip.dirOf = errs.dirOf
	p.dec = newDecoder(errs, ip)
	doc := defaultDocument()
	p.dec.decode(root, reflect.ValueOf(&doc).Elem(), "")
	if r := resolveAlias(root); r == nil || r.Kind != yaml.MappingNode {
		// Nothing else can be checked.
		return nil, errs.result()
	}
	p.validateSettings(&doc)
	spec := pipeline.Spec{
		Sources:         p.buildSources(doc.Sources, regs.Sources),
		Sinks:           p.buildSinks(doc.Sinks, regs.Sinks),
		Routes:          p.buildRoutes(doc.Routes),
		ShutdownTimeout: doc.ShutdownTimeout,
		OrphanCursorTTL: doc.Journal.OrphanCursorTTL,
	}
	p.checkReferences(&doc)
	if err := errs.result(); err != nil {
		return nil, err
	}
	return &File{
		Name:            name,
		Journal:         doc.Journal,
		Admin:           doc.Admin,
		Log:             doc.Log,
		ShutdownTimeout: doc.ShutdownTimeout,
		Pipeline:        spec,
		Warnings:        errs.sortedWarnings(),
		nodes:           p.dec.values,
		secrets:         errs.secrets,
		origins:         errs.origins,
		files:           errs.files,
	}, nil
}

// parser holds the state of one Parse.
type parser struct {
	errs *collector
	dec  *decoder
}

// parseYAML returns the root node of the only document in data, or nil
// after reporting why there is none.
func (p *parser) parseYAML(data []byte) (root *yaml.Node) {
	defer func() {
		// The YAML library must not take the process down on hostile
		// input; report it as a syntax error instead.
		if r := recover(); r != nil {
			p.errs.add(nil, "", nil, "syntax error: YAML parser failed: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errs.add(nil, "", nil, "config is empty")
		} else {
			p.syntaxError(err, data)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		p.errs.add(&next, "", nil, "a config file holds one YAML document; remove this one or the --- before it")
		return nil
	case !errors.Is(err, io.EOF):
		p.syntaxError(err, data)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		p.errs.add(nil, "", nil, "config is empty")
		return nil
	}
	return doc.Content[0]
}

var (
	yamlErrorPattern     = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
	unknownAnchorPattern = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// syntaxError reports a YAML syntax error. The YAML library gives a line
// but no column, so the column is 1.
func (p *parser) syntaxError(err error, data []byte) {
	msg := err.Error()
	line := 1
	if m := yamlErrorPattern.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = m[2]
	}
	pos := &yaml.Node{Line: line, Column: 1}
	if m := unknownAnchorPattern.FindStringSubmatch(msg); m != nil {
		pos = findText(data, "*"+m[1])
		msg = "alias *" + m[1] + " refers to an undefined anchor (define it with &" + m[1] + " before use)"
	} else if l, c, hint, ok := syntaxHint(msg, data, line); ok {
		pos = &yaml.Node{Line: l, Column: c}
		msg += " (" + hint + ")"
	}
	p.errs.add(pos, "", err, "syntax error: %s", msg)
}

// flowReferencePattern matches an unquoted ${...} in a flow collection,
// which YAML reads as the start of a nested mapping.
var flowReferencePattern = regexp.MustCompile(`[{\[].*[{\[,:]\s*\$\{`)

// findText returns the position of the first occurrence of s in data.
func findText(data []byte, s string) *yaml.Node {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return nil
	}
	before := data[:i]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len([]rune(string(before[bytes.LastIndexByte(before, '\n')+1:]))) + 1
	return &yaml.Node{Line: line, Column: col}
}
