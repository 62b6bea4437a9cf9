package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// hangups keeps SIGHUP (a systemd ExecReload, a logrotate hook) from
// ending the engine: reload is not supported yet, so each one is logged
// and the running configuration stays. catchHangups is called first
// thing, so that no SIGHUP falls between start and the logger; signals
// caught before log starts are logged then.
type hangups struct{ ch chan os.Signal }

func catchHangups() hangups {
	h := hangups{ch: make(chan os.Signal, 1)}
	signal.Notify(h.ch, syscall.SIGHUP)
	return h
}

// log logs each SIGHUP until ctx ends or the returned stop is called,
// which also restores SIGHUP's default.
func (h hangups) log(ctx context.Context, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-h.ch:
				log.Warn("SIGHUP received: configuration reload is not supported yet; the running configuration stays")
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
