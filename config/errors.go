package config

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
)

// Position is a place in a config file. Line and Column start at 1.
type Position struct {
	File   string
	Line   int
	Column int
}

// String formats the position as FILE:LINE:COL.
func (p Position) String() string {
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
}

// Error is one problem found in a config file.
type Error struct {
	Position
	// Path locates the value in the document, e.g. "sinks[0].with.url";
	// it is empty for problems with the document as a whole.
	Path string
	// Message says what is wrong. Messages the loader writes never show an
	// interpolated value; those from a Validate method are the component's.
	Message string

	err error
	// covers is the path whose validation this problem makes moot (a
	// value that failed to decode need not also fail Validate).
	covers string
	// validation marks problems that Validate methods reported.
	validation bool
}

// Error formats the problem as FILE:LINE:COL: PATH: MESSAGE.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.String() + ": " + e.Message
	}
	return e.String() + ": " + e.Path + ": " + e.Message
}

// Unwrap returns the underlying cause, if any: for example
// pipeline.ErrUnknownType for an unknown component type, or the error a
// component's Validate returned.
func (e *Error) Unwrap() error { return e.err }

// Errors is every problem found in a config file, sorted by position.
// Parse and Load return it (as an error) when a file is invalid.
type Errors []*Error

// Error returns one line per problem.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, pipeline.ErrInvalidConfig) true for an invalid
// file.
func (es Errors) Is(target error) bool { return target == pipeline.ErrInvalidConfig }

// Unwrap returns the problems, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

var (
	_ error = (*Error)(nil)
	_ error = Errors(nil)
)

// Warning is something suspicious that does not make a file invalid, such
// as a source that no route reads.
type Warning struct {
	Position
	Path    string
	Message string
}

// String formats the warning as FILE:LINE:COL: warning: PATH: MESSAGE.
func (w Warning) String() string {
	if w.Path == "" {
		return w.Position.String() + ": warning: " + w.Message
	}
	return w.Position.String() + ": warning: " + w.Path + ": " + w.Message
}

// collector gathers the errors and warnings of one parse.
type collector struct {
	file     string
	errs     Errors
	warnings []Warning
	// secrets are the values interpolation produced, which scrub keeps
	// out of every message.
	secrets []secretText
	// scrubList is secrets with their quoted forms, longest first; nil
	// until scrub builds it.
	scrubList []secretText
	// origins names the file of each node when several files were merged
	// (nil for one file); files lists them in order.
	origins map[*yaml.Node]string
	files   []string
}

func (c *collector) position(n *yaml.Node) Position {
	if n == nil || n.Line == 0 {
		return Position{File: c.file, Line: 1, Column: 1}
	}
	file := c.file
	if name, ok := c.origins[n]; ok {
		file = name
	}
	return Position{File: file, Line: n.Line, Column: n.Column}
}

// dirOf is the directory of the file n was written in ("" when only one
// file was parsed: the interpolator's own).
func (c *collector) dirOf(n *yaml.Node) string {
	if name, ok := c.origins[n]; ok {
		return filepath.Dir(name)
	}
	return ""
}

// comparePositions orders by file (in the order given), line, column.
func (c *collector) comparePositions(a, b Position) int {
	return cmp.Or(cmp.Compare(slices.Index(c.files, a.File), slices.Index(c.files, b.File)),
		cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
}

// add records an error at n (nil means the start of the file).
func (c *collector) add(n *yaml.Node, path string, cause error, format string, args ...any) {
	c.push(&Error{Path: path, err: cause, covers: path}, n, format, args...)
}

// addCovering records a decoding error at n that makes validating covers
// moot, such as a missing required key.
func (c *collector) addCovering(n *yaml.Node, path, covers string, cause error, format string, args ...any) {
	c.push(&Error{Path: path, err: cause, covers: covers}, n, format, args...)
}

// addValidation records an error that a Validate method returned.
func (c *collector) addValidation(n *yaml.Node, path string, cause error, msg string) {
	c.push(&Error{Path: path, err: cause, validation: true}, n, "%s", msg)
}

func (c *collector) push(e *Error, n *yaml.Node, format string, args ...any) {
	e.Position = c.position(n)
	e.Message = oneLine(fmt.Sprintf(format, args...))
	c.errs = append(c.errs, e)
}

// warn records a warning at n.
func (c *collector) warn(n *yaml.Node, path, format string, args ...any) {
	c.warnings = append(c.warnings, Warning{
		Position: c.position(n),
		Path:     path,
		Message:  oneLine(fmt.Sprintf(format, args...)),
	})
}

// covered reports whether a decoding problem already explains any
// validation problem at path: one at path, above it or below it.
func (c *collector) covered(path string) bool {
	for _, e := range c.errs {
		if !e.validation && (isUnder(path, e.covers) || isUnder(e.covers, path)) {
			return true
		}
	}
	return false
}

// result returns the sorted, de-duplicated errors, or nil.
func (c *collector) result() error {
	if len(c.errs) == 0 {
		return nil
	}
	type key struct {
		pos           Position
		path, message string
	}
	seen := make(map[key]bool, len(c.errs))
	unique := c.errs[:0]
	for _, e := range c.errs {
		k := key{e.Position, e.Path, e.Message}
		if !seen[k] {
			seen[k] = true
			unique = append(unique, e)
		}
	}
	c.errs = unique
	for _, e := range c.errs {
		e.Message = c.scrub(e.Message)
	}
	slices.SortStableFunc(c.errs, func(a, b *Error) int { return c.comparePositions(a.Position, b.Position) })
	return c.errs
}

func (c *collector) sortedWarnings() []Warning {
	for i := range c.warnings {
		c.warnings[i].Message = c.scrub(c.warnings[i].Message)
	}
	slices.SortStableFunc(c.warnings, func(a, b Warning) int { return c.comparePositions(a.Position, b.Position) })
	return c.warnings
}

// oneLine keeps every problem on one line of output.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}
