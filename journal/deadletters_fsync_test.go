package journal_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// deadLettersFsyncEnv makes the test binary put dead letters one at a time
// into the journal in the named directory, printing each outcome (see
// TestDeadLettersFsyncFailure).
const deadLettersFsyncEnv = "SLUICE_JOURNAL_TEST_CHILD_DL_FSYNC"

// childDeadLettersFsync prints "ok SEQ" or "err SEQ WRITEFAILED MESSAGE"
// per letter put, then "closed". It stops after the first letter accepted
// after a refusal.
func childDeadLettersFsync(dir string) int {
	j, err := journal.Open(dir, journal.Options{})
	if err != nil {
		fmt.Println("open", err)
		return 1
	}
	ctx := context.Background()
	refused := false
	for seq := uint64(1); seq < fsyncBatches; seq++ {
		err := j.PutDeadLetters(ctx, []pipeline.DeadLetter{letter("out", seq, "permanent", 0)})
		if err != nil {
			fmt.Printf("err %d %t %s\n", seq, errors.Is(err, journal.ErrWriteFailed), strings.ReplaceAll(err.Error(), "\n", " "))
			refused = true
			continue
		}
		fmt.Printf("ok %d\n", seq)
		if refused {
			break
		}
	}
	if err := j.Close(ctx); err != nil {
		fmt.Println("close", err)
		return 1
	}
	fmt.Println("closed")
	return 0
}

// TestDeadLettersFsyncFailure: a failed commit of the dead-letter store
// (its fdatasync returning EIO) is refused, leaves nothing behind, and the
// store reopens its file on a new descriptor instead of writing on through
// the failed one: the letters stored are exactly those acknowledged.
func TestDeadLettersFsyncFailure(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatalf("this test injects fdatasync failures with strace, which is not installed (apt-get install strace): %v", err)
	}
	t.Parallel()
	for _, when := range []string{"1", "2", "4", "3..4"} {
		t.Run("call "+when+" fails", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			j0, err := journal.Open(dir, journal.Options{}) // creates deadletters.db
			require.NoError(t, err)
			closeJ(t, j0)
			cmd := exec.CommandContext(ctxT(t), strace, "-f", "-qq", "-o", "/dev/null",
				"-P", filepath.Join(dir, "deadletters.db"), "-e", "trace=fdatasync",
				"-e", "inject=fdatasync:error=EIO:when="+when, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), deadLettersFsyncEnv+"="+dir)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "child: %s", out)

			acked, refused := map[uint64]bool{}, map[uint64]bool{}
			closed := false
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				switch {
				case len(f) == 2 && f[0] == "ok":
					seq, _ := strconv.ParseUint(f[1], 10, 64)
					acked[seq] = true
				case len(f) >= 3 && f[0] == "err":
					seq, _ := strconv.ParseUint(f[1], 10, 64)
					require.Equal(t, "true", f[2], "a refusal wraps ErrWriteFailed: %s", sc.Text())
					refused[seq] = true
				case len(f) == 1 && f[0] == "closed":
					closed = true
				}
			}
			require.True(t, closed, "child output: %s", out)
			require.NotEmpty(t, refused, "the injected failure must refuse a put: %s", out)

			j := journaltest.MustOpenWith(t, dir, journal.Options{ReadOnly: true})
			stored := map[uint64]bool{}
			require.NoError(t, j.DeadLetters(ctxT(t), pipeline.DeadLetterFilter{}, func(l pipeline.DeadLetter) error {
				stored[l.Seq] = true
				return nil
			}))
			require.Equal(t, acked, stored, "the store holds exactly the acknowledged letters (refused: %v)\n%s", refused, out)
		})
	}
}
