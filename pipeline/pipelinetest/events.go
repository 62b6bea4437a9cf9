package pipelinetest

import (
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// SampleTime is the occurrence time of the events SampleDeliveries makes.
var SampleTime = time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

// SampleDeliveries returns n deliveries with journal sequences first,
// first+1, ... Their events vary in what can vary: JSON and binary data,
// no data, severities, subjects, extensions and trace context, so that
// sinks are exercised beyond the happy path. IDs are "evt-SEQ".
func SampleDeliveries(first uint64, n int) []pipeline.Delivery {
	out := make([]pipeline.Delivery, n)
	for i := range out {
		seq := first + uint64(i)
		e := pipeline.Event{
			ID:          fmt.Sprintf("evt-%d", seq),
			Source:      "/pipelinetest",
			Type:        "sluice.test.event",
			Time:        SampleTime.Add(time.Duration(i) * time.Second),
			Severity:    pipeline.Severity(int(seq%8) - 1),
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			Origin:      "test",
			Sequence:    seq,
		}
		switch seq % 3 {
		case 0:
			e.DataContentType = "application/json"
			e.Data = fmt.Appendf(nil, `{"n":%d,"ok":true}`, seq)
			e.Subject = "subject-" + fmt.Sprint(seq)
		case 1:
			e.DataContentType = "application/octet-stream"
			e.Data = []byte{0, 1, 2, 0xfe, 0xff, byte(seq)}
			e.Extensions = map[string]string{"tenant": "acme", "attempt": fmt.Sprint(seq)}
		case 2:
			// No data at all.
		}
		out[i] = pipeline.Delivery{
			Event: e,
			Key:   pipeline.IdempotencyKey(e.Source, e.ID, "sink-under-test"),
			Route: "route-under-test",
		}
	}
	return out
}

// EventsOf returns the events of deliveries, in order.
func EventsOf(deliveries []pipeline.Delivery) []pipeline.Event {
	out := make([]pipeline.Event, len(deliveries))
	for i, d := range deliveries {
		out[i] = d.Event
	}
	return out
}

// ProbeEvents returns n probe-like events numbered from first, the shape
// the drain benchmarks read: source /probes/web-K, a JSON state in Data,
// a subject, two extensions and origin "in" (about 300 bytes journaled).
func ProbeEvents(first, n int) []pipeline.Event {
	out := make([]pipeline.Event, n)
	for k := range out {
		i := first + k
		out[k] = pipeline.Event{
			Source: "/probes/web-" + fmt.Sprint(i%16), Type: "sluice.probe.state", Subject: "https://web.example/health",
			Origin: "in", DataContentType: "application/json",
			Extensions: map[string]string{"probe": "web", "region": "eu-west-1"},
			Data:       fmt.Appendf(nil, `{"state":"healthy","latency_ms":%d,"status":200,"checks":%d,"detail":"ok"}`, i%97, i),
		}
	}
	return out
}
