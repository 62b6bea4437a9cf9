package schemagen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/sluice-dev/sluice/pipeline"
)

// Module is the import path of the module the generator documents.
const Module = "github.com/sluice-dev/sluice"

// SchemaFile is where the schema is checked in, relative to the module
// root (cmd/sluice embeds it for `sluice schema`).
const SchemaFile = "cmd/sluice/schema.json"

// Files generates every file from the module at root: the JSON Schema,
// docs/config.md and one page per source and sink type in regs
// (docs/sources/TYPE.md, docs/sinks/TYPE.md), keyed by path relative to
// root. Pages include examples/source-TYPE.yaml or examples/sink-TYPE.yaml
// and its test file when they exist.
func Files(root string, regs pipeline.Registries) (map[string][]byte, error) {
	comments, err := ExtractComments(root, Module)
	if err != nil {
		return nil, fmt.Errorf("doc comments: %w", err)
	}
	s, err := Generate(regs, comments)
	if err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(s.Root, "", "  ")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{SchemaFile: append(js, '\n')}
	d := &docs{schema: s, comments: comments, root: root}
	out["docs/config.md"] = d.configPage()
	for _, c := range s.Components {
		page, err := d.componentPage(c)
		if err != nil {
			return nil, err
		}
		out[filepath.Join("docs", c.Kind+"s", c.Type+".md")] = page
	}
	return out, nil
}

// Write writes Files into root, and removes component pages no
// component generates any more.
func Write(root string, regs pipeline.Registries) error {
	files, err := Files(root, regs)
	if err != nil {
		return err
	}
	for _, p := range staleExtras(root, files) {
		if err := os.Remove(filepath.Join(root, p)); err != nil {
			return err
		}
	}
	for p, b := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ErrStale is returned by Check when a generated file is out of date.
var ErrStale = errors.New("generated files are stale; run: go generate ./cmd/sluice")

// Check compares the checked-in files with what Files generates now and
// returns ErrStale naming each one that differs, is missing, or is a
// component page no component generates.
func Check(root string, regs pipeline.Registries) error {
	files, err := Files(root, regs)
	if err != nil {
		return err
	}
	var stale []string
	for p, b := range files {
		got, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || !bytes.Equal(got, b) {
			stale = append(stale, p)
		}
	}
	stale = append(stale, staleExtras(root, files)...)
	if len(stale) == 0 {
		return nil
	}
	slices.Sort(stale)
	return fmt.Errorf("%w: %v", ErrStale, stale)
}

// staleExtras lists docs/sources and docs/sinks pages not in files.
func staleExtras(root string, files map[string][]byte) []string {
	var out []string
	for _, dir := range []string{"docs/sources", "docs/sinks"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if _, ok := files[p]; !ok && filepath.Ext(p) == ".md" {
				out = append(out, p)
			}
		}
	}
	return out
}
