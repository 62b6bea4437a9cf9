package haproxysink_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/haproxytest"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/haproxysink"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func httpLB(port int, nodes ...string) string {
	return fmt.Sprintf(`{"protocol":"HTTP","port":%d,"nodes":[%s],"monitor":{"type":"HTTP","delay":1,"timeout":1,"attempts":1,"path":"healthz"}}`, port, strings.Join(nodes, ","))
}

// plainHTTPLB is an HTTP load balancer without a monitor: HAProxy's
// default check (every 30s, fall 3), so that a loaded machine cannot
// take its only node down during a test that is about something else.
func plainHTTPLB(port int, nodes ...string) string {
	return fmt.Sprintf(`{"protocol":"HTTP","port":%d,"nodes":[%s]}`, port, strings.Join(nodes, ","))
}

func node(id string, port int) string {
	return fmt.Sprintf(`{"id":%q,"address":"127.0.0.1","port":%d}`, id, port)
}

func update(lbs ...string) string {
	return `{"hpcs_action":"UPDATE","loadBalancers":[` + strings.Join(lbs, ",") + `]}`
}

func TestFactory(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSinkFactory(t, haproxysink.NewFactory())
	cfg := haproxysink.NewFactory().DefaultConfig().(*haproxysink.Config)
	require.NoError(t, cfg.Validate())
	cfg.Reload.Method = "kill"
	cfg.ConfigPath = "relative.cfg"
	cfg.BindAddress = "any"
	err := cfg.Validate()
	require.ErrorContains(t, err, `reload.method: must be master_socket or command, got "kill"`)
	require.ErrorContains(t, err, `config_path: must be an absolute path, got "relative.cfg"`)
	require.ErrorContains(t, err, `bind_address: must be an IP address, got "any"`)
}

func TestUpdateBalancesTrafficAndReportsHealth(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	a, b := startBackend(t, "a"), startBackend(t, "b")
	tcpNode := haproxytest.TCPBackend(t, "t1")
	httpPort, tcpPort := freePort(t), freePort(t)
	require.NoError(t, l.deliver(update(
		httpLB(httpPort, node("a-1", a.Port), node("b-2", b.Port)),
		fmt.Sprintf(`{"protocol":"tcp","port":%d,"nodes":[%s]}`, tcpPort, node("t1", tcpNode)),
	)))
	cfgText, err := os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)
	h, ok := l.state.Get(haproxysink.StateConfigHash)
	require.True(t, ok, "the config hash is sink state")
	assert.Len(t, string(h), 64)
	assert.Contains(t, string(cfgText), "server id-a-1 127.0.0.1:")

	seen := map[string]int{}
	for range 10 {
		body, err := get(httpPort)
		require.NoError(t, err)
		seen[body]++
	}
	assert.Equal(t, map[string]int{"a": 5, "b": 5}, seen, "round robin over both nodes")
	line, err := readTCP(tcpPort)
	require.NoError(t, err)
	assert.Equal(t, "t1\n", line)

	// A node failing its health check shows DOWN in STATS (with its
	// hyphenated id intact) and gets no traffic.
	b.Healthy.Store(false)
	eventually(t, "b-2 DOWN in STATS", func() bool {
		require.NoError(t, l.deliver(`{"hpcs_action":"STATS"}`))
		v, _ := l.state.Get(haproxysink.StateStats)
		return strings.Contains(string(v), `{"protocol":"http","id":"b-2","status":"DOWN"`)
	})
	v, _ := l.state.Get(haproxysink.StateStats)
	assert.Contains(t, string(v), `{"protocol":"http","id":"a-1","status":"UP","detail":"UP"}`)
	assert.Contains(t, string(v), `{"protocol":"tcp","id":"t1",`)
	before := b.Hits.Load()
	for range 4 {
		body, err := get(httpPort)
		require.NoError(t, err)
		assert.Equal(t, "a", body)
	}
	assert.Equal(t, before, b.Hits.Load())

	require.NoError(t, l.deliver(`{"hpcs_action":"METRICS"}`))
	m, _ := l.state.Get(haproxysink.StateMetrics)
	assert.Contains(t, string(m), `{"protocol":"http","bytes_out":`)
}

func TestSuspendEnableDelete(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	a := startBackend(t, "a")
	port := freePort(t)
	require.NoError(t, l.deliver(update(httpLB(port, node("1", a.Port)))))
	_, err := get(port)
	require.NoError(t, err)

	require.NoError(t, l.deliver(`{"hpcs_action":"SUSPEND"}`))
	_, err = get(port)
	require.Error(t, err, "suspended: no listener")
	s, _ := l.state.Get(haproxysink.StateSuspended)
	assert.Equal(t, "true", string(s))
	require.NoError(t, l.deliver(`{"hpcs_action":"SUSPEND"}`), "a second SUSPEND is fine (Libra failed on its stale socket)")

	require.NoError(t, l.deliver(`{"hpcs_action":"ENABLE"}`))
	body, err := get(port)
	require.NoError(t, err)
	assert.Equal(t, "a", body)
	_, suspended := l.state.Get(haproxysink.StateSuspended)
	assert.False(t, suspended)

	require.NoError(t, l.deliver(`{"hpcs_action":"DELETE"}`))
	_, err = get(port)
	require.Error(t, err, "deleted: no listener")
	require.NoError(t, l.deliver(`{"hpcs_action":"STATS"}`))
	v, _ := l.state.Get(haproxysink.StateStats)
	assert.JSONEq(t, `{"status":"DELETED"}`, string(v))
	_, has := l.state.Get(haproxysink.StateLoadBalancers)
	assert.False(t, has)
}

