package probesource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// defaultPath is the PATH of a command when Sluice itself has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// waitDelay bounds how long a check waits for the output pipes after the
// command exited or was killed (a grandchild that left the process group
// may hold them open).
const waitDelay = 250 * time.Millisecond

// execChecker runs a command; exit status 0 is healthy.
type execChecker struct {
	argv []string
	// shown is the command as written, for target.
	shown   string
	env     []string
	path    string
	dir     string
	max     int
	timeout time.Duration
	// user and group are as configured; id is who the command runs as,
	// resolved by provision.
	user, group string
	id          identity
}

var _ checker = (*execChecker)(nil)

func newExecChecker(s spec) *execChecker {
	c := s.own
	e := &execChecker{argv: c.Command.resolve(c.Shell), shown: c.Command.Shown(c.Shell), dir: c.Dir, user: c.User, group: c.Group, max: int(c.MaxOutputBytes), timeout: s.timeout}
	if e.max == 0 {
		e.max = defaultMaxOutputBytes
	}
	e.path = os.Getenv("PATH")
	if e.path == "" {
		e.path = defaultPath
	}
	for k, v := range c.Env {
		if k == "PATH" {
			e.path = v.Reveal()
			continue
		}
		e.env = append(e.env, k+"="+v.Reveal())
	}
	e.env = append(e.env, "PATH="+e.path)
	slices.Sort(e.env)
	return e
}

// provision resolves who the command runs as (see resolveIdentity).
func (e *execChecker) provision() error {
	euid, egid := effectiveIDs()
	id, err := resolveIdentity(e.user, e.group, euid, egid)
	if err != nil {
		return err
	}
	e.id = id
	return nil
}

// target is the command as written, before interpolation.
func (e *execChecker) target() string { return e.shown }

func (e *execChecker) check(ctx context.Context, _ time.Time) outcome {
	prog, err := lookPath(e.argv[0], e.path)
	if err != nil {
		return outcome{err: err.Error(), exitCode: -1}
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, e.argv[1:]...)
	cmd.Args[0] = e.argv[0]
	cmd.Env = e.env
	cmd.Dir = e.dir
	out := newCappedBuffer(e.max)
	// One writer for both streams: exec then uses one pipe, and the
	// order of the output is kept.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitDelay
	setProcessGroup(cmd, e.id)
	if err = startCommand(cmd, e.id.noNewPrivs); err == nil {
		err = cmd.Wait()
	}
	// The command's children die with it: a probe leaves nothing behind.
	killProcessGroup(cmd)
	res := outcome{output: out.String(), truncated: out.Truncated(), exitCode: -1}
	if cmd.ProcessState != nil {
		res.exitCode, res.exited = cmd.ProcessState.ExitCode(), true
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.err = "timed out after " + e.timeout.String()
	case res.exited && res.exitCode == 0:
		// A success whose output pipes a grandchild held open past
		// waitDelay (exec.ErrWaitDelay) is still a success.
		res.healthy = true
	case err != nil && cmd.ProcessState == nil:
		res.err = "start: " + err.Error()
	case err != nil:
		res.err = err.Error()
	default:
		res.err = fmt.Sprintf("exit status %d", res.exitCode)
	}
	return res
}

// lookPath finds prog in path (the command's PATH, not Sluice's, which is
// what exec.LookPath would use). A name with a slash is used as it is.
func lookPath(prog, path string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue // an empty entry would mean the working directory
		}
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q not found in PATH %q", prog, path)
}
