package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/sluice-dev/sluice/config"
)

var fuzzErrorLine = regexp.MustCompile(`^fuzz\.yaml:\d+:\d+: `)

// FuzzParse checks that Parse never panics, and that it returns either a
// File or an Errors whose every line has a position.
func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("journal: {dir: x}\n<<: {journal: 1}"))
	f.Add([]byte("? [a]\n: b"))
	regs := testRegistries()
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := config.Parse("fuzz.yaml", data, regs, lookupTestEnv)
		if err == nil {
			if file == nil {
				t.Fatal("nil file without error")
			}
			return
		}
		if file != nil {
			t.Fatal("file with error")
		}
		var errs config.Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error is %T, want config.Errors: %v", err, err)
		}
		for _, e := range errs {
			if !fuzzErrorLine.MatchString(e.Error()) {
				t.Fatalf("error without position: %q", e.Error())
			}
		}
	})
}
