package lbworkersource_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/lbworkersource"
)

const installHint = "apt-get install -y --no-install-recommends gearman-job-server gearman-tools"

// gearmand is a real gearmand started on a free loopback port.
type gearmand struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func (g *gearmand) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(g.port)) }

// startGearmand starts gearmand; a missing binary fails the test.
func startGearmand(t testing.TB) *gearmand {
	t.Helper()
	if _, err := exec.LookPath("gearmand"); err != nil {
		t.Fatalf("gearmand is required by this test and was not found (%v): %s", err, installHint)
	}
	if _, err := exec.LookPath("gearman"); err != nil {
		t.Fatalf("the gearman CLI is required by this test and was not found (%v): %s", err, installHint)
	}
	g := &gearmand{t: t, port: freePort(t)}
	g.start()
	t.Cleanup(g.stop)
	return g
}

func (g *gearmand) start() {
	g.t.Helper()
	g.cmd = exec.Command("gearmand", "--listen=127.0.0.1", "--port="+strconv.Itoa(g.port), "--log-file=none", "--verbose=ERROR")
	require.NoError(g.t, g.cmd.Start(), "start gearmand")
	g.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(g.cmd, g.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", g.addr(), time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("gearmand did not listen on %s: %v", g.addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *gearmand) stop() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	_ = g.cmd.Process.Kill()
	<-g.done
	g.cmd = nil
}

// admin sends one admin text command and returns the lines before ".".
func (g *gearmand) admin(cmd string) ([]string, error) {
	c, err := net.DialTimeout("tcp", g.addr(), time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\n", cmd); err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if sc.Text() == "." {
			return lines, nil
		}
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// waitWorkers waits until n workers are registered for function.
func (g *gearmand) waitWorkers(t testing.TB, function string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		lines, err := g.admin("status")
		if err == nil {
			for _, l := range lines {
				f := strings.Split(l, "\t")
				if len(f) == 4 && f[0] == function {
					if got, _ := strconv.Atoi(f[3]); got >= n {
						return
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d workers for %s not registered in time; status %q (%v)", n, function, lines, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// submit runs the real gearman CLI as Libra's API would (foreground job)
// and returns what it printed.
func (g *gearmand) submit(t *testing.T, function, unique, payload string) string {
	t.Helper()
	out, err := g.submitE(t.Context(), function, unique, payload)
	require.NoError(t, err)
	return out
}

// submitE is submit for goroutines: it returns the error.
func (g *gearmand) submitE(ctx context.Context, function, unique, payload string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(g.port), "-f", function}
	if unique != "" {
		args = append(args, "-u", unique)
	}
	cmd := exec.CommandContext(ctx, "gearman", args...)
	cmd.Stdin = strings.NewReader(payload)
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("gearman CLI: %w: %s", err, out)
	}
	return string(out), nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// running is a source under test.
type running struct {
	src  *lbworkersource.Source
	host *pipelinetest.RecordingHost
	stop func()
}

// startSource runs a source built from cfg with host until the test ends
// (or stop is called).
func startSource(t *testing.T, cfg *lbworkersource.Config, host *pipelinetest.RecordingHost) *running {
	t.Helper()
	return startSourceWith(t, pipeline.NopSettings("lb"), cfg, host)
}

// startSourceWith is startSource with the component's settings (its
// telemetry providers, say).
func startSourceWith(t *testing.T, set pipeline.Settings, cfg *lbworkersource.Config, host *pipelinetest.RecordingHost) *running {
	t.Helper()
	src, err := lbworkersource.NewFactory().NewSource(t.Context(), set, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, host) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Fatal("source did not stop")
		}
	}
	t.Cleanup(stop)
	return &running{src: src.(*lbworkersource.Source), host: host, stop: stop}
}

// gearmanConfig is a config for one gearmand and no HTTP.
func gearmanConfig(g *gearmand, function string) *lbworkersource.Config {
	cfg := lbworkersource.NewFactory().DefaultConfig().(*lbworkersource.Config)
	cfg.Gearman.Servers = []string{g.addr()}
	cfg.Gearman.Function = function
	cfg.Gearman.Workers = 2
	cfg.Gearman.Reconnect = pipeline.RetryConfig{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Multiplier: 2}
	cfg.Diagnostics.NetworkTarget = ""
	return cfg
}

func runtimeGosched() { time.Sleep(time.Millisecond) }

// exactJSON compares replies byte for byte: member order is part of the
// contract (the echo keeps the request's order), so JSONEq would not do.
func exactJSON(t *testing.T, want, got string, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, want, got, msgAndArgs...)
}
