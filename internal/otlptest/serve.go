package otlptest

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	collmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// ServeHTTP serves r's OTLP/HTTP endpoints (POST /v1/traces and
// /v1/metrics, application/x-protobuf) on 127.0.0.1 until the test ends
// and returns the base URL, for OTEL_EXPORTER_OTLP_ENDPOINT.
func (r *Receiver) ServeHTTP(tb testing.TB) string {
	tb.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		var msg colltracepb.ExportTraceServiceRequest
		if !decode(w, req, &msg) {
			return
		}
		r.addTraces(&msg)
		reply(w, &colltracepb.ExportTraceServiceResponse{})
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, req *http.Request) {
		var msg collmetricpb.ExportMetricsServiceRequest
		if !decode(w, req, &msg) {
			return
		}
		r.addMetrics(&msg)
		reply(w, &collmetricpb.ExportMetricsServiceResponse{})
	})
	ln := listen(tb)
	srv := &http.Server{Handler: mux} //nolint:gosec // a test peer on loopback
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func decode(w http.ResponseWriter, req *http.Request, msg proto.Message) bool {
	body := io.Reader(req.Body)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return false
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err == nil {
		err = proto.Unmarshal(b, msg)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func reply(w http.ResponseWriter, msg proto.Message) {
	b, err := proto.Marshal(msg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

// ServeGRPC serves r's OTLP/gRPC trace and metrics services on 127.0.0.1
// (plaintext) until the test ends and returns the endpoint URL
// (http://HOST:PORT, which the gRPC exporters take as insecure).
func (r *Receiver) ServeGRPC(tb testing.TB) string {
	tb.Helper()
	srv := grpc.NewServer()
	colltracepb.RegisterTraceServiceServer(srv, traceService{r: r})
	collmetricpb.RegisterMetricsServiceServer(srv, metricsService{r: r})
	ln := listen(tb)
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(srv.Stop)
	return "http://" + ln.Addr().String()
}

type traceService struct {
	colltracepb.UnimplementedTraceServiceServer
	r *Receiver
}

func (s traceService) Export(_ context.Context, req *colltracepb.ExportTraceServiceRequest) (*colltracepb.ExportTraceServiceResponse, error) {
	s.r.addTraces(req)
	return &colltracepb.ExportTraceServiceResponse{}, nil
}

type metricsService struct {
	collmetricpb.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s metricsService) Export(_ context.Context, req *collmetricpb.ExportMetricsServiceRequest) (*collmetricpb.ExportMetricsServiceResponse, error) {
	s.r.addMetrics(req)
	return &collmetricpb.ExportMetricsServiceResponse{}, nil
}

func listen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("otlptest: listen: %v", err)
	}
	return ln
}
