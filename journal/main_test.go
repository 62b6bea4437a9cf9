package journal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// childEnv makes the test binary act as a second process that tries to
// open the journal directory named by the variable (see TestLockChildProcess).
const childEnv = "SLUICE_JOURNAL_TEST_CHILD_OPEN"

// crashEnv makes the test binary append to the journal in the named
// directory, commit a cursor, wait for the flush, print "ready" and hang
// until killed (see TestCrashDurability).
const crashEnv = "SLUICE_JOURNAL_TEST_CHILD_CRASH"

const (
	crashEvents = 120
	crashCursor = 77
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(childOpen(dir))
	}
	if dir := os.Getenv(crashEnv); dir != "" {
		os.Exit(childCrash(dir))
	}
	if dir := os.Getenv(fsyncEnv); dir != "" {
		os.Exit(childFsync(dir))
	}
	if dir := os.Getenv(deadLettersFsyncEnv); dir != "" {
		os.Exit(childDeadLettersFsync(dir))
	}
	if dir := os.Getenv(handlesEnv); dir != "" {
		os.Exit(childHandles(dir))
	}
	if spec := os.Getenv(fillEnv); spec != "" {
		os.Exit(childFill(spec))
	}
	goleak.VerifyTestMain(m)
}

// childOpen tries to open dir and reports the outcome on stdout; exit code
// 3 means ErrInUse.
func childOpen(dir string) int {
	j, err := journal.Open(dir, journal.Options{})
	if err == nil {
		_ = j.Close(context.Background())
		fmt.Println("opened")
		return 0
	}
	fmt.Println(err.Error())
	if errors.Is(err, journal.ErrInUse) {
		return 3
	}
	return 1
}

func childCrash(dir string) int {
	j, err := journal.Open(dir, journal.Options{CursorFlushInterval: 20 * time.Millisecond, SegmentMaxBytes: 32 << 10})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	ctx := context.Background()
	for i := 0; i < crashEvents; i += 10 {
		evs := make([]pipeline.Event, 10)
		for k := range evs {
			evs[k] = pipeline.Event{Source: "s", Type: "t", Data: make([]byte, 200)}
		}
		if _, err := j.Append(ctx, pipeline.AppendBatch{Events: evs}); err != nil {
			fmt.Println(err)
			return 1
		}
	}
	if err := j.CommitCursor(ctx, "sink", crashCursor); err != nil {
		fmt.Println(err)
		return 1
	}
	time.Sleep(300 * time.Millisecond)
	fmt.Println("ready")
	select {} // killed by the parent
}
