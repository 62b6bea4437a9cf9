package main

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// sequences returns the "sequence" of each JSON line of out.
func sequences(t *testing.T, out string) []string {
	t.Helper()
	var seqs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var v struct {
			Sequence string `json:"sequence"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &v), line)
		seqs = append(seqs, v.Sequence)
	}
	return seqs
}

func TestTailLinesWithFrom(t *testing.T) {
	t.Parallel()
	dir, _ := cursorJournal(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-n", "2", "--from", "3"}, []string{"3", "4"}},
		{[]string{"--from", "8"}, []string{"8", "9", "10"}},
		{[]string{"-n", "2"}, []string{"9", "10"}},
		{[]string{"-n", "0"}, nil},
		{[]string{"-n", "0", "--from", "3"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, out, errOut := sluice(t, append([]string{"journal", "tail", "--dir", dir}, tt.args...)...)
			require.Zero(t, code, errOut)
			assert.Equal(t, tt.want, sequences(t, out))
		})
	}
}

func TestRangesOutOfOrderAreRefused(t *testing.T) {
	t.Parallel()
	_, cfg := cursorJournal(t)
	tests := [][]string{
		{"journal", "replay", "-c", cfg, "--sink", "out", "--from", "5", "--to", "2"},
		{"journal", "replay", "-c", cfg, "--sink", "out", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"},
		{"journal", "export", "-c", cfg, "--from", "5", "--to", "2"},
		{"journal", "verify", "-c", cfg, "--from", "5", "--to", "2"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args[1:2], " "), func(t *testing.T) {
			t.Parallel()
			code, out, errOut := sluice(t, args...)
			assert.Equal(t, exitUsage, code, "stdout: %s\nstderr: %s", out, errOut)
			assert.Contains(t, errOut, "is before --from")
			assert.Empty(t, out)
		})
	}
}

func TestUnknownNamesListTheDefinedOnes(t *testing.T) {
	t.Parallel()
	const cfg = "CFG" // each test has its own journal: some take it for writing
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"journal", "replay", "-c", cfg, "--sink", "ou"}, `unknown sink "ou" (did you mean "out"?); defined: out`},
		{[]string{"journal", "replay", "-c", cfg, "--sink", "out", "--route", "al"}, `unknown route "al" (did you mean "all"?); defined: all`},
		{[]string{"journal", "dlq", "list", "-c", cfg, "--sink", "nope"}, `unknown sink "nope"; defined: out`},
		{[]string{"journal", "dlq", "show", "-c", cfg, "otu", "1"}, `unknown sink "otu" (did you mean "out"?); defined: out`},
		{[]string{"journal", "dlq", "redrive", "-c", cfg, "--sink", "nope"}, `unknown sink "nope"; defined: out`},
		{[]string{"journal", "dlq", "purge", "-c", cfg, "--sink", "nope", "--yes"}, `unknown sink "nope"; defined: out`},
		{[]string{"journal", "cursors", "set", "-c", cfg, "odl", "1"}, `unknown cursor "odl" (did you mean "old"?); defined: old, out`},
		{[]string{"journal", "cursors", "delete", "-c", cfg, "nope"}, `unknown cursor "nope"; defined: old, out`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:3], " "), func(t *testing.T) {
			t.Parallel()
			_, cfg := cursorJournal(t)
			args := slices.Clone(tt.args)
			args[slices.Index(args, "CFG")] = cfg
			code, _, errOut := sluice(t, args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Contains(t, errOut, tt.want)
		})
	}
	// A known cursor that is no configured sink (an orphan) is accepted.
	_, cfgFile := cursorJournal(t)
	code, _, errOut := sluice(t, "journal", "dlq", "list", "-c", cfgFile, "--sink", "old")
	assert.Zero(t, code, errOut)
}

func TestRepairSaysIntact(t *testing.T) {
	t.Parallel()
	dir, _ := cursorJournal(t)
	code, out, errOut := sluice(t, "journal", "repair", "--dir", dir)
	require.Zero(t, code, errOut)
	assert.Contains(t, out, `"status": "intact"`)
	assert.Contains(t, errOut, "journal is intact; nothing to repair")
}

func TestStatsAndVerifyCountBytesAlike(t *testing.T) {
	t.Parallel()
	dir, _ := cursorJournal(t)
	code, out, errOut := sluice(t, "journal", "stats", "--dir", dir)
	require.Zero(t, code, errOut)
	var st struct {
		DiskBytes int64 `json:"disk_bytes"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	code, out, errOut = sluice(t, "journal", "verify", "--dir", dir)
	require.Zero(t, code, errOut)
	var v struct {
		DiskBytes   int64 `json:"disk_bytes"`
		RecordBytes int64 `json:"record_bytes"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Positive(t, st.DiskBytes)
	assert.Equal(t, st.DiskBytes, v.DiskBytes, "a whole-journal verify covers the bytes stats counts")
	assert.Positive(t, v.RecordBytes)
	assert.Less(t, v.RecordBytes, v.DiskBytes)
}

// appendWhenFree opens the stopped journal (retrying while tail -f reads
// it), appends n events and closes it, as an engine run would.
func appendWhenFree(t *testing.T, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	var j *journal.Journal
	require.Eventually(t, func() bool {
		var err error
		j, err = journal.Open(dir, journal.Options{})
		if err != nil && !errors.Is(err, journal.ErrInUse) {
			require.NoError(t, err)
		}
		return err == nil
	}, 10*time.Second, 10*time.Millisecond)
	_, err := j.Append(ctx, pipeline.AppendBatch{Events: journaltest.Events(0, n)})
	require.NoError(t, err)
	require.NoError(t, j.Close(ctx))
}

// Not parallel: it shortens tailPollInterval (parallel tests start after).
func TestTailFollowsAStoppedJournal(t *testing.T) {
	old := tailPollInterval
	tailPollInterval = 20 * time.Millisecond
	defer func() { tailPollInterval = old }()
	dir, _ := cursorJournal(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedWriter
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"journal", "tail", "--dir", dir, "-n", "1", "-f"}, strings.NewReader(""), &out, &errOut)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), `"sequence":"10"`) }, 10*time.Second, 10*time.Millisecond)
	// An engine starts, appends and stops again: tail -f picks the records up.
	appendWhenFree(t, dir, 2)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), `"sequence":"12"`) }, 10*time.Second, 10*time.Millisecond, errOut.String())
	appendWhenFree(t, dir, 1)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), `"sequence":"13"`) }, 10*time.Second, 10*time.Millisecond, errOut.String())
	cancel()
	require.Zero(t, <-done, errOut.String())
	assert.Equal(t, []string{"10", "11", "12", "13"}, sequences(t, out.String()), "each record once, in order")
}
