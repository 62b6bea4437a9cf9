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
	Version string `json:"version"`
	// Time is when the snapshot was taken: rates are the difference of
	// two snapshots' counters over the difference of their times.
	Time    time.Time         `json:"time"`
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
	// DiskBytes is the journal's size on disk, as `sluice journal stats`
	// and `verify` report disk_bytes.
	DiskBytes int64 `json:"disk_bytes"`
}

type statusSource struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Running bool   `json:"running"`
	// Appended and EmitErrors are totals since the engine started (kept
	// across reloads): events appended, emits that failed.
	Appended   uint64 `json:"appended"`
	EmitErrors uint64 `json:"emit_errors"`
	// DeadLetters counts the stored dead letters of the source's events,
	// at every sink.
	DeadLetters int `json:"dead_letters"`
}

type statusSink struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Running bool   `json:"running"`
	// Cursor is the next sequence the sink has not handled.
	Cursor uint64 `json:"cursor"`
	// Lag counts appended records not yet handled; LagSeconds is how
	// long the oldest of them has waited.
	Lag        uint64  `json:"lag"`
	LagSeconds float64 `json:"lag_seconds"`
	// OldestPending is the append time of the oldest record not yet
	// handled, absent when caught up.
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
	// DeadLetters counts the sink's stored dead letters.
	DeadLetters int `json:"dead_letters"`
	// Totals since the engine started (kept across reloads): deliveries
	// that took effect, retries scheduled, deliveries dead-lettered,
	// failed Deliver calls.
	Delivered    uint64 `json:"delivered"`
	Retries      uint64 `json:"retries"`
	DeadLettered uint64 `json:"dead_lettered"`
	Failures     uint64 `json:"failures"`
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
	letters, byOrigin := map[string]int{}, map[string]int{}
	total := 0
	err = d.journal.DeadLetters(ctx, pipeline.DeadLetterFilter{}, func(l pipeline.DeadLetter) error {
		letters[l.Sink]++
		byOrigin[l.Event.Origin]++
		total++
		return nil
	})
	if err != nil {
		return statusView{}, err
	}
	ps := d.pipeline.Status()
	v := statusView{
		Version: versionString(), Time: time.Now().UTC(), Ready: ps.Ready, Config: d.config(),
		Journal:     statusJournal{First: st.First, Last: st.Last, DiskBytes: st.Bytes},
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
		v.Sources = append(v.Sources, statusSource{Name: s.Name, Type: s.Type, Running: s.Running,
			Appended: s.Appended, EmitErrors: s.EmitErrors, DeadLetters: byOrigin[s.Name]})
	}
	for _, s := range ps.Sinks {
		cursor := s.Next
		if c, ok := st.Cursors[s.Name]; ok && cursor == 0 {
			cursor = c
		}
		ss := statusSink{Name: s.Name, Type: s.Type, Running: s.Running, Cursor: cursor,
			Lag: s.Lag, LagSeconds: s.LagAge.Round(time.Millisecond).Seconds(), DeadLetters: letters[s.Name],
			Delivered: s.Delivered, Retries: s.Retries, DeadLettered: s.DeadLettered, Failures: s.Failures}
		if !s.OldestPending.IsZero() {
			at := s.OldestPending.UTC()
			ss.OldestPending = &at
		}
		v.Sinks = append(v.Sinks, ss)
	}
	return v, nil
}
