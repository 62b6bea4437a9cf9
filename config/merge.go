package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
)

// Source is one config file's name and text, for ParseAll.
type Source struct {
	Name string
	Data []byte
}

// ReadSources reads paths in order: a file as itself, a directory as its
// *.yaml and *.yml files in name order (not descending further). A
// directory without any is an error, as is a path that cannot be read
// (errors.Is(err, fs.ErrNotExist) works).
func ReadSources(paths []string) ([]Source, error) {
	var out []Source
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		names := []string{p}
		if fi.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("read config: %w", err)
			}
			names = names[:0]
			for _, e := range entries {
				if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
					names = append(names, filepath.Join(p, e.Name()))
				}
			}
			if len(names) == 0 {
				return nil, fmt.Errorf("read config: %s: the directory holds no *.yaml or *.yml file", p)
			}
		}
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				return nil, fmt.Errorf("read config: %w", err)
			}
			out = append(out, Source{Name: n, Data: data})
		}
	}
	return out, nil
}

// LoadAll reads paths with ReadSources and parses them with ParseAll,
// taking ${VAR} values from the process environment.
func LoadAll(paths []string, regs pipeline.Registries) (*File, error) {
	srcs, err := ReadSources(paths)
	if err != nil {
		return nil, err
	}
	return ParseAll(srcs, regs, os.LookupEnv)
}

// ParseAll merges the files in order and parses the result as Parse
// does one file; every error and warning names the file and line where
// the value was written. Merging: mappings merge key by key, a later
// value replacing an earlier one (a mapping merging into a mapping);
// in sources, sinks and routes an entry whose name an earlier file
// defined replaces that entry where it stood, others are appended; any
// other list is replaced. Relative ${file:...} paths resolve against the
// directory of the file that holds them. File.Name lists the files
// joined with ", ".
func ParseAll(srcs []Source, regs pipeline.Registries, env func(string) (string, bool)) (*File, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("%w: no config file", pipeline.ErrInvalidConfig)
	}
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = s.Name
	}
	errs := &collector{file: srcs[0].Name}
	if len(srcs) > 1 {
		errs.origins, errs.files = map[*yaml.Node]string{}, names
	}
	p := &parser{errs: errs}
	var root *yaml.Node
	for _, s := range srcs {
		errs.file = s.Name
		r := p.parseYAML(s.Data)
		if r == nil {
			continue
		}
		if errs.origins != nil {
			markOrigin(r, s.Name, errs.origins)
		}
		if root == nil {
			root = r
			continue
		}
		root = mergeNodes(root, r, 0, errs.origins)
	}
	errs.file = srcs[0].Name
	if err := errs.result(); err != nil || root == nil {
		return nil, err
	}
	f, err := p.parseRoot(root, srcs[0].Name, regs, env)
	if f != nil {
		f.Name = strings.Join(names, ", ")
		f.Digest = Digest(srcs)
	}
	return f, err
}

// Digest is the SHA-256 (hex) of the files' names and contents, in
// order: File.Digest of a configuration parsed from srcs.
func Digest(srcs []Source) string {
	h := sha256.New()
	for _, s := range srcs {
		_, _ = fmt.Fprintf(h, "%d:%s\n%d:", len(s.Name), s.Name, len(s.Data))
		h.Write(s.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// markOrigin records name as the file of every node below n.
func markOrigin(n *yaml.Node, name string, origins map[*yaml.Node]string) {
	if n == nil {
		return
	}
	if _, seen := origins[n]; seen {
		return
	}
	origins[n] = name
	for _, c := range n.Content {
		markOrigin(c, name, origins)
	}
	markOrigin(n.Alias, name, origins)
}

// namedLists are the top-level lists whose entries merge by name.
var namedLists = []string{"sources", "sinks", "routes"}

// mergeNodes merges over into base (see ParseAll) and returns the result;
// depth 0 is the document's top level.
func mergeNodes(base, over *yaml.Node, depth int, origins map[*yaml.Node]string) *yaml.Node {
	b, o := resolveAlias(base), resolveAlias(over)
	if b == nil || o == nil || b.Kind != yaml.MappingNode || o.Kind != yaml.MappingNode {
		return over
	}
	out := *b
	out.Content = slices.Clone(b.Content)
	origins[&out] = origins[b]
	for i := 0; i+1 < len(o.Content); i += 2 {
		key, val := o.Content[i], o.Content[i+1]
		j := mappingIndex(&out, key.Value)
		switch {
		case j < 0:
			out.Content = append(out.Content, key, val)
		case depth == 0 && slices.Contains(namedLists, key.Value):
			out.Content[j+1] = mergeNamed(out.Content[j+1], val, origins)
		default:
			out.Content[j+1] = mergeNodes(out.Content[j+1], val, depth+1, origins)
		}
	}
	return &out
}

// mergeNamed merges two lists of named entries.
func mergeNamed(base, over *yaml.Node, origins map[*yaml.Node]string) *yaml.Node {
	b, o := resolveAlias(base), resolveAlias(over)
	if b == nil || o == nil || b.Kind != yaml.SequenceNode || o.Kind != yaml.SequenceNode {
		return over
	}
	out := *b
	out.Content = slices.Clone(b.Content)
	origins[&out] = origins[b]
	for _, e := range o.Content {
		name := entryName(e)
		i := slices.IndexFunc(out.Content, func(x *yaml.Node) bool { return name != "" && entryName(x) == name })
		if i < 0 {
			out.Content = append(out.Content, e)
		} else {
			out.Content[i] = e
		}
	}
	return &out
}

// entryName is the name: of a list entry, or "".
func entryName(n *yaml.Node) string {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	if i := mappingIndex(n, "name"); i >= 0 && n.Content[i+1].Kind == yaml.ScalarNode {
		return n.Content[i+1].Value
	}
	return ""
}

// mappingIndex returns the index of key's node in mapping m, or -1.
func mappingIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}
