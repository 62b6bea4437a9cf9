package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/lazyfs"
)

// powerLossTrialsEnv sets the number of power cuts in
// TestPowerLossKeepsAcknowledged (10 in the test command, 100 in `task
// reliability`).
const powerLossTrialsEnv = "SLUICE_POWERLOSS_TRIALS"

// TestPowerLossKeepsAcknowledged runs the engine with its journal on a
// lazyfs mount (writes stay in memory until fsync'd), posts events from
// several clients, and at a random moment cuts the power: SIGKILL, then
// every write that was not synced is dropped. After every cut the engine
// starts again on what the disk kept. At the end every event answered 202
// is in the journal, the sequences have no gap and `sluice journal
// verify` passes.
func TestPowerLossKeepsAcknowledged(t *testing.T) {
	trials := 10
	if v := os.Getenv(powerLossTrialsEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, powerLossTrialsEnv)
		trials = n
	}
	dir := t.TempDir()
	keepOnFailure(t, dir)
	disk, mnt := filepath.Join(dir, "disk"), filepath.Join(dir, "mnt")
	require.NoError(t, os.Mkdir(disk, 0o700))
	require.NoError(t, os.Mkdir(mnt, 0o700))
	ingest, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal, segment_max_bytes: 256KiB}
admin: {listen: "%[3]s"}
log: {level: warn}
sources:
  - {name: ingest, type: http, with: {listen: "%[2]s", path: /events}}
sinks:
  - {name: archive, type: file, with: {path: %[4]s/archive.jsonl}}
routes:
  - {name: all, from: [ingest], to: [archive]}
`, mnt, ingest, admin, dir))

	var mu sync.Mutex
	acked := map[string]bool{}
	dropped := 0
	for trial := range trials {
		fsys, err := lazyfs.Mount(disk, mnt)
		require.NoError(t, err, "the power-loss test needs FUSE (/dev/fuse) and root")
		t.Cleanup(func() { _ = fsys.Unmount() }) // when a trial fails
		e := startEngine(t, cfg)
		e.waitReady(admin, 30*time.Second)
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ctx.Err() == nil; i++ {
					id := fmt.Sprintf("p%d-w%d-%d", trial, w, i)
					if postEvent(client, "http://"+ingest+"/events", id) == http.StatusAccepted {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(time.Duration(100+rand.IntN(500)) * time.Millisecond)
		e.kill() // the power goes: the process first, then the page cache
		dropped += fsys.Crash()
		stop()
		wg.Wait()
		require.NoError(t, fsys.Unmount())
	}
	require.NotEmpty(t, acked, "no event was acknowledged")
	require.Positive(t, dropped, "no power cut dropped an unsynced write: the test tested nothing")

	journalDir := filepath.Join(disk, "journal")
	out, stderr, code := sluice(t, nil, "journal", "tail", "--dir", journalDir, "--from", "1")
	require.Zero(t, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Zero(t, countMissing(t, acked, idsInLines(t, lines)), "acknowledged events lost to a power cut")
	requireConsecutiveSequences(t, lines)
	_, stderr, code = sluice(t, nil, "journal", "verify", "--dir", journalDir)
	require.Zero(t, code, "journal verify: %s", stderr)
	t.Logf("power loss: %d cuts, %d events acknowledged, 0 lost, %d journal records, unsynced writes dropped in %d file(s)",
		trials, len(acked), len(lines), dropped)
}
