package hostpluginsink

import (
	"testing"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// FuzzObserve compiles fuzzed rules (selectors, when conditions, globs)
// and maps fuzzed events with them: bad input must give an error, never
// a panic, and an event is either mapped or refused with ErrUnmapped.
func FuzzObserve(f *testing.F) {
	f.Add("data.healthy", "data.kind", "hostplugin", "data.value", "sluice.probe.*", `{"kind":"hostplugin","healthy":true,"value":"x"}`, "application/json")
	f.Add("ext.ok", "subject", "web", "data.a.0.b", "*", `{"a":[{"b":[1,2]}]}`, "")
	f.Add("literal:true", "data", `{"x":1}`, "data", "t", `{"x":1}`, "text/plain")
	f.Add("data..x", "nope", "", "sequence", "[", "\xff", "application/cloudevents+json")
	f.Fuzz(func(t *testing.T, healthy, whenKey, whenValue, value, glob, data, contentType string) {
		o := ObservationConfig{
			NameFrom: "type", Types: []string{glob}, When: map[string]string{whenKey: whenValue},
			Healthy: HealthyConfig{From: healthy}, Value: value, Description: value, FailingSince: value,
		}
		cfg := &Config{Endpoint: DefaultEndpoint, Source: "s", Timeout: time.Second, Observations: []ObservationConfig{o}}
		if cfg.Validate() != nil {
			return
		}
		m, err := compileMapping(cfg)
		if err != nil {
			t.Fatalf("a validated config does not compile: %v", err)
		}
		d := pipeline.Delivery{Event: pipeline.Event{Type: "t", Subject: "web", Data: []byte(data), DataContentType: contentType,
			Extensions: map[string]string{"ok": "true"}}}
		out, err := m.observe(&d)
		if err != nil {
			return
		}
		if out.obs.Name == "" {
			t.Fatalf("mapped to an empty name")
		}
		_ = AppendBody(nil, "s", out.obs)
	})
}
