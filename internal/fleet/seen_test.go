package fleet_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
)

// The dedupe bucket tells a second copy of an (agent, sequence), and a
// redelivery of a copy already appended, from a redelivery of a copy
// that was claimed but never appended; a key is forgotten after the TTL.
func TestSeenClaims(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	js := srv.JetStream(t)
	cfg := fleet.DefaultDedupeConfig()
	cfg.TTL = time.Second
	require.NoError(t, cfg.Validate())
	seen, err := fleet.OpenSeen(t.Context(), js, cfg, 1)
	require.NoError(t, err)
	again, err := fleet.OpenSeen(t.Context(), js, cfg, 1) // another router: the bucket exists
	require.NoError(t, err)

	a1 := fleet.Claim{Agent: "vm-a", Seq: 1, StreamSeq: 10}
	a1copy := fleet.Claim{Agent: "vm-a", Seq: 1, StreamSeq: 20}
	a2 := fleet.Claim{Agent: "vm-a", Seq: 2, StreamSeq: 11}
	b1 := fleet.Claim{Agent: "vm-b", Seq: 1, StreamSeq: 12}
	claim := func(s *fleet.Seen, cs ...fleet.Claim) []bool {
		t.Helper()
		dup, err := s.Claim(t.Context(), cs)
		require.NoError(t, err)
		return dup
	}
	assert.Equal(t, []bool{false, false, false}, claim(seen, a1, a2, b1), "first claims")
	assert.Equal(t, []bool{false, true}, claim(again, a1, a1copy), "a redelivery of the claiming copy is not a duplicate; another copy is")
	require.NoError(t, seen.Appended(t.Context(), []fleet.Claim{a1}))
	assert.Equal(t, []bool{true, true, false}, claim(again, a1, a1copy, a2), "once appended, a redelivery is a duplicate too")

	time.Sleep(1500 * time.Millisecond)
	assert.Equal(t, []bool{false}, claim(seen, a1copy), "after the TTL the key is forgotten")
}

func TestDedupeConfigValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, want string
		edit       func(*fleet.DedupeConfig)
	}{
		{"bad bucket", "bucket", func(c *fleet.DedupeConfig) { c.Bucket = "a.b" }},
		{"short ttl", "ttl", func(c *fleet.DedupeConfig) { c.TTL = time.Millisecond }},
		{"replicas", "replicas", func(c *fleet.DedupeConfig) { c.Replicas = 7 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := fleet.DefaultDedupeConfig()
			c.edit(&cfg)
			require.ErrorContains(t, cfg.Validate(), c.want)
		})
	}
	off := fleet.DedupeConfig{}
	require.NoError(t, off.Validate(), "an empty bucket turns dedupe off")
}
