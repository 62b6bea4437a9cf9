package vessink_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// TestLBStateWords checks that every transition the lbworker source emits
// in sluice.lb.state (ACTIVE, SUSPENDED, DELETED, ERROR) maps to the VES
// states, and that the stateInterface is the load balancer (a device's
// load balancers share its subject, the sourceName), unless the data or a
// rule names one.
func TestLBStateWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, from, to, iface string
		rule                  string
		wantOld, wantNew      string
		wantIface             string
	}{
		{name: "update", to: eventtypes.LBActive, wantOld: "outOfService", wantNew: "inService", wantIface: "web"},
		{name: "suspend", from: eventtypes.LBActive, to: eventtypes.LBSuspended, wantOld: "inService", wantNew: "maintenance", wantIface: "web"},
		{name: "enable", from: eventtypes.LBSuspended, to: eventtypes.LBActive, wantOld: "maintenance", wantNew: "inService", wantIface: "web"},
		{name: "delete", from: eventtypes.LBSuspended, to: eventtypes.LBDeleted, wantOld: "maintenance", wantNew: "outOfService", wantIface: "web"},
		{name: "error", from: eventtypes.LBActive, to: eventtypes.LBError, wantOld: "inService", wantNew: "outOfService", wantIface: "web"},
		{name: "data interface first", to: eventtypes.LBActive, iface: "eth0", wantOld: "outOfService", wantNew: "inService", wantIface: "eth0"},
		{name: "rule interface first", to: eventtypes.LBActive, rule: "lbs", wantOld: "outOfService", wantNew: "inService", wantIface: "lbs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pki := newPKI(t)
			c := newCollector(t, pki)
			cfg := testConfig(c, pki)
			if tc.rule != "" {
				cfg.Rules = []vessink.Rule{{Types: []string{eventtypes.LBState}, Domain: vessink.DomainStateChange, StateInterface: tc.rule}}
			}
			s := startSink(t, pipeline.NopSettings("ves"), cfg)
			data := map[string]any{"load_balancer": "web", "protocol": "http", "to": tc.to}
			if tc.from != "" {
				data["from"] = tc.from
			}
			if tc.iface != "" {
				data["interface"] = tc.iface
			}
			require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{delivery(1, eventtypes.LBState, "lb-host", t0, pipeline.SeverityNotice, data)}))
			c.requireConforming(t)
			require.Len(t, c.Accepted(), 1)
			var ev struct {
				CommonEventHeader struct{ Domain, SourceName string }
				StateChangeFields struct{ OldState, NewState, StateInterface string }
			}
			require.NoError(t, json.Unmarshal(c.Accepted()[0], &ev))
			assert.Equal(t, "stateChange", ev.CommonEventHeader.Domain)
			assert.Equal(t, "lb-host", ev.CommonEventHeader.SourceName, "the device")
			assert.Equal(t, tc.wantOld, ev.StateChangeFields.OldState)
			assert.Equal(t, tc.wantNew, ev.StateChangeFields.NewState)
			assert.Equal(t, tc.wantIface, ev.StateChangeFields.StateInterface)
		})
	}
}
