package main

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// statusDeps is what GET /api/v1/status reads: the running pipeline, its
// journal and the reloader's configuration state.
type statusDeps struct {
	pipeline *pipeline.Pipeline
	journal  journal.Store
	config   func() configState
}

// statusView is the JSON of GET /api/v1/status. Its fields are a stable
// interface (documented in README "Status"); new fields may be added.
type statusView struct {
	Version string            `json:"version"`
	Ready   bool              `json:"ready"`
	Config  configState       `json:"config"`
	Journal statusJournal     `json:"journal"`
	Sources []statusSource    `json:"sources"`
	Sinks   []statusSink      `json:"sinks"`
	Cursors map[string]uint64 `json:"cursors"`
	// DeadLetters counts the stored dead letters of every sink.
	DeadLetters int `json:"dead_letters"`
}

type statusJournal struct {
	First   uint64 `json:"first"`
	Last    uint64 `json:"last"`
	Records uint64 `json:"records"`
	Bytes   int64  `json:"bytes"`
}

type statusSource struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Running bool   `json:"running"`
}

type statusSink struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Running bool   `json:"running"`
	// Cursor is the next sequence the sink has not handled.
	Cursor uint64 `json:"cursor"`
	// Lag counts appended records not yet handled; LagSeconds is how
	// long the oldest of them has waited.
	Lag         uint64  `json:"lag"`
	LagSeconds  float64 `json:"lag_seconds"`
	DeadLetters int     `json:"dead_letters"`
}

// status serves GET /api/v1/status.
func (a *admin) status(w http.ResponseWriter, r *http.Request) {
	v, err := a.statusDeps.view(r.Context())
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// view assembles the status.
func (d *statusDeps) view(ctx context.Context) (statusView, error) {
	st, err := d.journal.Stats(ctx)
	if err != nil {
		return statusView{}, err
	}
	letters := map[string]int{}
	total := 0
	err = d.journal.DeadLetters(ctx, pipeline.DeadLetterFilter{}, func(l pipeline.DeadLetter) error {
		letters[l.Sink]++
		total++
		return nil
	})
	if err != nil {
		return statusView{}, err
	}
	ps := d.pipeline.Status()
	v := statusView{
		Version: versionString(), Ready: ps.Ready, Config: d.config(),
		Journal:     statusJournal{First: st.First, Last: st.Last, Bytes: st.Bytes},
		Sources:     []statusSource{},
		Sinks:       []statusSink{},
		Cursors:     st.Cursors,
		DeadLetters: total,
	}
	if st.Last >= st.First && st.Last != 0 {
		v.Journal.Records = st.Last - st.First + 1
	}
	if v.Cursors == nil {
		v.Cursors = map[string]uint64{}
	}
	for _, s := range ps.Sources {
		v.Sources = append(v.Sources, statusSource{Name: s.Name, Type: s.Type, Running: s.Running})
	}
	for _, s := range ps.Sinks {
		cursor := s.Next
		if c, ok := st.Cursors[s.Name]; ok && cursor == 0 {
			cursor = c
		}
		v.Sinks = append(v.Sinks, statusSink{Name: s.Name, Type: s.Type, Running: s.Running, Cursor: cursor,
			Lag: s.Lag, LagSeconds: s.LagAge.Round(time.Millisecond).Seconds(), DeadLetters: letters[s.Name]})
	}
	return v, nil
}
