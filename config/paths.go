package config

import (
	"strconv"
	"strings"
)

// Paths name values in the document the way pipeline.FieldError does:
// keys joined with dots and [i] for list elements, e.g.
// "sinks[0].with.tls.ca_file".

// joinPath appends a key or an already formatted field ("[2]", "a.b") to
// path.
func joinPath(path, field string) string {
	switch {
	case field == "":
		return path
	case path == "":
		return field
	case strings.HasPrefix(field, "["):
		return path + field
	}
	return path + "." + field
}

// indexPath appends a list index to path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// parentPath drops the last key or index of path; the root's parent is
// the root.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// isUnder reports whether path is prefix or lies below it.
func isUnder(path, prefix string) bool {
	if prefix == "" || path == prefix {
		return true
	}
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	next := path[len(prefix)]
	return next == '.' || next == '['
}
