package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// hangups turns SIGHUP (a systemd ExecReload, a logrotate hook) into a
// configuration reload instead of the end of the engine. catchHangups is
// called first thing, so that no SIGHUP falls between start and the
// reloader; one caught before is applied once the engine runs.
type hangups struct{ ch chan os.Signal }

func catchHangups() hangups {
	h := hangups{ch: make(chan os.Signal, 1)}
	signal.Notify(h.ch, syscall.SIGHUP)
	return h
}

// serve reloads on each SIGHUP until ctx ends or the returned stop is
// called, which also restores SIGHUP's default.
func (h hangups) serve(ctx context.Context, r *reloader) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-h.ch:
				r.reload(ctx, "SIGHUP")
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
		h.stop()
	}
}

// stop restores SIGHUP's default.
func (h hangups) stop() { signal.Stop(h.ch) }
