package kvpsink_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/safefile"
	"github.com/sluice-dev/sluice/pipeline"
)

// TestPoolFileMode: a created pool file gets file_mode (default 0600).
func TestPoolFileMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"", "0644"} {
		t.Run("mode="+mode, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			want := os.FileMode(0o600)
			if mode != "" {
				cfg.FileMode, want = mode, 0o644
			}
			s := startSink(t, cfg)
			require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{delivery("a", nil, "x")}))
			fi, err := os.Stat(cfg.Path)
			require.NoError(t, err)
			assert.Equal(t, want, fi.Mode().Perm())
		})
	}
}

// TestPoolRefusesRedirect: a symlinked pool file or a directory others
// can write into fails the delivery and leaves the link's target as it was.
func TestPoolRefusesRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, path, victim string)
	}{
		{"symlink", func(t *testing.T, _, path, victim string) {
			require.NoError(t, os.Symlink(victim, path))
		}},
		{"group-writable directory", func(t *testing.T, dir, _, _ string) {
			require.NoError(t, os.Chmod(dir, 0o775))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.TruncateOnBoot = false
			victim := filepath.Join(t.TempDir(), "victim")
			require.NoError(t, os.WriteFile(victim, []byte("precious\n"), 0o600))
			tt.setup(t, filepath.Dir(cfg.Path), cfg.Path, victim)
			s := newSink(t, cfg)
			err := s.Start(t.Context())
			if err == nil {
				err = s.Deliver(t.Context(), []pipeline.Delivery{delivery("a", nil, "x")})
			}
			require.NoError(t, s.Close(t.Context()))
			require.Error(t, err)
			require.ErrorIs(t, err, safefile.ErrUnsafe)
			got, rerr := os.ReadFile(victim)
			require.NoError(t, rerr)
			assert.Equal(t, "precious\n", string(got))
		})
	}
}
