package configtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// normalize returns v as encoding/json would decode its JSON encoding:
// maps of any, []any, float64, string, bool, nil.
func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}

// diff compares got with want and returns the first difference as
// "PATH: want X, got Y", or "" when they agree. With subset, want may
// leave keys out (at every depth); lists must still have want's length,
// each element compared as a subset.
func diff(path string, want, got any, subset bool) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return mismatch(path, want, got)
		}
		for _, k := range sortedKeys(w) {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s: missing (want %s)", join(path, k), show(w[k]))
			}
			if d := diff(join(path, k), w[k], gv, subset); d != "" {
				return d
			}
		}
		if !subset {
			for _, k := range sortedKeys(g) {
				if _, ok := w[k]; !ok {
					return fmt.Sprintf("%s: not expected, got %s", join(path, k), show(g[k]))
				}
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return mismatch(path, want, got)
		}
		for i := range w {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], subset); d != "" {
				return d
			}
		}
		return ""
	default:
		if want != got {
			return mismatch(path, want, got)
		}
		return ""
	}
}

func mismatch(path string, want, got any) string {
	return fmt.Sprintf("%s: want %s, got %s", orRoot(path), show(want), show(got))
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "event"
	}
	return path
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// names lists a set's names, sorted, for error messages.
func names(set map[string]bool) string {
	keys := sortedKeys(set)
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(slices.Clip(keys), ", ")
}
