package vessink

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

// FuzzMapDelivery: whatever an event holds, the sink either encodes a VES
// event that conforms to the official schema of the version, or refuses
// the event with a permanent ErrUnmappable; it never panics.
func FuzzMapDelivery(f *testing.F) {
	f.Add("sluice.vm.fault", "vm17", "application/json", []byte(`{"alarm_condition":"VmStatusError","nova_status":"ERROR"}`), int8(4), uint8(0), false)
	f.Add("sluice.vm.fault.cleared", "vm17", "", []byte(`{"raised_at":"2023-11-14T22:00:00Z"}`), int8(0), uint8(0), true)
	f.Add("sluice.heartbeat", "h", "application/json", []byte(`{"interval":"10s","counter":3}`), int8(0), uint8(0), false)
	f.Add("sluice.probe.state", "web", "application/json", []byte(`{"from":"healthy","to":"unhealthy"}`), int8(2), uint8(0), true)
	f.Add("x", "", "text/plain", []byte("\xff\x00text"), int8(-1), uint8(1), false)
	f.Add("a b\tc", "s\n", "application/json", []byte(`{"":{"x":[1,null]},"ves_severity":"NORMAL","vf_status":"Idle"}`), int8(6), uint8(2), false)
	f.Add("t", "s", "application/json", []byte(`[1,2]`), int8(3), uint8(3), true)
	f.Add("t", "s", "application/cloudevents+json", []byte(`{"to":"draining","from":7}`), int8(1), uint8(4), false)
	f.Fuzz(func(t *testing.T, typ, subject, contentType string, data []byte, sev int8, domain uint8, v5 bool) {
		version := 7
		if v5 {
			version = 5
		}
		cfg := defaultConfig()
		cfg.URL = "https://collector.example/eventListener/v" + string(rune('0'+version))
		cfg.Version = version
		cfg.TimeZone = "UTC+01:00"
		cfg.ReportingEntityName = "fuzz"
		d := domains[int(domain)%len(domains)]
		if d == DomainNotification && v5 {
			d = DomainOther
		}
		if domain%7 != 6 { // sometimes the built-in mapping
			cfg.Rules = []Rule{{Domain: d}}
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		s, err := newSink(t.Context(), pipeline.NopSettings("ves"), cfg)
		if err != nil {
			t.Fatal(err)
		}
		e := pipeline.Event{
			ID: "id", Source: "/fuzz", Type: typ, Subject: subject, DataContentType: contentType, Data: data,
			Severity: pipeline.Severity(sev%8 - 1), Time: time.Unix(1700000000, 0), Sequence: 42,
		}
		m, err := s.m.mapDelivery(t.Context(), &pipeline.Delivery{Event: e, Key: "k"})
		if err != nil {
			if !errors.Is(err, ErrUnmappable) || !pipeline.IsPermanent(err) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if m.skip {
			return
		}
		body := requestBody([]item{{domain: m.domain, body: m.body}})
		if err := ValidateVES(version, body); err != nil {
			t.Fatalf("v%d body does not conform: %v\n%s", version, err, body)
		}
	})
}

// FuzzParseRequestError: error bodies never panic the parser, and what it
// returns is printable on one line.
func FuzzParseRequestError(f *testing.F) {
	f.Add([]byte(`{"requestError":{"ServiceException":{"messageId":"SVC0002","text":"Bad Parameter"}}}`))
	f.Add([]byte(`{"requestError":{"policyException":{"messageId":"POL9003","text":"too big: %1 %2 %3","variables":["a","b"]}}}`))
	f.Add([]byte(`{"requestError":{"serviceException":{"messageId":"SVC","text":"%1","variables":"one"}}}`))
	f.Add([]byte(`{"requestError":[]}`))
	f.Add([]byte("Successfully send event"))
	f.Fuzz(func(t *testing.T, body []byte) {
		id, text, ok := parseRequestError(body)
		if !ok {
			return
		}
		for _, s := range []string{id, text} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\n\r\t") || len(s) > httpclient.MaxSnippet+len("…") {
				t.Fatalf("not one printable line: %q", s)
			}
		}
	})
}

// FuzzParseCommandList: collector answers never panic the parser, and an
// interval it returns is within bounds.
func FuzzParseCommandList(f *testing.F) {
	f.Add([]byte(`{"commandList":[{"commandType":"heartbeatIntervalChange","heartbeatInterval":120}]}`))
	f.Add([]byte(`{"commandList":[{"command":{"commandType":"heartbeatIntervalChange","heartbeatInterval":"30"}}]}`))
	f.Add([]byte(`{"commandList":[{"commandType":"heartbeatIntervalChange","heartbeatInterval":1e3}]}`))
	f.Add([]byte(`{"commandList":{}}`))
	f.Add([]byte(`Successfully send event`))
	f.Fuzz(func(t *testing.T, body []byte) {
		interval, _, _ := parseCommandList(body)
		if interval != 0 && (interval < time.Second || interval > maxHeartbeatInterval) {
			t.Fatalf("interval %s out of bounds", interval)
		}
	})
}

// FuzzLoadAlarms: a damaged state file is an error or a usable table,
// never a panic, and the table works afterwards.
func FuzzLoadAlarms(f *testing.F) {
	f.Add([]byte(`{"version":1,"alarms":{"a":[{"start":1,"cleared":2,"event_id":"k","condition":"C"}],"b":[]}}`))
	f.Add([]byte(`{"version":1,"alarms":{"a":[{"start":5},{"start":1},{"start":3},{"start":2},{"start":9}]}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"alarms":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := t.TempDir() + "/alarms.json"
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		a, err := loadAlarms(path)
		if a == nil {
			t.Fatalf("nil table (err %v)", err)
		}
		_ = a.open()
		a.raise("a", 10, 0, "k", "C")
		a.clear("a", 20)
		a.clear("b", 20)
	})
}
