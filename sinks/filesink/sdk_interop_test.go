package filesink_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// TestCloudEventsSDKReadsLines checks that the lines the sink writes are
// CloudEvents the reference Go SDK reads and validates, with the journal
// sequence as an extension.
func TestCloudEventsSDKReadsLines(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "deliver.golden"))
	require.NoError(t, err)
	want := pipelinetest.EventsOf(pipelinetest.SampleDeliveries(1, 6))
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	require.Len(t, lines, len(want))
	for i, line := range lines {
		var e cloudevents.Event
		require.NoError(t, json.Unmarshal(line, &e), "line %d", i+1)
		require.NoError(t, e.Validate(), "line %d", i+1)
		assert.Equal(t, want[i].ID, e.ID())
		assert.Equal(t, want[i].Source, e.Source())
		assert.True(t, want[i].Time.Equal(e.Time()))
		assert.Equal(t, want[i].Data, e.Data(), "line %d data", i+1)
		assert.Equal(t, strconv.FormatUint(want[i].Sequence, 10), mustExt(t, e, "sequence"))
	}
}

func mustExt(t *testing.T, e cloudevents.Event, name string) string {
	t.Helper()
	v, ok := e.Extensions()[name]
	require.True(t, ok, "extension %s", name)
	s, ok := v.(string)
	require.True(t, ok, "extension %s is %T", name, v)
	return s
}
