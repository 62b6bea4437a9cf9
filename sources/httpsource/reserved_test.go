package httpsource_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIngestRefusesEngineAttributes checks issue 13 item 7: a client
// cannot pass for one of Sluice's sources. A sluice.* type, a /sluice/
// source and Sluice's extensions (kvp*, sluiceorigin, appendtime,
// chainhash, idempotencykey) are refused with a 400 naming the
// attribute, in every mode, and nothing reaches the journal.
func TestIngestRefusesEngineAttributes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	with := func(old, repl string) string { return strings.Replace(validEvent, old, repl, 1) }
	tests := []struct {
		name string
		req  request
		want string
	}{
		{name: "probe state type", req: structured(with(`"type":"acme.test"`, `"type":"sluice.probe.state"`)), want: `type "sluice.probe.state"`},
		{name: "type in other case", req: structured(with(`"type":"acme.test"`, `"type":"Sluice.Probe.State"`)), want: "reserved to Sluice"},
		{name: "engine source", req: structured(with(`"source":"/test"`, `"source":"/sluice/sources/web"`)), want: `source "/sluice/sources/web"`},
		{name: "kvpresult", req: structured(with(`"tenant":"acme"`, `"kvpresult":"SUCCESS"`)), want: `extension "kvpresult"`},
		{name: "kvptype", req: structured(with(`"tenant":"acme"`, `"kvptype":"PROVISIONING_REPORT"`)), want: `extension "kvptype"`},
		{name: "sluiceorigin", req: structured(with(`"tenant":"acme"`, `"sluiceorigin":"probe"`)), want: `extension "sluiceorigin"`},
		{name: "appendtime", req: structured(with(`"tenant":"acme"`, `"appendtime":"2026-01-01T00:00:00Z"`)), want: `extension "appendtime"`},
		{name: "chainhash", req: structured(with(`"tenant":"acme"`, `"chainhash":"00"`)), want: `extension "chainhash"`},
		{name: "idempotencykey", req: structured(with(`"tenant":"acme"`, `"idempotencykey":"k"`)), want: `extension "idempotencykey"`},
		{name: "in a batch", req: batched("[" + validEvent + "," + with(`"type":"acme.test"`, `"type":"sluice.probe.heartbeat"`) + "]"), want: "batch event 1"},
		{name: "binary type", req: binary("{}", map[string]string{"ce-type": "sluice.probe.state"}), want: "reserved to Sluice"},
		{name: "binary extension", req: binary("{}", map[string]string{"ce-kvpname": "provisioning"}), want: `extension "kvpname"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, tt.req)
			require.Equal(t, 400, r.status, r.body)
			assert.Contains(t, r.body["error"], tt.want)
		})
	}
	assert.Empty(t, s.host.Events(), "nothing refused was emitted")
	r := s.do(t, structured(validEvent))
	require.Equal(t, 202, r.status, r.body)
}
