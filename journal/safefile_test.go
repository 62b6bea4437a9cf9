package journal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-dev/sluice/internal/safefile"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// A writer refuses a journal directory another user could write into.
func TestOpenRefusesGroupWritableDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "j")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o770); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(dir, journal.Options{})
	if err == nil {
		_ = j.Close(context.Background())
		t.Fatal("Open succeeded on a group-writable directory")
	}
	if !errors.Is(err, safefile.ErrUnsafe) {
		t.Fatalf("err = %v, want ErrUnsafe", err)
	}
}

// A symlinked LOCK or checkpoints.jsonl is refused and its target untouched.
func TestSymlinkedFilesRefused(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"LOCK", "checkpoints.jsonl"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "j")
			victim := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if name == "checkpoints.jsonl" {
				j, err := journal.Open(dir, journal.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := j.Append(context.Background(), pipeline.AppendBatch{Events: payload256(1)}); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
				_, err = j.WriteCheckpoint(context.Background(), nil)
				_ = j.Close(context.Background())
				if !errors.Is(err, safefile.ErrUnsafe) {
					t.Fatalf("WriteCheckpoint = %v, want ErrUnsafe", err)
				}
			} else {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
				j, err := journal.Open(dir, journal.Options{})
				if err == nil {
					_ = j.Close(context.Background())
					t.Fatal("Open succeeded with a symlinked LOCK")
				}
				if !errors.Is(err, safefile.ErrUnsafe) {
					t.Fatalf("Open = %v, want ErrUnsafe", err)
				}
			}
			if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
				t.Fatalf("victim = %q, changed", got)
			}
		})
	}
}
