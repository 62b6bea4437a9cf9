package vessink_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // IANA zones without the system's zoneinfo

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

// mappingCase is a sequence of deliveries (each delivered alone) whose
// request bodies are compared with a golden file and validated against
// the official schema of each version.
type mappingCase struct {
	name       string
	deliveries []pipeline.Delivery
	configure  func(*vessink.Config)
	// v7only marks cases whose domain (notification) does not exist in v5.
	v7only bool
}

// heartbeatData is what sources/heartbeatsource emits.
func heartbeatData(counter int, interval string) map[string]any {
	return map[string]any{
		"host": "vm17", "counter": counter, "started": "2023-11-14T22:00:00Z",
		"uptime_seconds": 800.5, "interval": interval,
	}
}

// probeData is the data of a sluice.probe.state event of an http probe.
func probeData(from, to string, failingSince *time.Time) map[string]any {
	d := map[string]any{
		"probe": "web", "kind": "http", "target": "http://127.0.0.1:8080/healthz", "from": from, "to": to, "state": to,
		"since": t0.Format(time.RFC3339Nano), "healthy": to == "healthy", "consecutive_failures": 0,
		"consecutive_successes": 1, "failure_threshold": 3, "success_threshold": 1, "latency_ms": 1.25,
		"checked_at": t0.Format(time.RFC3339Nano), "status_code": 200, "interval": "15s",
	}
	if to == "unhealthy" {
		d["error"], d["last_error"], d["consecutive_failures"], d["status_code"] = "status 503", "status 503", 3, 503
		d["failing_since"] = failingSince.Format(time.RFC3339Nano)
		d["consecutive_successes"] = 0
	}
	return d
}

