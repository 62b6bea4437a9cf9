package probesource_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

// idScript prints the command's uid, gid, groups and no_new_privs.
const idScript = `{ id -u; id -g; id -G; grep NoNewPrivs /proc/self/status; } | tr '\n\t' '  '`

// TestExecUser checks issue 13 item 8: as root, an exec probe runs as
// nobody by default, without supplementary groups and with no_new_privs;
// user and group choose another identity, and user: root keeps root.
// Without root, the command runs as Sluice.
func TestExecUser(t *testing.T) {
	t.Parallel()
	self := fmt.Sprintf("%d %d ", os.Geteuid(), os.Getegid())
	tests := []struct {
		name, with, want string
	}{
		{name: "default", want: "65534 65534 65534 NoNewPrivs: 1 "},
		{name: "numeric user and group", with: "user: '1', group: '2'", want: "1 2 2 NoNewPrivs: 1 "},
		{name: "named user", with: "user: nobody", want: "65534 65534 65534 NoNewPrivs: 1 "},
		{name: "root kept on request", with: "user: root", want: "0 0 0 NoNewPrivs: 0 "},
	}
	if os.Geteuid() != 0 {
		// Without root only Sluice's own identity is possible.
		tests = tests[:1]
		tests[0].want = self
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := fmt.Sprintf("{kind: exec, interval: 50ms, timeout: 10s, failure_threshold: 1, shell: true, command: %q", idScript)
			if tt.with != "" {
				cfg += ", " + tt.with
			}
			d := firstState(t, cfg+"}")
			require.True(t, d.Healthy, "%s: %s", d.Error, d.Output)
			if os.Geteuid() != 0 {
				assert.True(t, strings.HasPrefix(d.Output, tt.want), d.Output)
				return
			}
			assert.Equal(t, tt.want, d.Output)
		})
	}
}

// TestExecUserProvision checks that an unknown user or group fails the
// source's Provision, naming the probe.
func TestExecUserProvision(t *testing.T) {
	t.Parallel()
	for _, with := range []string{"user: no-such-user-sluice", "group: no-such-group-sluice"} {
		t.Run(with, func(t *testing.T) {
			t.Parallel()
			cfg, err := decode(t, "{kind: exec, command: [/bin/true], "+with+"}")
			require.NoError(t, err)
			src, err := probesource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("probe"), cfg)
			require.NoError(t, err)
			err = src.(pipeline.Provisioner).Provision(t.Context())
			require.ErrorContains(t, err, `probe "probe"`)
			assert.ErrorContains(t, err, "no-such-")
		})
	}
	_, err := decode(t, "{kind: exec, command: [/bin/true], user: 'a b'}")
	require.ErrorContains(t, err, "user: want a name or a number")
	_, err = decode(t, "{kind: http, url: 'http://h/', user: root}")
	require.ErrorContains(t, err, "user: is not used by kind http")
}

// TestExecTargetAsWritten checks issue 13 item 6: the target of an exec
// probe is its command as written in the config file, with its ${...}
// references, not the password interpolation filled in.
func TestExecTargetAsWritten(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ expanded, written, want string }{
		{expanded: `[/bin/sh, -c, "exit 0", sh, "hunter2"]`, written: `[/bin/sh, -c, "exit 0", sh, "${DB_PASS}"]`, want: "/bin/sh -c exit 0 sh ${DB_PASS}"},
		{expanded: `"/bin/true --password hunter2"`, written: `"/bin/true --password ${file:/run/pw}"`, want: "/bin/true --password ${file:/run/pw}"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			cfg, err := decode(t, "{kind: exec, interval: 50ms, failure_threshold: 1, command: "+tt.expanded+"}")
			require.NoError(t, err)
			var n yaml.Node
			require.NoError(t, yaml.Unmarshal([]byte(tt.written), &n))
			require.NoError(t, cfg.Command.UnmarshalYAMLWritten(n.Content[0]))
			src, err := probesource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("probe"), cfg)
			require.NoError(t, err)
			host := pipelinetest.NewRecordingHost("probe")
			r := start(t, src, host)
			evs := waitFor(t, host, probesource.TypeState, 1)
			r.stop()
			d := dataOf(t, evs[0])
			assert.True(t, d.Healthy, d.Error)
			assert.Equal(t, tt.want, d.Target)
			assert.NotContains(t, describe(evs), "hunter2")
		})
	}
}
