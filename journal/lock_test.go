package journal_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestSecondOpenInUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{})
	require.NoError(t, err)

	start := time.Now()
	_, err = journal.Open(dir, journal.Options{})
	require.ErrorIs(t, err, journal.ErrInUse)
	assert.Less(t, time.Since(start), time.Second, "fails at once")
	assert.Contains(t, err.Error(), "journal in use by pid "+strconv.Itoa(os.Getpid()))

	_, err = journal.Open(dir, journal.Options{ReadOnly: true})
	require.ErrorIs(t, err, journal.ErrInUse, "a reader cannot open under a writer")

	closeJ(t, j)
	r1, err := journal.Open(dir, journal.Options{ReadOnly: true})
	require.NoError(t, err)
	r2, err := journal.Open(dir, journal.Options{ReadOnly: true})
	require.NoError(t, err, "readers share the lock")
	_, err = journal.Open(dir, journal.Options{})
	require.ErrorIs(t, err, journal.ErrInUse, "a writer cannot open under a reader")
	closeJ(t, r1)
	closeJ(t, r2)
	j, err = journal.Open(dir, journal.Options{})
	require.NoError(t, err)
	closeJ(t, j)
}

func TestLockChildProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := journaltest.MustOpenWith(t, dir, journal.Options{})
	cmd := exec.CommandContext(ctxT(t), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.Output()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "child output: %s", out)
	assert.Equal(t, 3, exit.ExitCode(), "child output: %s", out)
	assert.Contains(t, string(out), "journal in use by pid "+strconv.Itoa(os.Getpid()))
	_ = j
}

// TestCrashDurability kills a child process that appended and committed
// a cursor, then checks that every acknowledged append and the flushed
// cursor survived.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctxT(t), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready", strings.TrimSpace(line))
	require.NoError(t, cmd.Process.Kill())
	err = cmd.Wait()
	require.True(t, err == nil || errors.As(err, new(*exec.ExitError)))

	j := journaltest.MustOpenWith(t, dir, journal.Options{})
	st := stats(t, j)
	assert.Equal(t, uint64(crashEvents), st.Last, "every acknowledged event survives a kill")
	assert.Equal(t, uint64(crashCursor), st.Cursors["sink"], "a flushed cursor survives a kill")
	_, err = j.Verify(ctxT(t), 0, 0)
	require.NoError(t, err)
	res, err := j.Append(ctxT(t), pipeline.AppendBatch{Events: payload256(1)})
	require.NoError(t, err)
	assert.Equal(t, uint64(crashEvents+1), res.First)
}