func mappingCases() []mappingCase {
	bigObject := map[string]any{}
	for i := range 100 {
		bigObject["field_"+itoa(uint64(i))] = strings.Repeat("x", 2000)
	}
	return []mappingCase{
		{name: "heartbeat", deliveries: []pipeline.Delivery{
			delivery(1, "sluice.heartbeat", "vm17", t0, pipeline.SeverityInfo, heartbeatData(1, "1m0s")),
		}},
		{name: "heartbeat_slow_source", deliveries: []pipeline.Delivery{
			delivery(1, "sluice.heartbeat", "vm17", t0, pipeline.SeverityInfo, heartbeatData(1, "5m0s")),
		}},
		{name: "heartbeat_no_thinning", configure: func(c *vessink.Config) { c.HeartbeatInterval = 0 }, deliveries: []pipeline.Delivery{
			delivery(1, "sluice.heartbeat", "vm17", t0, pipeline.SeverityInfo, heartbeatData(1, "10s")),
		}},
		{name: "vm_fault_lifecycle", deliveries: []pipeline.Delivery{
			delivery(10, "sluice.vm.fault", "vm17", t0, pipeline.SeverityCritical, map[string]any{
				"source_name": "vm17", "source_id": "0b7a6a52-5d3e-4c44-9a3e-5f0d1d2b9e11",
				"alarm_condition": "VmStatusError", "specific_problem": "Nova reports server status ERROR",
				"nova_status": "ERROR", "tenant": "acme",
			}),
			// A re-raise keeps the raise's start.
			delivery(11, "sluice.vm.fault", "vm17", t0.Add(time.Minute), pipeline.SeverityError, map[string]any{
				"source_name": "vm17", "alarm_condition": "VmStatusError", "nova_status": "SHUTOFF",
			}),
			// The clear names no condition: it inherits the raise's.
			delivery(12, "sluice.vm.fault.cleared", "vm17", t0.Add(5*time.Minute), pipeline.SeverityInfo, map[string]any{
				"source_name": "vm17", "specific_problem": "Nova reports server status ACTIVE", "nova_status": "ACTIVE",
			}),
		}},
		{name: "vm_fault_clear_with_raised_at", deliveries: []pipeline.Delivery{
			delivery(20, "sluice.vm.fault.cleared", "vm18", t0.Add(time.Hour), pipeline.SeverityInfo, map[string]any{
				"raised_at": "2023-11-14T22:00:00.123456Z", "alarm_condition": "VmStatusError",
			}),
		}},
		{name: "vm_fault_clear_unknown_raise", deliveries: []pipeline.Delivery{
			delivery(21, "sluice.vm.fault.cleared", "vm19", t0.Add(time.Hour), pipeline.SeverityInfo, nil),
		}},
		{name: "probe_failure", deliveries: []pipeline.Delivery{
			delivery(30, "sluice.probe.failure", "web", t0, pipeline.SeverityError, map[string]any{
				"kind": "http", "url": "http://127.0.0.1:8080/healthz", "last_error": "connection refused",
				"consecutive_failures": 3, "latency_ms": 1.25, "ves_severity": "minor",
			}),
			delivery(31, "sluice.probe.failure", "web", t0.Add(time.Minute), pipeline.SeverityInfo, map[string]any{
				"cleared": true, "kind": "http",
			}),
		}},
		// The data of sources/probesource (its doc.go), written by hand:
		// sinks do not import sources.
		{name: "probe_state", deliveries: []pipeline.Delivery{
			delivery(40, "sluice.probe.state", "web", t0, pipeline.SeverityInfo, probeData("unknown", "healthy", nil)),
			delivery(41, "sluice.probe.state", "web", t0.Add(time.Minute), pipeline.SeverityError, probeData("healthy", "unhealthy", &t0)),
			delivery(42, "sluice.probe.state", "web", t0.Add(2*time.Minute), pipeline.SeverityInfo, map[string]any{"to": "healthy"}),
		}},
		{name: "lb_state", deliveries: []pipeline.Delivery{
			delivery(50, "sluice.lb.state", "pool-a/member-3", t0, pipeline.SeverityNotice, map[string]any{
				"old_state": "ACTIVE", "new_state": "draining", "interface": "lb-http",
			}),
		}},
		{name: "other_json", deliveries: []pipeline.Delivery{
			delivery(60, "sluice.lb.request", "lb", t0, pipeline.SeverityInfo, map[string]any{
				"action": "UPDATE", "nested": map[string]any{"a": []any{1, "two", nil}}, "nothing": nil,
				"unicode": "héllo ☃ \u2028", "control": "tab\there\nnewline\x01", "quote": `say "hi" \ bye`,
				"big_number": json.Number("12345678901234567890"), "flag": false,
			}),
		}},
		{name: "other_binary", deliveries: []pipeline.Delivery{func() pipeline.Delivery {
			d := delivery(61, "sluice.test.binary", "", t0, pipeline.SeverityDebug, []byte{0, 1, 2, 0xfe, 0xff})
			d.Event.DataContentType = "application/octet-stream"
			return d
		}()}},
		{name: "other_text_and_bad_json", deliveries: []pipeline.Delivery{
			func() pipeline.Delivery {
				d := delivery(62, "sluice.test.text", "s", t0, pipeline.SeverityCritical, []byte("plain text\nline two"))
				d.Event.DataContentType = "text/plain; charset=utf-8"
				return d
			}(),
			func() pipeline.Delivery {
				d := delivery(63, "sluice.test.json", "s", t0, pipeline.SeverityError, []byte(`{"broken": `))
				d.Event.DataContentType = "application/json"
				return d
			}(),
			func() pipeline.Delivery {
				d := delivery(64, "sluice.test.array", "s", t0, pipeline.SeverityInfo, []byte(`[1, 2, {"x": "y"}]`))
				d.Event.DataContentType = "application/json"
				return d
			}(),
			func() pipeline.Delivery {
				d := delivery(65, "sluice.test.invalid-utf8", "s\xff", t0, pipeline.SeverityInfo, []byte("\xff\xfe text"))
				d.Event.DataContentType = "text/plain"
				return d
			}(),
		}},
		{name: "other_oversized", deliveries: []pipeline.Delivery{
			delivery(66, "sluice.test.big", "s", t0, pipeline.SeverityInfo, bigObject),
		}},
		{name: "edge_zero_time_and_empty_names", deliveries: []pipeline.Delivery{func() pipeline.Delivery {
			d := delivery(70, "x", "", time.Time{}, pipeline.SeverityInfo, nil)
			d.Event.Source, d.Key = "", ""
			return d
		}()}},
		{name: "notification_default", v7only: true, configure: func(c *vessink.Config) { c.DefaultDomain = vessink.DomainNotification },
			deliveries: []pipeline.Delivery{
				delivery(80, "sluice.config.reloaded", "sluice", t0, pipeline.SeverityNotice, map[string]any{"from": "v1", "to": "v2"}),
				delivery(81, "sluice.lb.request", "", t0, pipeline.SeverityInfo, nil),
			}},
		{name: "rule_probe_state_as_fault", configure: func(c *vessink.Config) {
			c.Rules = []vessink.Rule{{
				Routes: []string{"probes-to-ves"}, Types: []string{"sluice.probe.state"}, Domain: vessink.DomainFault,
				EventSourceType: "host", AlarmCondition: "ProbeFailure", EventType: "applicationNf", VFStatus: "Idle",
			}}
		}, deliveries: func() []pipeline.Delivery {
			failingSince := t0.Add(-30 * time.Second)
			out := []pipeline.Delivery{
				delivery(89, "sluice.probe.state", "web", t0.Add(-time.Minute), pipeline.SeverityInfo, probeData("unknown", "healthy", nil)),
				delivery(90, "sluice.probe.state", "web", t0, pipeline.SeverityError, probeData("healthy", "unhealthy", &failingSince)),
				delivery(91, "sluice.probe.state", "web", t0.Add(2*time.Minute), pipeline.SeverityInfo, probeData("unhealthy", "healthy", nil)),
				// Outside the rule's route: the built-in stateChange.
				delivery(92, "sluice.probe.state", "web", t0.Add(3*time.Minute), pipeline.SeverityInfo, map[string]any{"from": "up", "to": "down"}),
			}
			for i := range out[:3] {
				out[i].Route = "probes-to-ves"
			}
			return out
		}()},
		{name: "rule_overrides", configure: func(c *vessink.Config) {
			c.Publisher = "AcmeVnf"
			c.ReportingEntityID = "cc305d54-75b4-431b-adb2-eb6b9e541234"
			c.Rules = []vessink.Rule{
				{Types: []string{"acme.*"}, Domain: vessink.DomainStateChange, EventName: "StateChange_AcmeVnf_Custom",
					Priority: "Low", StateInterface: "eth0", States: map[string]string{"spinning": "maintenance"}},
				{Types: []string{"sluice.vm.fault*"}, Domain: vessink.DomainFault, Priority: "Medium", SpecificProblem: "VM trouble"},
			}
		}, deliveries: []pipeline.Delivery{
			delivery(100, "acme.disk", "disk0", t0, pipeline.SeverityInfo, map[string]any{"from": "ok", "to": "spinning"}),
			delivery(101, "sluice.vm.fault", "vm20", t0, pipeline.SeverityAlert, map[string]any{"vf_status": "Bogus", "ves_severity": "SEVERE"}),
		}},
		{name: "fault_alarm_event_id", configure: func(c *vessink.Config) { c.FaultEventID = vessink.FaultEventIDAlarm },
			deliveries: []pipeline.Delivery{
				delivery(110, "sluice.vm.fault", "vm21", t0, pipeline.SeverityCritical, nil),
				delivery(111, "sluice.vm.fault.cleared", "vm21", t0.Add(time.Minute), pipeline.SeverityInfo, nil),
				delivery(112, "sluice.vm.fault", "vm21", t0.Add(2*time.Minute), pipeline.SeverityCritical, nil),
			}},
		{name: "zone_iana", configure: func(c *vessink.Config) { c.TimeZone = "America/St_Johns" }, deliveries: []pipeline.Delivery{
			delivery(120, "sluice.test.winter", "s", time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC), pipeline.SeverityInfo, nil),
			delivery(121, "sluice.test.summer", "s", time.Date(2024, 7, 15, 12, 0, 0, 0, time.UTC), pipeline.SeverityInfo, nil),
		}},
	}
}

