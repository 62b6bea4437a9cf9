package kvpsink_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// Encode (the sluice test preview) shows the records Deliver writes,
// without touching the pool file.
func TestEncodeShowsWhatDeliverWrites(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	batch := []pipeline.Delivery{
		delivery("1", map[string]string{kvpsink.AttrResult: "FAIL", kvpsink.AttrType: "diagnostic"}, "disk full"),
		delivery("2", nil, strings.Repeat("long message ", 200)),
	}
	enc, ok := newSink(t, cfg).(pipeline.Encoder)
	require.True(t, ok, "the kvp sink is a pipeline.Encoder")
	got, err := enc.Encode(batch)
	require.NoError(t, err)
	assert.NoFileExists(t, cfg.Path, "Encode does no I/O")

	s := startSink(t, cfg)
	require.NoError(t, s.Deliver(context.Background(), batch))
	b, err := os.ReadFile(cfg.Path)
	require.NoError(t, err)
	recs, err := kvpsink.DecodeRecords(b)
	require.NoError(t, err)
	require.Greater(t, len(recs), 2, "the long message is split over several records")
	var want strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&want, "%s = %s\n", r.Key, r.Value)
	}
	started, err := s.(pipeline.Encoder).Encode(batch)
	require.NoError(t, err)
	assert.Equal(t, want.String(), string(started))
	// Before Provision the boot incarnation is not read: the key shows 0.
	incarnation := strings.Split(recs[0].Key, "|")[1]
	assert.Equal(t, want.String(), strings.ReplaceAll(string(got), "CLOUD_INIT|0|", "CLOUD_INIT|"+incarnation+"|"))
	assert.Contains(t, string(got), `"result":"FAIL"`)
}
