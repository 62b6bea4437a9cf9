package vessink_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// TestSinkSuite runs the pipeline.Sink conformance suite against the
// collector. The read-back recovers what VES carries of an event: its id,
// source and type (the sluice.* additional fields) and its journal
// sequence (the header's sequence).
func TestSinkSuite(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	for _, version := range []int{7, 5} {
		t.Run("v"+itoa(uint64(version)), func(t *testing.T) {
			t.Parallel()
			pipelinetest.TestSink(t, func(t *testing.T) (pipeline.Sink, func() []pipeline.Event) {
				t.Helper()
				c := newCollector(t, pki)
				cfg := testConfig(c, pki)
				cfg.Version = version
				cfg.URL = c.URL() + "/eventListener/v" + itoa(uint64(version))
				s, err := vessink.NewFactory().NewSink(t.Context(), pipeline.NopSettings("ves"), cfg)
				require.NoError(t, err)
				return s, func() []pipeline.Event {
					c.requireConforming(t)
					var out []pipeline.Event
					for _, raw := range c.Accepted() {
						out = append(out, readBack(t, raw))
					}
					return out
				}
			})
		})
	}
}

// readBack turns a VES event of the other domain back into the event
// attributes it carries.
func readBack(t *testing.T, raw json.RawMessage) pipeline.Event {
	t.Helper()
	var e struct {
		CommonEventHeader struct {
			Sequence uint64 `json:"sequence"`
		} `json:"commonEventHeader"`
		OtherFields struct {
			HashMap        map[string]string `json:"hashMap"`
			NameValuePairs []struct {
				Name, Value string
			} `json:"nameValuePairs"`
		} `json:"otherFields"`
	}
	require.NoError(t, json.Unmarshal(raw, &e))
	fields := e.OtherFields.HashMap
	if fields == nil {
		fields = map[string]string{}
		for _, nv := range e.OtherFields.NameValuePairs {
			fields[nv.Name] = nv.Value
		}
	}
	return pipeline.Event{
		ID: fields["sluice.id"], Source: fields["sluice.source"], Type: fields["sluice.type"],
		Sequence: e.CommonEventHeader.Sequence,
	}
}
