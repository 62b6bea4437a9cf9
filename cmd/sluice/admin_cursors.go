package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
)

// cursorRoutes adds the cursor endpoints. A running engine refuses to
// move or delete the cursor of a sink it is delivering: its consumer would
// commit over the change (stop the engine, or remove the sink first).
func (a *admin) cursorRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /journal/cursors", a.cursorList)
	mux.HandleFunc("POST /journal/cursors/{name}/set", requireAdminHeader(a.cursorSet))
	mux.HandleFunc("POST /journal/cursors/{name}/delete", requireAdminHeader(a.cursorDelete))
}

func (a *admin) sinkNames() []string {
	names := make([]string, 0, len(a.audit.spec.Sinks))
	for _, s := range a.audit.spec.Sinks {
		names = append(names, s.Name)
	}
	return names
}

func (a *admin) cursorList(w http.ResponseWriter, r *http.Request) {
	st, err := a.journal.Stats(r.Context())
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(cursorViews(st, a.sinkNames()))
}

// refuseConfigured answers 409 for a sink the engine is delivering.
func (a *admin) refuseConfigured(w http.ResponseWriter, name string) bool {
	if !slices.Contains(a.sinkNames(), name) {
		return false
	}
	writeJSONError(w, http.StatusConflict, fmt.Errorf("sink %q is running in this engine: its consumer would commit over the change; stop the engine (or remove the sink from the configuration) first", name))
	return true
}

func (a *admin) cursorSet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	to, err := parseCursorQuery(r.URL.Query())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	if a.refuseConfigured(w, name) {
		return
	}
	seq, err := to.resolve(r.Context(), a.journal)
	if err == nil {
		err = a.journal.SetCursor(r.Context(), name, seq)
	}
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	a.log.Info("cursor set through the admin listener", slog.String("cursor", name), slog.Uint64("next", seq))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(cursorView{Name: name, Next: seq, Sink: cursorOrphan})
}

func (a *admin) cursorDelete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if a.refuseConfigured(w, name) {
		return
	}
	if err := a.journal.DeleteCursor(r.Context(), name); err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	a.log.Info("cursor deleted through the admin listener", slog.String("cursor", name))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"deleted": name})
}
