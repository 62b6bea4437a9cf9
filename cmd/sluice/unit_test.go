package main

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The systemd unit reloads with SIGHUP, runs hardened as its own user
// with its state under /var/lib/sluice, and its command lines are ones
// this binary accepts.
func TestSystemdUnit(t *testing.T) {
	f, err := os.Open("../../packaging/sluice.service")
	require.NoError(t, err)
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	require.NoError(t, sc.Err())
	want := map[string]string{
		"ExecReload": "/bin/kill -HUP $MAINPID", "User": "sluice", "NoNewPrivileges": "yes",
		"ProtectSystem": "strict", "StateDirectory": "sluice", "ProtectHome": "yes", "PrivateTmp": "yes",
	}
	for k, v := range want {
		assert.Equal(t, []string{v}, keys[k], k)
	}
	for _, k := range []string{"ExecStartPre", "ExecStart"} {
		require.Len(t, keys[k], 1, k)
		args := strings.Fields(keys[k][0])
		require.Equal(t, "/usr/bin/sluice", args[0])
		root := newRootCommand(streams{log: &logFlags{}})
		cmd, rest, err := root.Find(args[1:])
		require.NoError(t, err, k)
		require.NoError(t, cmd.ParseFlags(rest), k)
	}
}
