package haproxysink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// errNotRunning is returned when HAProxy's master (or stats) socket does
// not answer: HAProxy is not running. It is transient.
var errNotRunning = errors.New("haproxy is not running")

// socketCommand sends one command to a UNIX socket of HAProxy (the master
// CLI or a stats socket, both non-interactive: the peer closes after the
// answer) and returns the answer. A socket that refuses the connection
// (HAProxy leaves the file behind when it exits) is errNotRunning.
func socketCommand(ctx context.Context, path, cmd string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", errNotRunning, path, err)
	}
	defer func() { _ = c.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", fmt.Errorf("%s %q: %w", path, cmd, err)
	}
	// Half-close: HAProxy answers and closes once it sees the end of input.
	if uc, ok := c.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
	out, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return string(out), fmt.Errorf("%s %q: %w", path, cmd, err)
	}
	return string(out), nil
}

// procState is what the master CLI's "show proc" says.
type procState struct {
	reloads, failed int
	workers         []int
}

// parseShowProc reads HAProxy 2.6's "show proc": the master line carries
// "<reloads> [failed: <n>]", the lines under "# workers" the current
// workers' pids.
func parseShowProc(out string) (procState, error) {
	var st procState
	section := "master"
	seenMaster := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "":
			continue
		case strings.HasPrefix(l, "#<PID>"):
			continue
		case strings.HasPrefix(l, "#"):
			section = strings.TrimSpace(strings.TrimPrefix(l, "#"))
			continue
		}
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		switch {
		case f[1] == "master":
			seenMaster = true
			st.reloads, _ = strconv.Atoi(f[2])
			if i := strings.Index(l, "[failed:"); i >= 0 {
				rest := strings.TrimSpace(l[i+len("[failed:"):])
				n, _, _ := strings.Cut(rest, "]")
				st.failed, _ = strconv.Atoi(strings.TrimSpace(n))
			}
		case section == "workers" && f[1] == "worker":
			st.workers = append(st.workers, pid)
		}
	}
	if !seenMaster {
		return st, fmt.Errorf("unexpected show proc output %q", truncate(out, 200))
	}
	return st, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
