package config

import (
	"go.yaml.in/yaml/v3"
)

// enter follows alias n to its anchor, charging the anchor's size to the
// expansion budget. The caller must leave the returned node when done.
func (d *decoder) enter(n *yaml.Node, path string) (*yaml.Node, bool) {
	t := n.Alias
	if t == nil {
		d.errs.add(n, path, nil, "alias *%s has no anchor", n.Value)
		return nil, false
	}
	if d.aliasBombed {
		return nil, false
	}
	if d.active[t] {
		d.errs.add(n, path, nil, "alias *%s refers to a value that contains it", n.Value)
		return nil, false
	}
	d.expanded += d.subtreeSize(t)
	if d.expanded > maxAliasExpansion {
		d.aliasBombed = true
		d.errs.add(n, path, nil, "aliases expand to more than %d values; the document is too large or contains an alias bomb", maxAliasExpansion)
		return nil, false
	}
	d.active[t] = true
	return t, true
}

func (d *decoder) leave(t *yaml.Node) { delete(d.active, t) }

// subtreeSize counts the nodes below n, not following aliases.
func (d *decoder) subtreeSize(n *yaml.Node) int {
	if s, ok := d.subtreeSizes[n]; ok {
		return s
	}
	s := 1
	for _, c := range n.Content {
		s += d.subtreeSize(c)
	}
	d.subtreeSizes[n] = s
	return s
}

// entry is one key and value of a mapping.
type entry struct {
	key, value *yaml.Node
}

// entries returns the key/value pairs of mapping n with merge keys ("<<:
// *defaults") applied: the mapping's own keys win over merged ones, and
// earlier merged mappings over later ones. It reports duplicate and
// non-string keys.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	var own, merges []entry
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, entry{k, v})
			continue
		}
		if k.Kind == yaml.AliasNode {
			k = resolveAlias(k)
		}
		if k == nil || k.Kind != yaml.ScalarNode || isNull(k) {
			d.errs.add(n.Content[i], path, nil, "mapping keys must be strings")
			continue
		}
		if prev, ok := first[k.Value]; ok {
			d.errs.addCovering(n.Content[i], path, joinPath(path, k.Value), nil, "duplicate key %q (first at line %d, column %d)", k.Value, prev.Line, prev.Column)
			continue
		}
		first[k.Value] = n.Content[i]
		own = append(own, entry{k, v})
	}
	if len(merges) == 0 {
		return own
	}
	var merged []entry
	for _, m := range merges {
		for _, e := range d.mergeSources(m.value, path) {
			if _, ok := first[e.key.Value]; !ok {
				first[e.key.Value] = e.key
				merged = append(merged, e)
			}
		}
	}
	return append(merged, own...)
}

// mergeSources returns the entries a merge key's value contributes: one
// mapping or a list of mappings, usually aliases.
func (d *decoder) mergeSources(v *yaml.Node, path string) []entry {
	if v.Kind == yaml.AliasNode {
		t, ok := d.enter(v, path)
		if !ok {
			return nil
		}
		defer d.leave(t)
		v = t
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.entries(v, path)
	case yaml.SequenceNode:
		var out []entry
		seen := map[string]bool{}
		for _, item := range v.Content {
			if resolveAlias(item) == nil || resolveAlias(item).Kind != yaml.MappingNode {
				d.errs.add(item, path, nil, "merge (<<) values must be mappings")
				continue
			}
			for _, e := range d.mergeSources(item, path) {
				if !seen[e.key.Value] {
					seen[e.key.Value] = true
					out = append(out, e)
				}
			}
		}
		return out
	}
	d.errs.add(v, path, nil, "merge (<<) value must be a mapping or a list of mappings")
	return nil
}

// plainCopy returns a copy of n with aliases expanded, merge keys applied
// and scalars interpolated, for NodeUnmarshaler hooks.
func (d *decoder) plainCopy(n *yaml.Node, path string, depth int) (*yaml.Node, bool) {
	return d.copyNode(n, path, depth, true)
}

// copyNode is plainCopy, with scalars interpolated only when interpolate
// is set (WrittenUnmarshaler hooks see them as written).
func (d *decoder) copyNode(n *yaml.Node, path string, depth int, interpolate bool) (*yaml.Node, bool) {
	if depth > 100 {
		d.errs.add(n, path, nil, "nesting is too deep")
		return nil, false
	}
	if n.Kind == yaml.AliasNode {
		t, ok := d.enter(n, path)
		if !ok {
			return nil, false
		}
		defer d.leave(t)
		n = t
	}
	c := *n
	c.Anchor, c.Alias = "", nil
	switch n.Kind {
	case yaml.ScalarNode:
		st := d.text(n, path)
		if !st.ok {
			return nil, false
		}
		if st.interpolated && interpolate {
			c.Value, c.Tag, c.Style = st.value, "!!str", yaml.DoubleQuotedStyle
		}
		return &c, true
	case yaml.MappingNode:
		es := d.entries(n, path)
		c.Content = make([]*yaml.Node, 0, 2*len(es))
		for _, e := range es {
			v, ok := d.copyNode(e.value, joinPath(path, e.key.Value), depth+1, interpolate)
			if !ok {
				return nil, false
			}
			k := *e.key
			c.Content = append(c.Content, &k, v)
		}
		return &c, true
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		v, ok := d.copyNode(item, indexPath(path, i), depth+1, interpolate)
		if !ok {
			return nil, false
		}
		c.Content[i] = v
	}
	return &c, true
}
