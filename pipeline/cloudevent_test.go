package pipeline_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

func TestCloudEventJSONRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   pipeline.Event
	}{
		{name: "json data", ev: pipeline.Event{ID: "1", Source: "/s", Type: "t", Data: []byte(`{"a":1}`), DataContentType: "application/json"}},
		{name: "binary data", ev: pipeline.Event{ID: "2", Source: "/s", Type: "t", Data: []byte{0, 1, 2, 0xff}, DataContentType: "application/octet-stream"}},
		{name: "all attributes", ev: pipeline.Event{
			ID: "3", Source: "/s", Type: "t", Subject: "sub", Time: time.Date(2026, 11, 23, 1, 2, 3, 456789000, time.UTC),
			DataSchema: "https://example.com/s", Severity: pipeline.SeverityCritical,
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Extensions: map[string]string{"region": "eu1"}, Sequence: 42,
		}},
		{name: "no data", ev: pipeline.Event{ID: "4", Source: "/s", Type: "t"}},
		{name: "zero instant time", ev: pipeline.Event{ID: "5", Source: "/s", Type: "t", TimeGiven: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := pipeline.MarshalCloudEventJSON(&tt.ev)
			require.NoError(t, err)
			got, err := pipeline.UnmarshalCloudEventJSON(b)
			require.NoError(t, err, "%s", b)
			require.Equal(t, tt.ev, got)
		})
	}
}

func TestUnmarshalCloudEventJSONRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"not json", `{`, "invalid cloudevent"},
		{"array", `[]`, "invalid cloudevent"},
		{"null", `null`, "not a JSON object"},
		{"no specversion", `{"id":"1","source":"/s","type":"t"}`, "missing specversion"},
		{"old specversion", `{"specversion":"0.3","id":"1","source":"/s","type":"t"}`, "unsupported specversion"},
		{"missing id", `{"specversion":"1.0","source":"/s","type":"t"}`, "missing id"},
		{"missing source and type", `{"specversion":"1.0","id":"1"}`, "missing source"},
		{"bad time", `{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"yesterday"}`, "not RFC 3339"},
		{"bad severity", `{"specversion":"1.0","id":"1","source":"/s","type":"t","severity":"loud"}`, "invalid severity"},
		{"object attribute", `{"specversion":"1.0","id":"1","source":"/s","type":"t","x":{}}`, "attribute \"x\""},
		{"bad extension name", `{"specversion":"1.0","id":"1","source":"/s","type":"t","Bad-Name":"v"}`, "lower-case"},
		{"both data forms", `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA=="}`, "both data"},
		{"bad base64", `{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"!!"}`, "data_base64"},
		{"bad sequence", `{"specversion":"1.0","id":"1","source":"/s","type":"t","sequence":"-1"}`, "sequence"},
		{"bad content type", `{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"/"}`, "datacontenttype"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := pipeline.UnmarshalCloudEventJSON([]byte(tt.in))
			require.ErrorIs(t, err, pipeline.ErrInvalidCloudEvent)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func FuzzUnmarshalCloudEventJSON(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":[1,2]}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"AAEC","datacontenttype":"application/octet-stream"}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"2026-01-01T00:00:00Z","severity":"error","ext":"v"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		ev, err := pipeline.UnmarshalCloudEventJSON(in)
		if err != nil {
			return
		}
		// Whatever parses must survive a round trip unchanged.
		out, err := pipeline.MarshalCloudEventJSON(&ev)
		require.NoError(t, err)
		again, err := pipeline.UnmarshalCloudEventJSON(out)
		require.NoError(t, err, "%s", out)
		require.Equal(t, ev.ID, again.ID)
		require.Equal(t, ev.Type, again.Type)
		require.Equal(t, ev.Source, again.Source)
		require.Equal(t, ev.Extensions, again.Extensions)
		require.True(t, ev.Time.Equal(again.Time))
	})
}

// TestUnmarshalCloudEventJSONFirstError: of several invalid attributes,
// the error names the first in document order, every time (it used to
// name whichever came first in map order).
func TestUnmarshalCloudEventJSONFirstError(t *testing.T) {
	t.Parallel()
	const head = `{"specversion":"1.0","id":"1","source":"/s","type":"t",`
	tests := []struct{ name, in, want string }{
		{"attribute types", head + `"e":{},"b":[],"d":{},"a":[],"c":{}}`, `attribute "e"`},
		{"attribute before data_base64", head + `"x":{},"data_base64":"!!"}`, `attribute "x"`},
		{"data_base64 before attribute", head + `"data_base64":7,"x":{}}`, "data_base64 must be a string"},
		{"both before attribute", head + `"data":1,"data_base64":"AA==","x":{}}`, "both data"},
		{"extension names", head + `"Ext5":"v","Ext2":"v","Ext4":"v","Ext1":"v","Ext3":"v"}`, `"Ext5"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 100 {
				_, err := pipeline.UnmarshalCloudEventJSON([]byte(tt.in))
				require.ErrorIs(t, err, pipeline.ErrInvalidCloudEvent)
				require.ErrorContains(t, err, tt.want)
			}
		})
	}
}

// TestEventFromAttributesFirstError: of several invalid extension names,
// the error names the first in sorted order, every time.
func TestEventFromAttributesFirstError(t *testing.T) {
	t.Parallel()
	attrs := map[string]string{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
	for _, k := range []string{"Ext5", "Ext2", "Ext4", "Ext1", "Ext3"} {
		attrs[k] = "v"
	}
	for range 100 {
		_, err := pipeline.EventFromAttributes(attrs, nil)
		require.ErrorIs(t, err, pipeline.ErrInvalidCloudEvent)
		require.ErrorContains(t, err, `"Ext1"`)
	}
}
