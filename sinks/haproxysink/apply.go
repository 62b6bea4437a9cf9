package haproxysink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// applier makes a configuration live, atomically: write a temporary file
// beside the target, `haproxy -c -f` it, rename it over the target, reload
// HAProxy and check that new workers run; on any failure after the rename
// the previous file is put back and reloaded.
type applier struct {
	path    string
	binary  string
	reload  ReloadConfig
	log     *slog.Logger
	timeout time.Duration
}

// apply installs text. Errors: ErrConfigRejected and ErrReloadFailed are
// permanent (pipeline.Permanent); ErrNotRunning and I/O errors transient.
func (a *applier) apply(ctx context.Context, text string) error {
	tmp, err := a.writeTemp(text)
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }()
	if err := a.check(ctx, tmp); err != nil {
		return err
	}
	before, err := a.procState(ctx)
	if err != nil {
		return err // not running: the live file stays as it is
	}
	old, err := os.ReadFile(a.path)
	hadOld := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", a.path, err)
	}
	if err := a.install(tmp); err != nil {
		return err
	}
	rerr := a.reloadAndVerify(ctx, before)
	if rerr == nil {
		return nil
	}
	a.log.WarnContext(ctx, "reload failed, restoring the previous configuration", slog.String("error", rerr.Error()))
	if err := a.restore(ctx, old, hadOld); err != nil {
		rerr = errors.Join(rerr, fmt.Errorf("restore the previous configuration: %w", err))
	}
	return rerr
}

func (a *applier) writeTemp(text string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(a.path), "."+filepath.Base(a.path)+".sluice-*")
	if err != nil {
		return "", fmt.Errorf("write configuration: %w", err)
	}
	_, werr := f.WriteString(text)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr, os.Chmod(f.Name(), 0o644)); err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("write configuration: %w", err)
	}
	return f.Name(), nil
}

// check runs `haproxy -c -f file`; a rejection (HAProxy exited with a
// status) is permanent and carries HAProxy's output. A check that did not
// finish within the timeout, was killed by a signal or could not be run
// says nothing about the file: transient.
func (a *applier) check(ctx context.Context, file string) error {
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	out, err := exec.CommandContext(cctx, a.binary, "-c", "-f", file).CombinedOutput()
	if err == nil {
		return nil
	}
	if cctx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: %s -c did not finish within %s", ErrCheckTimeout, a.binary, a.timeout)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() < 0 {
		return fmt.Errorf("run %s -c: %w", a.binary, err) // binary missing or killed: transient
	}
	msg := strings.TrimSpace(strings.ReplaceAll(string(out), file, filepath.Base(a.path)))
	return pipeline.Permanent(fmt.Errorf("%w: %s", ErrConfigRejected, msg))
}

// install renames tmp over the target and syncs the directory.
func (a *applier) install(tmp string) error {
	if err := os.Rename(tmp, a.path); err != nil {
		return fmt.Errorf("install configuration: %w", err)
	}
	if d, err := os.Open(filepath.Dir(a.path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func (a *applier) restore(ctx context.Context, old []byte, hadOld bool) error {
	if !hadOld {
		if err := os.Remove(a.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	tmp, err := a.writeTemp(string(old))
	if err != nil {
		return err
	}
	if err := a.install(tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	before, err := a.procState(ctx)
	if err != nil {
		return err
	}
	return a.reloadAndVerify(ctx, before)
}

// procState asks the master for its reload counters and workers.
func (a *applier) procState(ctx context.Context) (procState, error) {
	out, err := socketCommand(ctx, a.reload.MasterSocket, "show proc", a.timeout)
	if err != nil {
		return procState{}, err
	}
	return parseShowProc(out)
}

// reloadAndVerify reloads HAProxy and waits until the master reports the
// reload with a new worker, or a failed reload.
func (a *applier) reloadAndVerify(ctx context.Context, before procState) error {
	switch a.reload.Method {
	case ReloadCommand:
		cctx, cancel := context.WithTimeout(ctx, a.timeout)
		out, err := exec.CommandContext(cctx, a.reload.Command[0], a.reload.Command[1:]...).CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("%w: %s: %w: %s", ErrReloadFailed, strings.Join(a.reload.Command, " "), err, bytes.TrimSpace(out))
		}
	default:
		// The master re-executes itself on "reload" and closes the
		// connection without an answer in 2.6.
		if _, err := socketCommand(ctx, a.reload.MasterSocket, "reload", a.timeout); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(a.timeout)
	for {
		st, err := a.procState(ctx)
		if err == nil && st.reloads > before.reloads {
			if st.failed > before.failed {
				return pipeline.Permanent(fmt.Errorf("%w: the master could not start workers with the new configuration (see HAProxy's log); the previous configuration was restored", ErrReloadFailed))
			}
			if slices.ContainsFunc(st.workers, func(pid int) bool { return !slices.Contains(before.workers, pid) }) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("no new worker")
			}
			return fmt.Errorf("%w: not confirmed within %s: %w", ErrReloadFailed, a.timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
