package main

import (
	"log/slog"
	"sync"
	"time"
)

// telemetryErrorEvery is the least time between two logged export
// failures: a collector that is down fails every batch.
const telemetryErrorEvery = 30 * time.Second

// exportErrorLog is the OpenTelemetry error handler: it logs export
// failures as warnings, at most one per telemetryErrorEvery, counting
// those it suppressed.
type exportErrorLog struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func newExportErrorLog(log *slog.Logger) *exportErrorLog {
	return &exportErrorLog{log: log, now: time.Now}
}

// Handle implements otel.ErrorHandler.
func (h *exportErrorLog) Handle(err error) {
	h.mu.Lock()
	now := h.now()
	if !h.last.IsZero() && now.Sub(h.last) < telemetryErrorEvery {
		h.suppressed++
		h.mu.Unlock()
		return
	}
	suppressed := h.suppressed
	h.last, h.suppressed = now, 0
	h.mu.Unlock()
	h.log.Warn("telemetry export failed", slog.String("error", err.Error()), slog.Int("suppressed_since_last_log", suppressed))
}
