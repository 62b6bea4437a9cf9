package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxSecretFileSize bounds what ${file:...} reads: secrets are small, and a
// mistyped path to a large file should fail rather than fill memory.
const maxSecretFileSize = 1 << 20

var varNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// interpolator expands ${VAR}, ${VAR:-default} and ${file:/path} in scalar
// values.
type interpolator struct {
	env func(string) (string, bool)
	// baseDir resolves relative ${file:...} paths: the config file's
	// directory.
	baseDir  string
	readFile func(string) ([]byte, error)
	// seen, when set, is told each value a reference produced.
	seen func(value, ref string)
	// dirOf, when set, gives the directory of the file a node was
	// written in, when several files were merged ("": baseDir).
	dirOf func(*yaml.Node) string
}

// at returns the interpolator for a scalar written at n: relative
// ${file:...} paths resolve against n's file's directory.
func (ip *interpolator) at(n *yaml.Node) *interpolator {
	if ip.dirOf == nil {
		return ip
	}
	dir := ip.dirOf(n)
	if dir == "" || dir == ip.baseDir {
		return ip
	}
	c := *ip
	c.baseDir = dir
	return &c
}

func newInterpolator(name string, env func(string) (string, bool)) *interpolator {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	return &interpolator{env: env, baseDir: filepath.Dir(name), readFile: readSecretFile}
}

// expand returns s with every reference replaced, whether anything was
// substituted, and a message for each reference that could not be
// resolved. Messages quote the reference, never its value.
func (ip *interpolator) expand(s string) (out string, substituted bool, problems []string) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' {
			// "$${" is an escaped, literal "${".
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			problems = append(problems, fmt.Sprintf("unterminated %q: want ${NAME}, ${NAME:-default} or ${file:/path} (write $${ for a literal ${)", s[i:min(len(s), i+20)]))
			b.WriteString(s[i:])
			break
		}
		ref := s[i : i+2+end+1]
		v, err := ip.resolve(s[i+2 : i+2+end])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", ref, err))
		} else if ip.seen != nil {
			ip.seen(v, ref)
		}
		b.WriteString(v)
		substituted = true
		s = s[i+2+end+1:]
	}
	return b.String(), substituted, problems
}

// resolve returns the value of one reference body: NAME, NAME:-default or
// file:/path.
func (ip *interpolator) resolve(body string) (string, error) {
	if path, ok := strings.CutPrefix(body, "file:"); ok {
		return ip.secretFile(path)
	}
	name, def, hasDef := strings.Cut(body, ":-")
	if !varNamePattern.MatchString(name) {
		return "", fmt.Errorf("invalid variable name %q: want ${NAME}, ${NAME:-default} or ${file:/path}", name)
	}
	v, ok := ip.env(name)
	switch {
	case ok && (v != "" || !hasDef):
		return v, nil
	case hasDef:
		return def, nil
	}
	return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
}

// secretFile reads path, relative to the config file's directory, and
// trims one trailing newline, as written by `echo secret > file`.
func (ip *interpolator) secretFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("empty file path")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(ip.baseDir, path)
	}
	data, err := ip.readFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("read secret file %q: %w", path, err)
	}
	s := string(data)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	return s, nil
}

func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only: nothing to flush
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSecretFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxSecretFileSize)
	}
	return data, nil
}
