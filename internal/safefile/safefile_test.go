package safefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sluice-dev/sluice/internal/safefile"
	"github.com/sluice-dev/sluice/internal/testenv"
)

func TestOpenFileRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup prepares path in dir, given a victim file elsewhere.
		setup func(t *testing.T, path, victim string)
	}{
		{"symlink", func(t *testing.T, path, victim string) {
			if err := os.Symlink(victim, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"dangling symlink", func(t *testing.T, path, victim string) {
			if err := os.Symlink(victim+".missing", path); err != nil {
				t.Fatal(err)
			}
		}},
		{"hard link", func(t *testing.T, path, victim string) {
			if err := os.Link(victim, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"fifo", func(t *testing.T, path, _ string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			victim := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "out")
			tt.setup(t, path, victim)
			f, err := safefile.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
			if err == nil {
				_ = f.Close()
				t.Fatal("OpenFile succeeded")
			}
			if !errors.Is(err, safefile.ErrUnsafe) {
				t.Fatalf("err = %v, want ErrUnsafe", err)
			}
			if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
				t.Fatalf("victim = %q, changed", got)
			}
			if _, err := os.Stat(victim + ".missing"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("dangling link's target was created: %v", err)
			}
		})
	}
}

func TestOpenFileRefusesOtherOwner(t *testing.T) {
	t.Parallel()
	testenv.RequireRoot(t, "gives a file to another user")
	path := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(path, []byte("theirs\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	f, err := safefile.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err == nil {
		_ = f.Close()
		t.Fatal("OpenFile succeeded on a file owned by uid 65534")
	}
	if !errors.Is(err, safefile.ErrUnsafe) {
		t.Fatalf("err = %v, want ErrUnsafe", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "theirs\n" {
		t.Fatalf("file = %q, truncated", got)
	}
}

func TestOpenFileAccepts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out")
	f, err := safefile.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("line\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f, err = safefile.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	if got, _ := os.ReadFile(path); len(got) != 0 {
		t.Fatalf("O_TRUNC not applied: %q", got)
	}
}

func TestCheckDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		mode  os.FileMode
		owner int // -1: ours
		ok    bool
	}{
		{"private", 0o700, -1, true},
		{"world readable", 0o755, -1, true},
		{"group writable", 0o770, -1, false},
		{"world writable", 0o777, -1, false},
		{"sticky world writable", 0o1777, -1, false},
		{"other owner", 0o755, 65534, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.owner >= 0 {
				testenv.RequireRoot(t, "gives a directory to another user")
				if err := os.Chown(dir, tt.owner, tt.owner); err != nil {
					t.Fatal(err)
				}
			}
			err := safefile.CheckDir("test directory", dir)
			if tt.ok && err != nil {
				t.Fatalf("CheckDir: %v", err)
			}
			if !tt.ok && !errors.Is(err, safefile.ErrUnsafe) {
				t.Fatalf("CheckDir = %v, want ErrUnsafe", err)
			}
		})
	}
}
