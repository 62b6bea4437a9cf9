//go:build peers

package e2e

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/lazyfs"
)

// powerTrial cuts the power under s while it is saturated: s runs with
// its state directory on a lazyfs mount (every file write stays in memory
// until the file is fsync'd), and after 0.5 to 1.5 s of load it is
// SIGKILLed and every write it had not synced is dropped, as a power cut
// drops the page cache. s then starts again on what the disk kept, and
// the trial waits until every acknowledged event arrived at the target or
// none arrived for 5 s. The target is another machine in this model: what
// reached it before the cut stays delivered. A system that cannot start
// on what the cut left counts as a failed restart, and what it had not
// delivered as lost.
func powerTrial(b *testing.B, s *peerSystem, r *peerResult) {
	b.Helper()
	dir := b.TempDir()
	disk, mnt := filepath.Join(dir, "disk"), filepath.Join(dir, "mnt")
	for _, d := range []string{disk, mnt} {
		if err := os.Mkdir(d, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	target := newPeerTarget(b, s.parse)
	fsys := mountLazy(b, disk, mnt)
	in := s.start(b, mnt, target, -1)
	stop := make(chan struct{})
	done := make(chan *ackLog)
	go func() { done <- saturate(in, 1<<30, 100, 4, stop) }()
	time.Sleep(500*time.Millisecond + rand.N(time.Second))
	in.e.kill()
	r.powerDropped += fsys.Crash()
	close(stop)
	log := <-done
	if err := fsys.Unmount(); err != nil {
		b.Fatal(err)
	}
	fsys = mountLazy(b, disk, mnt)
	again, err := s.launch(b, mnt, target, -2)
	if err != nil {
		r.powerNoRestart++
		b.Logf("power cut: %v", err)
	} else {
		target.waitAll(log.acked, 5*time.Second, 2*time.Minute)
	}
	got, dups := target.delivered(log.acked)
	lost := len(log.acked) - got
	r.powerAcked += len(log.acked)
	r.powerLost += lost
	r.powerDups += dups
	if lost > 0 {
		r.powerLossy++
	}
	if again != nil {
		_ = again.e.stop(30 * time.Second)
	}
	if err := fsys.Unmount(); err != nil {
		b.Fatal(err)
	}
}

// mountLazy mounts a lazyfs loopback of disk at mnt, unmounted when tb
// ends if it still is (after the processes started later are killed).
func mountLazy(tb testing.TB, disk, mnt string) *lazyfs.FS {
	tb.Helper()
	fsys, err := lazyfs.Mount(disk, mnt)
	if err != nil {
		tb.Fatalf("the power-cut trials need FUSE (/dev/fuse) and root: %v", err)
	}
	tb.Cleanup(func() { _ = fsys.Unmount() })
	return fsys
}