func TestRejectedConfigKeepsTheOldOneServing(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	a := startBackend(t, "a")
	port := freePort(t)
	require.NoError(t, l.deliver(update(plainHTTPLB(port, node("1", a.Port)))))
	good, err := os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)
	hash, _ := l.state.Get(haproxysink.StateConfigHash)

	// HAProxy's check rejects it: permanent, with HAProxy's own message.
	err = l.deliver(update(`{"protocol":"http","port":` + fmt.Sprint(port) + `,"nodes":[{"id":"x","address":"no-such-host.invalid","port":80}]}`))
	require.ErrorIs(t, err, haproxysink.ErrConfigRejected)
	assert.True(t, pipeline.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "could not resolve address 'no-such-host.invalid'")
	now, err := os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)
	assert.Equal(t, string(good), string(now))
	h2, _ := l.state.Get(haproxysink.StateConfigHash)
	assert.Equal(t, hash, h2)
	body, err := get(port)
	require.NoError(t, err)
	assert.Equal(t, "a", body)

	// Passes the check but cannot start (the port is taken): the master
	// reports a failed reload, the previous file is restored and reloaded.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	err = l.deliver(update(plainHTTPLB(busy.Addr().(*net.TCPAddr).Port, node("1", a.Port))))
	require.ErrorIs(t, err, haproxysink.ErrReloadFailed)
	assert.True(t, pipeline.IsPermanent(err), "%v", err)
	now, err = os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)
	assert.Equal(t, string(good), string(now), "previous configuration restored")
	eventually(t, "the old configuration serving again", func() bool {
		body, err := get(port)
		return err == nil && body == "a"
	})
}

// TestCheckThatDoesNotFinishIsTransient: a `haproxy -c` that outlives
// reload.timeout (a loaded machine) or is killed has not rejected the
// file, so the error is transient and never ErrConfigRejected (it was
// reported as a permanent rejection with an empty message).
func TestCheckThatDoesNotFinishIsTransient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, script string
		want         error
	}{
		{"slow", "exec sleep 30", haproxysink.ErrCheckTimeout},
		{"killed", "kill -KILL $$", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t)
			a := startBackend(t, "a")
			before, err := os.ReadFile(l.cfg.ConfigPath)
			require.NoError(t, err)
			bin := filepath.Join(t.TempDir(), "haproxy")
			require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"+tc.script+"\n"), 0o755)) //nolint:gosec // an executable
			l.cfg.Binary, l.cfg.Reload.Timeout = bin, 300*time.Millisecond
			l.newSink()
			err = l.deliver(update(plainHTTPLB(freePort(t), node("1", a.Port))))
			require.Error(t, err)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
			require.NotErrorIs(t, err, haproxysink.ErrConfigRejected)
			assert.False(t, pipeline.IsPermanent(err), "%v", err)
			after, err := os.ReadFile(l.cfg.ConfigPath)
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after))
		})
	}
}

func TestNotRunningIsTransientAndChangesNothing(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	a := startBackend(t, "a")
	before, err := os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)
	l.stopHAProxy()
	err = l.deliver(update(httpLB(freePort(t), node("1", a.Port))))
	require.ErrorIs(t, err, haproxysink.ErrNotRunning)
	assert.False(t, pipeline.IsPermanent(err), "HAProxy may come back: retry")
	after, err := os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
}

func TestRedeliveredUpdateIsNotReloadedTwice(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	a := startBackend(t, "a")
	msg := update(httpLB(freePort(t), node("1", a.Port)))
	require.NoError(t, l.deliver(msg))
	info, err := os.Stat(l.cfg.ConfigPath)
	require.NoError(t, err)
	// A new sink over the same state (a restart) gets the same request again.
	l.newSink()
	require.NoError(t, l.deliver(msg))
	info2, err := os.Stat(l.cfg.ConfigPath)
	require.NoError(t, err)
	assert.Equal(t, info.ModTime(), info2.ModTime(), "the live file was not rewritten")
}

func TestProvision(t *testing.T) {
	t.Parallel()
	cfg := haproxysink.NewFactory().DefaultConfig().(*haproxysink.Config)
	cfg.Binary = "/nonexistent/haproxy"
	cfg.ConfigPath = "/nonexistent/dir/haproxy.cfg"
	s, err := haproxysink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("h"), cfg)
	require.NoError(t, err)
	p, ok := s.(pipeline.Provisioner)
	require.True(t, ok)
	err = p.Provision(t.Context())
	require.ErrorContains(t, err, "binary: ")
	require.ErrorContains(t, err, "config_path: ")
	l := newLab(t)
	p, ok = l.sink.(pipeline.Provisioner)
	require.True(t, ok)
	require.NoError(t, p.Provision(t.Context()))
}
