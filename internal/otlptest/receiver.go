package otlptest

import (
	"context"
	"sync"
	"time"

	collmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Span is a received span with its resource's attributes.
type Span struct {
	*tracepb.Span
	// Resource holds the resource attributes, as strings.
	Resource map[string]string
}

// Receiver keeps every span and metric exported to it. It is safe for
// concurrent use.
type Receiver struct {
	mu      sync.Mutex
	spans   []Span
	metrics []*metricpb.ResourceMetrics
	changed chan struct{} // closed and replaced on every export
}

// NewReceiver returns an empty receiver; serve it with ServeHTTP or
// ServeGRPC.
func NewReceiver() *Receiver { return &Receiver{changed: make(chan struct{})} }

func (r *Receiver) addTraces(req *colltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		res := Strings(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, Span{Span: s, Resource: res})
			}
		}
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Receiver) addMetrics(req *collmetricpb.ExportMetricsServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, req.GetResourceMetrics()...)
	close(r.changed)
	r.changed = make(chan struct{})
}

// Spans returns the spans received so far, in arrival order.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Metrics returns the resource metrics received so far.
func (r *Receiver) Metrics() []*metricpb.ResourceMetrics {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*metricpb.ResourceMetrics(nil), r.metrics...)
}

// Wait blocks until cond holds, checked after every export, or until
// timeout or ctx ends; it reports whether cond held.
func (r *Receiver) Wait(ctx context.Context, timeout time.Duration, cond func(*Receiver) bool) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		r.mu.Lock()
		changed := r.changed
		r.mu.Unlock()
		if cond(r) {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return cond(r)
		}
	}
}

// Strings renders OTLP attributes as strings (nested values in their
// protobuf text form).
func Strings(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = x.StringValue
		default:
			out[kv.GetKey()] = v.String()
		}
	}
	return out
}
