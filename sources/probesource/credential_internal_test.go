package probesource

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResolveIdentity checks who exec probes run as, for root and for
// another user.
func TestResolveIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		user, group string
		euid, egid  int
		want        identity
		err         error
	}{
		{name: "root default nobody", euid: 0, egid: 0, want: identity{set: true, uid: 65534, gid: 65534, noNewPrivs: true}},
		{name: "root keeps root on request", user: "root", want: identity{set: true}},
		{name: "root, group only", group: "2", want: identity{set: true, uid: 65534, gid: 2, noNewPrivs: true}},
		{name: "root, numeric uid without entry needs group", user: "4242", group: "4243", want: identity{set: true, uid: 4242, gid: 4243, noNewPrivs: true}},
		{name: "non-root default self", euid: 1000, egid: 1000},
		{name: "non-root naming itself", user: "1000", group: "1000", euid: 1000, egid: 1000},
		{name: "non-root another user", user: "nobody", euid: 1000, egid: 1000, err: errNeedsRoot},
		{name: "non-root another group", group: "2", euid: 1000, egid: 1000, err: errNeedsRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := resolveIdentity(tt.user, tt.group, tt.euid, tt.egid)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := resolveIdentity("4242", "", 0, 0)
	require.ErrorContains(t, err, "no passwd entry: set group too")
}