// TestMappingGolden delivers every mapping case, one event per request,
// to the collector for v7 and v5, validates every body against the
// official schema, and compares the bodies with golden files.
func TestMappingGolden(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	for _, tc := range mappingCases() {
		for _, version := range []int{7, 5} {
			if tc.v7only && version == 5 {
				continue
			}
			t.Run(tc.name+"/v"+itoa(uint64(version)), func(t *testing.T) {
				t.Parallel()
				c := newCollector(t, pki)
				cfg := testConfig(c, pki)
				cfg.Version = version
				cfg.URL = c.URL() + "/eventListener/v" + itoa(uint64(version))
				if tc.configure != nil {
					tc.configure(cfg)
				}
				s := startSink(t, pipeline.NopSettings("ves"), cfg)
				for _, d := range tc.deliveries {
					require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{d}))
				}
				c.requireConforming(t)
				require.Len(t, c.Requests(), len(tc.deliveries))
				golden(t, tc.name+".v"+itoa(uint64(version))+".json", indentBodies(t, c.Requests()))
			})
		}
	}
}

// TestSamplesAgainstSchemas checks the validator on the reference samples,
// reproducing the traps PROTOCOLS.md §3.5 found with Python's jsonschema:
// the spec's own 7.2 fault sample and the multicloud agent's v5 event are
// invalid for v7, and a batch of mixed domains passes the schema (only the
// collector's domain check refuses it).
func TestSamplesAgainstSchemas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		v7, v5 bool
	}{
		{file: "fault_vm_raise_v7.json", v7: true},
		{file: "fault_vm_clear_v7.json", v7: true},
		{file: "heartbeat_v7.json", v7: true},
		{file: "statechange_v7.json", v7: true},
		{file: "batch_mixed_domains_v7.json", v7: true},
		{file: "spec_sample_fault_v7_as_published.json", v7: false, v5: false},
		{file: "multicloud_fault_vm_v5_shape.json", v7: false, v5: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			b := readTestdata(t, "samples", tt.file)
			check := func(version int, valid bool) {
				err := vessink.ValidateVES(version, b)
				if valid {
					assert.NoError(t, err, "v%d", version)
				} else {
					assert.Error(t, err, "v%d", version)
				}
			}
			check(7, tt.v7)
			if tt.v5 {
				check(5, true)
			}
		})
	}
	require.Error(t, vessink.ValidateVES(7, []byte(`{"event":{"commonEventHeader":{}}}`)), "an empty header")
	require.NoError(t, vessink.ValidateVES(7, []byte(`{}`)), "the 30.2.1 root has no required member (trap 2)")
}

