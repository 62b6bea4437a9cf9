package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/sluice-dev/sluice/pipeline"
)

// adminHeader must be set (to "1") on the admin's POST requests. A browser
// cannot send it cross-site without a CORS preflight, which the admin never
// grants, so a web page cannot make the engine redrive or purge.
const adminHeader = "X-Sluice-Admin"

// dlqRoutes adds the dead-letter endpoints. Filters are query parameters:
// sink, reason, since and until (RFC 3339), seq (repeated).
func (a *admin) dlqRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /dlq", a.dlqList)
	mux.HandleFunc("GET /dlq/{sink}/{seq}", a.dlqShow)
	mux.HandleFunc("POST /dlq/redrive", requireAdminHeader(a.dlqRedrive))
	mux.HandleFunc("POST /dlq/purge", requireAdminHeader(a.dlqPurge))
}

func requireAdminHeader(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(adminHeader) != "1" {
			writeJSONError(w, http.StatusForbidden, fmt.Errorf("missing header %s: 1", adminHeader))
			return
		}
		h(w, r)
	}
}

// dlqList streams the selected dead letters as JSON lines.
func (a *admin) dlqList(w http.ResponseWriter, r *http.Request) {
	f, err := parseDLQFilter(r.URL.Query())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(streaming(w, r))
	wrote := false
	err = a.journal.DeadLetters(r.Context(), f, func(l pipeline.DeadLetter) error {
		v, err := newDeadLetterView(l)
		if err != nil {
			return err
		}
		wrote = true
		return enc.Encode(v)
	})
	if err != nil {
		if !wrote {
			writeJSONError(w, http.StatusInternalServerError, err)
			return
		}
		// The client sees a truncated stream (its decoder fails on it).
		a.log.Warn("dead-letter list ended", slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
}

func (a *admin) dlqShow(w http.ResponseWriter, r *http.Request) {
	sink := r.PathValue("sink")
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, fmt.Errorf("invalid number %q", r.PathValue("seq")))
		return
	}
	var found *pipeline.DeadLetter
	err = a.journal.DeadLetters(r.Context(), pipeline.DeadLetterFilter{Sink: sink, Seqs: []uint64{seq}}, func(l pipeline.DeadLetter) error {
		found = &l
		return nil
	})
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err)
		return
	}
	if found == nil {
		writeJSONError(w, http.StatusNotFound, fmt.Errorf("%w: sink %q seq %d", errNoDeadLetter, sink, seq))
		return
	}
	v, err := newDeadLetterView(*found)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (a *admin) dlqRedrive(w http.ResponseWriter, r *http.Request) {
	f, err := parseDLQFilter(r.URL.Query())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	n, err := a.journal.RequestRedrive(r.Context(), f)
	a.answerCount(w, "redrive", n, err)
}

// dlqPurge refuses to remove everything unless all=1.
func (a *admin) dlqPurge(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseDLQFilter(q)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	if !filterSet(f) && q.Get("all") != "1" {
		writeJSONError(w, http.StatusBadRequest, errors.New("purge needs a filter or all=1"))
		return
	}
	n, err := a.journal.DeleteDeadLetters(r.Context(), f)
	a.answerCount(w, "purge", n, err)
}

// answerCount answers {"count": n} for a dead-letter action, and logs it.
func (a *admin) answerCount(w http.ResponseWriter, action string, n int, err error) {
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err)
		return
	}
	a.log.Info("dead letters changed through the admin listener", slog.String("action", action), slog.Int("count", n))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"count": n})
}
