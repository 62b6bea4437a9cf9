package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalStatsLag(t *testing.T) {
	t.Parallel()
	_, cfg := cursorJournal(t) // 10 records; "out" reads 9 next, the orphan "old" 3
	code, out, errOut := sluice(t, "journal", "stats", "-c", cfg, "--output", "table")
	require.Zero(t, code, errOut)
	assert.Regexp(t, `(?m)^1\s+10\s+10\s+1\s+[0-9.]+ [KM]iB\s+[0-9a-f]{16}$`, out)
	assert.Regexp(t, `(?m)^SINK\s+NEXT\s+LAG\s+LAG AGE`, out)
	assert.Regexp(t, `(?m)^old\s+3\s+8\s+\d+s\s+\(orphan cursor\)$`, out)
	assert.Regexp(t, `(?m)^out\s+9\s+2\s+\d+s\s*$`, out)

	code, out, errOut = sluice(t, "journal", "stats", "-c", cfg) // not a terminal: JSON
	require.Zero(t, code, errOut)
	var v statsOutput
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	require.Len(t, v.Sinks, 2)
	assert.Equal(t, sinkLag{Name: "old", Started: true, Next: 3, Lag: 8, AgeSeconds: v.Sinks[0].AgeSeconds}, v.Sinks[0])
	assert.Equal(t, sinkLag{Name: "out", Configured: true, Started: true, Next: 9, Lag: 2, AgeSeconds: v.Sinks[1].AgeSeconds}, v.Sinks[1])
	assert.Positive(t, v.Sinks[1].AgeSeconds)
	assert.Equal(t, uint64(10), v.Records)

	code, _, errOut = sluice(t, "journal", "stats", "-c", cfg, "-o", "yaml")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "want table or json")
}

func TestJournalStatsTableOnATerminal(t *testing.T) {
	t.Parallel()
	_, cfg := cursorJournal(t)
	tty, output := openPTY(t)
	code := run(context.Background(), []string{"journal", "stats", "-c", cfg}, strings.NewReader(""), tty, tty)
	require.Zero(t, code, output())
	require.Eventually(t, func() bool { return regexp.MustCompile(`out\s+9\s+2`).MatchString(output()) }, 5*time.Second, 10*time.Millisecond, "%q", output())
}
