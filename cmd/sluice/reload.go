package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

// reloader applies a changed configuration to the running engine (on
// SIGHUP, and with run --watch when the files change): the new
// configuration is loaded, validated and provisioned first and refused
// as a whole if anything is wrong (the running one stays); then
// pipeline.Reload restarts only the components that changed. The
// journal, admin and log settings apply at the next start only.
type reloader struct {
	paths []string
	regs  pipeline.Registries
	p     *pipeline.Pipeline
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	running *config.File
	state   configState
	// tried is the digest --watch last attempted, so that it does not
	// try a refused configuration again until it changes.
	tried string
}

// configState is the configuration part of /api/v1/status.
type configState struct {
	Files    []string  `json:"files"`
	Hash     string    `json:"hash"`
	LoadedAt time.Time `json:"loaded_at"`
	// LastReload is the last reload's outcome, nil before any.
	LastReload *reloadOutcome `json:"last_reload,omitempty"`
	// LastReloadError is the last failed reload's error ("" when the last
	// reload succeeded or there was none).
	LastReloadError string `json:"last_reload_error"`
	// PendingRestart lists changed settings that apply at the next start.
	PendingRestart []string `json:"pending_restart,omitempty"`
}

// reloadOutcome is one reload's result.
type reloadOutcome struct {
	At      time.Time `json:"at"`
	Trigger string    `json:"trigger"`
	// Outcome is "applied", "unchanged", "refused" or "partial".
	Outcome   string   `json:"outcome"`
	Hash      string   `json:"hash,omitempty"`
	Added     []string `json:"added,omitempty"`
	Removed   []string `json:"removed,omitempty"`
	Restarted []string `json:"restarted,omitempty"`
	Rerouted  []string `json:"rerouted,omitempty"`
	Error     string   `json:"error,omitempty"`
}

func newReloader(paths []string, regs pipeline.Registries, p *pipeline.Pipeline, running *config.File, log *slog.Logger) *reloader {
	r := &reloader{paths: paths, regs: regs, p: p, log: log, now: time.Now, running: running, tried: running.Digest}
	r.state = configState{Files: configFiles(paths), Hash: running.Digest, LoadedAt: r.now().UTC()}
	return r
}

// configFiles lists the configuration's sources for the status.
func configFiles(paths []string) []string {
	if paths = configPaths(paths); len(paths) > 0 {
		return paths
	}
	return []string{defaultConfigName}
}

// status returns a copy of the configuration state.
func (r *reloader) status() configState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.state
	st.PendingRestart = append([]string(nil), st.PendingRestart...)
	return st
}

// reload loads the configuration again and applies it, logging the
// outcome and recording it for the status.
func (r *reloader) reload(ctx context.Context, trigger string) reloadOutcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := reloadOutcome{At: r.now().UTC(), Trigger: trigger}
	file, err := r.check(ctx)
	if file != nil {
		out.Hash = file.Digest
	}
	if err != nil {
		out.Outcome, out.Error = "refused", err.Error()
		r.log.Error("configuration reload refused; the running configuration stays",
			slog.String("trigger", trigger), slog.String("hash", r.state.Hash), slog.String("error", err.Error()))
		r.finish(out)
		return out
	}
	rep, err := r.p.Reload(ctx, file.Pipeline, r.regs)
	out.Added, out.Removed, out.Restarted, out.Rerouted = rep.Added, rep.Removed, rep.Restarted, rep.Rerouted
	switch {
	case errors.Is(err, pipeline.ErrReloadRefused) || errors.Is(err, pipeline.ErrNotRunning):
		out.Outcome, out.Error = "refused", err.Error()
		r.log.Error("configuration reload refused; the running configuration stays",
			slog.String("trigger", trigger), slog.String("hash", r.state.Hash), slog.String("error", err.Error()))
		r.finish(out)
		return out
	case err != nil:
		out.Outcome, out.Error = "partial", err.Error()
		r.log.Error("configuration reload partly applied: what failed keeps its running settings",
			slog.String("trigger", trigger), slog.String("hash", file.Digest), slog.String("error", err.Error()), reportAttrs(out))
	case rep.Empty():
		out.Outcome = "unchanged"
		r.log.Info("configuration reloaded: no source or sink changed", slog.String("trigger", trigger), slog.String("hash", file.Digest))
	default:
		out.Outcome = "applied"
		r.log.Info("configuration reloaded", slog.String("trigger", trigger), slog.String("hash", file.Digest), reportAttrs(out))
	}
	if pending := restartOnly(r.running, file); len(pending) > 0 {
		r.log.Warn("configuration reload: these settings apply at the next start", slog.Any("settings", pending))
		r.state.PendingRestart = pending
	} else {
		r.state.PendingRestart = nil
	}
	r.state.Hash, r.state.LoadedAt = file.Digest, out.At
	r.running = file
	r.finish(out)
	return out
}

