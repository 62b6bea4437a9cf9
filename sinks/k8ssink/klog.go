package k8ssink

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// client-go logs through klog, which writes to stderr on its own unless
// told otherwise. The sink routes it to slog: a request's logs go to the
// logger of the sink that sent it (klog.NewContext on the request's
// context), and what client-go logs without a context (klog's global
// logger, once per process) to the logger of the sink provisioned last.
// Records carry library=client-go. klog's verbosity stays 0: V(1) and
// above map to slog levels below Info.
var (
	klogOnce   sync.Once
	klogTarget atomic.Pointer[slog.Handler]
)

// routeKlog sends klog's global output to h from now on.
func routeKlog(h slog.Handler) {
	klogTarget.Store(&h)
	klogOnce.Do(func() { klog.SetSlogLogger(slog.New(klogHandler{})) })
}

// clientGoLogger returns the logger client-go logs a sink's requests to.
func clientGoLogger(logger *slog.Logger) logr.Logger {
	return logr.FromSlogHandler(logger.With(slog.String("library", "client-go")).Handler())
}

// withKlog returns ctx carrying the sink's client-go logger.
func (s *sink) withKlog(ctx context.Context) context.Context {
	return klog.NewContext(ctx, s.klog)
}

// klogHandler forwards to the handler routeKlog stored last, with the
// attributes and groups klog added on the way.
type klogHandler struct {
	ops []func(slog.Handler) slog.Handler
}

func (h klogHandler) target() slog.Handler {
	t := *klogTarget.Load()
	for _, op := range h.ops {
		t = op(t)
	}
	return t
}

func (h klogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return (*klogTarget.Load()).Enabled(ctx, level)
}

func (h klogHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.target().Handle(ctx, r)
}

func (h klogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.with(func(t slog.Handler) slog.Handler { return t.WithAttrs(attrs) })
}

func (h klogHandler) WithGroup(name string) slog.Handler {
	return h.with(func(t slog.Handler) slog.Handler { return t.WithGroup(name) })
}

func (h klogHandler) with(op func(slog.Handler) slog.Handler) klogHandler {
	return klogHandler{ops: append(h.ops[:len(h.ops):len(h.ops)], op)}
}