// TestUnmappableState checks that a state word no rule maps fails that
// event permanently, without a request, and the rest of the batch goes.
func TestUnmappableState(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	c := newCollector(t, pki)
	s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
	batch := []pipeline.Delivery{
		delivery(1, "sluice.lb.state", "m1", t0, pipeline.SeverityInfo, map[string]any{"to": "inService"}),
		delivery(2, "sluice.lb.state", "m2", t0, pipeline.SeverityInfo, map[string]any{"to": "exploded"}),
		delivery(3, "sluice.lb.state", "m3", t0, pipeline.SeverityInfo, map[string]any{"from": "sideways", "to": "up"}),
		delivery(4, "sluice.lb.state", "m4", t0, pipeline.SeverityInfo, map[string]any{}),
	}
	err := s.Deliver(t.Context(), batch)
	var be *pipeline.BatchError
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failed, 3)
	for i, f := range be.Failed {
		assert.Equal(t, i+1, f.Index)
		assert.True(t, pipeline.IsPermanent(f.Err))
		require.ErrorIs(t, f.Err, vessink.ErrUnmappable)
	}
	assert.Contains(t, be.Failed[0].Err.Error(), `new state "exploded"`)
	assert.Contains(t, be.Failed[1].Err.Error(), `old state "sideways"`)
	require.Len(t, c.Accepted(), 1)
	c.requireConforming(t)

	err = s.Deliver(t.Context(), batch[1:2])
	require.ErrorIs(t, err, vessink.ErrUnmappable, "a batch of one gets the event's own error")
	require.True(t, pipeline.IsPermanent(err))
}

func readTestdata(t *testing.T, elem ...string) []byte {
	t.Helper()
	b, err := readFile(append([]string{"testdata"}, elem...)...)
	require.NoError(t, err)
	return b
}

// eventsOf decodes the VES events of a body.
func eventsOf(t *testing.T, body []byte) []json.RawMessage {
	t.Helper()
	var doc struct {
		Event     json.RawMessage   `json:"event"`
		EventList []json.RawMessage `json:"eventList"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	if doc.Event != nil {
		return []json.RawMessage{doc.Event}
	}
	return doc.EventList
}
