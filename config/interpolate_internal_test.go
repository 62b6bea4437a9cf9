package config

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	ip := &interpolator{
		env: func(k string) (string, bool) {
			v, ok := map[string]string{"A": "alpha", "EMPTY": ""}[k]
			return v, ok
		},
		baseDir: "/etc/sluice",
		readFile: func(p string) ([]byte, error) {
			switch p {
			case "/etc/sluice/s1":
				return []byte("one\n"), nil
			case "/run/s2":
				return []byte("two\r\n\n"), nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		},
	}
	tests := []struct {
		in, out  string
		subst    bool
		problems []string
	}{
		{in: "plain", out: "plain"},
		{in: "$A and $", out: "$A and $"},
		{in: "${A}", out: "alpha", subst: true},
		{in: "x${A}y${A}", out: "xalphayalpha", subst: true},
		{in: "$${A}", out: "${A}"},
		{in: "$$${A}", out: "$${A}"},
		{in: "${EMPTY:-def}", out: "def", subst: true},
		{in: "${EMPTY}", out: "", subst: true},
		{in: "${UNSET:-}", out: "", subst: true},
		{in: "${UNSET:-a:-b}", out: "a:-b", subst: true},
		{in: "${file:s1}", out: "one", subst: true},
		{in: "${file:/run/s2}", out: "two\r\n", subst: true},
		{in: "${UNSET}", subst: true, problems: []string{"${UNSET}: environment variable UNSET is not set (write ${UNSET:-default} to give a default)"}},
		{in: "${file:nope}", subst: true, problems: []string{`${file:nope}: read secret file "/etc/sluice/nope": file does not exist`}},
		{in: "${file:}", subst: true, problems: []string{"${file:}: empty file path"}},
		{in: "${}", subst: true, problems: []string{`${}: invalid variable name "": want ${NAME}, ${NAME:-default} or ${file:/path}`}},
		{in: "a ${B", out: "a ${B", problems: []string{`unterminated "${B": want ${NAME}, ${NAME:-default} or ${file:/path} (write $${ for a literal ${)`}},
	}
	for _, tt := range tests {
		out, subst, problems := ip.expand(tt.in)
		assert.Equal(t, tt.out, out, tt.in)
		assert.Equal(t, tt.subst, subst, tt.in)
		assert.Equal(t, tt.problems, problems, tt.in)
	}
}

func TestReadSecretFileLimit(t *testing.T) {
	t.Parallel()
	_, err := readSecretFile("/nonexistent/secret")
	require.ErrorIs(t, err, fs.ErrNotExist)
}
