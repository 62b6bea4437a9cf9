package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"

	"go.opentelemetry.io/otel/metric"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// admin serves the engine's admin endpoints: health, readiness and
// metrics for anyone who reaches the TCP listener, and the admin API
// (journal records, stats and verify, dead letters, cursors, replay,
// export, pprof when enabled) for the `sluice journal` commands, on the
// Unix socket (admin_socket.go) and, with admin.api: tcp, on the TCP
// listener behind the bearer token (admin_tcp.go).
type admin struct {
	journal journal.Store
	ready   func() bool
	metrics http.Handler
	log     *slog.Logger
	// audit runs replays and exports inside the engine (admin_audit.go).
	audit auditDeps
	// identity is the journal the engine holds, for clients to check.
	identity journalIdentity
	// pprof serves /debug/pprof/ with the API (admin.pprof).
	pprof bool
	// refusals counts refused requests (admin_refuse.go); nil: not counted.
	refusals metric.Int64Counter
	// statusDeps feeds GET /api/v1/status (status.go).
	statusDeps *statusDeps
}

// handler returns every admin route: the public ones and the API. It is
// what the Unix socket serves, behind the peer check.
func (a *admin) handler() http.Handler {
	mux := http.NewServeMux()
	a.publicRoutes(mux)
	a.apiRoutes(mux)
	return mux
}

// publicRoutes adds what the TCP listener serves to anyone: health,
// readiness and metrics.
func (a *admin) publicRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if a.ready() {
			writeText(w, http.StatusOK, "ready\n")
			return
		}
		writeText(w, http.StatusServiceUnavailable, "not ready: journal or sinks not started\n")
	})
	mux.Handle("GET /metrics", a.metrics)
}

// apiRoutes adds the admin API: what reads or changes the journal, its
// dead letters and cursors, and pprof when enabled.
func (a *admin) apiRoutes(mux *http.ServeMux) {
	if a.pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("GET /journal/identity", a.identityHandler)
	mux.HandleFunc("GET /journal/stats", a.stats)
	mux.HandleFunc("GET /journal/records", a.records)
	mux.HandleFunc("GET /journal/verify", a.verify)
	mux.HandleFunc("GET /api/v1/status", a.status)
	mux.HandleFunc("GET /api/v1/tap", a.tap)
	a.dlqRoutes(mux)
	a.cursorRoutes(mux)
	a.auditRoutes(mux)
}

func (a *admin) stats(w http.ResponseWriter, r *http.Request) {
	st, err := a.journal.Stats(r.Context())
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(newStatsView(st))
}

// verify checks the journal's integrity; a damaged journal is reported
// with 200 and a "corrupt" field naming the first bad record, so that the
// client can tell it from a failed request.
func (a *admin) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := parseUintParam(q.Get("from"), 0)
	to, err2 := parseUintParam(q.Get("to"), 0)
	if err := errors.Join(err1, err2); err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	v, err := engineVerify(r.Context(), a.journal, from, to, a.audit.signer)
	res := struct {
		verifyView
		Corrupt string `json:"corrupt,omitempty"`
	}{verifyView: v}
	if err != nil {
		if !errors.Is(err, journal.ErrCorrupt) {
			writeJSONError(w, http.StatusInternalServerError, err)
			return
		}
		res.Corrupt = err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// records streams journal records as CloudEvents JSON lines, from the
// query's `from` sequence, at most `limit` (0: unlimited), and with
// follow=1 keeps streaming as records are appended until the client
// disconnects.
func (a *admin) records(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := parseUintParam(q.Get("from"), 1)
	limit, err2 := parseUintParam(q.Get("limit"), 0)
	if err := errors.Join(err1, err2); err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	follow := q.Get("follow") == "1" || q.Get("follow") == "true"
	w.Header().Set("Content-Type", "application/x-ndjson")
	sw := streaming(w, r)
	ctx := r.Context()
	emit := func(rec pipeline.Record) error {
		line, err := recordJSON(rec)
		if err != nil {
			return err
		}
		_, err = sw.Write(line)
		return err
	}
	err := streamRecords(ctx, a.journal, from, limit, follow, emit, sw.Flush)
	if err != nil && ctx.Err() == nil {
		a.log.Warn("journal records stream ended", slog.String("error", err.Error()))
	}
}

func parseUintParam(s string, def uint64) (uint64, error) {
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return v, nil
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

func writeJSONError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