// finish records out as the last reload.
func (r *reloader) finish(out reloadOutcome) {
	r.state.LastReload = &out
	r.state.LastReloadError = out.Error
}

func reportAttrs(o reloadOutcome) slog.Attr {
	return slog.Group("changes", slog.Any("added", o.Added), slog.Any("removed", o.Removed),
		slog.Any("restarted", o.Restarted), slog.Any("rerouted", o.Rerouted))
}

// check loads, validates and provisions the configuration, and checks
// that the new listen addresses can be bound. The file is returned when
// it loaded, with or without an error.
func (r *reloader) check(ctx context.Context) (*config.File, error) {
	file, err := loadConfig(r.paths, r.regs)
	if err != nil {
		return nil, err
	}
	var warnings strings.Builder
	if err := provisionFile(ctx, file, r.regs, &warnings); err != nil {
		return file, err
	}
	if w := strings.TrimSpace(warnings.String()); w != "" {
		r.log.Warn("configuration reload: component warnings", slog.String("warnings", w))
	}
	for _, w := range file.Warnings {
		logWarning(r.log, w)
	}
	return file, checkNewListeners(r.running, file, configText(r.paths))
}

// logWarning logs a configuration warning: its message, position and
// setting, without the "FILE:LINE:COL: warning:" prefix of its String.
func logWarning(log *slog.Logger, w config.Warning) {
	log.Warn("config warning", slog.String("warning", w.Message), slog.String("at", w.Position.String()), slog.String("path", w.Path))
}

// checkNewListeners binds, and releases at once, every listen address of
// next's sources that the running configuration does not already hold
// under the same source name.
func checkNewListeners(running, next *config.File, raw []byte) error {
	held := map[string]string{}
	for _, s := range running.Pipeline.Sources {
		if la, ok := s.Config.(listenAddresser); ok {
			held[s.Name] = la.ListenAddress()
		}
	}
	var errs []error
	for _, s := range next.Pipeline.Sources {
		la, ok := s.Config.(listenAddresser)
		if !ok || la.ListenAddress() == "" || held[s.Name] == la.ListenAddress() {
			continue
		}
		ln, err := net.Listen("tcp", la.ListenAddress())
		if err != nil {
			errs = append(errs, listenError(fmt.Sprintf("source %q", s.Name), fmt.Sprintf("sources[%s].with.listen", s.Name), la.ListenAddress(), raw, err))
			continue
		}
		_ = ln.Close()
	}
	return errors.Join(errs...)
}

// restartOnly names the settings that differ between a and b and that
// only a restart applies.
func restartOnly(a, b *config.File) []string {
	var out []string
	if !reflect.DeepEqual(a.Journal, b.Journal) {
		out = append(out, "journal")
	}
	if !reflect.DeepEqual(a.Admin, b.Admin) {
		out = append(out, "admin")
	}
	if !reflect.DeepEqual(a.Log, b.Log) {
		out = append(out, "log")
	}
	return out
}

// watch reloads whenever the configuration files' contents change,
// looking every interval, until ctx ends.
func (r *reloader) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		srcs, err := config.ReadSources(configPaths(r.paths))
		if err != nil || len(srcs) == 0 {
			continue // a file being replaced; looked at again next time
		}
		if r.changed(srcs) {
			r.reload(ctx, "watch")
		}
	}
}

// changed reports whether srcs differ from what was last tried, and
// notes them as tried.
func (r *reloader) changed(srcs []config.Source) bool {
	d := config.Digest(srcs)
	r.mu.Lock()
	defer r.mu.Unlock()
	if d == r.tried {
		return false
	}
	r.tried = d
	return true
}
