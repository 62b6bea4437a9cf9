package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// GET /api/v1/tap streams what the running pipeline does at the points
// its query names (source=NAME, route=NAME, sink=NAME, each repeatable)
// as JSON lines (tapLine): first an "open" line once the tap is open,
// then one "event" line per observation, a "dropped" line whenever
// observations were lost because the client reads too slowly (the
// pipeline never waits for a tap), and an "end" line when the engine
// stops (end "engine stopping") or a configuration reload removed a
// point it watches (end "removed", error naming each point gone). It shows event data: it is admin API, behind the socket's peer
// check or the TCP token like the journal's records.

// Tap line types.
const (
	tapLineOpen    = "open"
	tapLineEvent   = "event"
	tapLineDropped = "dropped"
	tapLineEnd     = "end"
)

// End reasons of a tap stream.
const (
	// tapEndStopped: the engine stops.
	tapEndStopped = "engine stopping"
	// tapEndRemoved: a configuration reload removed a point the tap
	// watches; the line's error names each point gone.
	tapEndRemoved = "removed"
)

// tapDropCheck is how often a tap with nothing to send reports new drops.
const tapDropCheck = 500 * time.Millisecond

// maxTapBuffer bounds the buffer a client may ask for.
const maxTapBuffer = 1 << 16

// tapLine is one line of the tap stream, and (type event) of `sluice tap
// --output json`.
type tapLine struct {
	Type string `json:"type"`
	// Open: the points tapped.
	Points []tapPointView `json:"points,omitempty"`
	// Event: where it was observed and what became of it.
	Point   string          `json:"point,omitempty"`
	Source  string          `json:"source,omitempty"`
	Route   string          `json:"route,omitempty"`
	Sink    string          `json:"sink,omitempty"`
	Seq     uint64          `json:"seq,omitempty"`
	Outcome string          `json:"outcome,omitempty"`
	Reason  string          `json:"reason,omitempty"`
	Error   string          `json:"error,omitempty"`
	Redrive bool            `json:"redrive,omitempty"`
	At      *time.Time      `json:"at,omitempty"`
	Event   json.RawMessage `json:"event,omitempty"`
	// Dropped: the observations lost so far.
	Dropped uint64 `json:"dropped,omitempty"`
	// End: why the stream ended.
	End string `json:"end,omitempty"`
}

type tapPointView struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// tapKinds are the query parameters and the kinds they name.
var tapKinds = []struct {
	param string
	kind  pipeline.TapKind
}{{"source", pipeline.TapSource}, {"route", pipeline.TapRoute}, {"sink", pipeline.TapSink}}

// tapLineOf renders an observation.
func tapLineOf(rec pipeline.TapRecord) (tapLine, error) {
	ev, err := pipeline.MarshalCloudEventJSON(&rec.Event)
	if err != nil {
		return tapLine{}, err
	}
	at := rec.At.UTC()
	return tapLine{Type: tapLineEvent, Point: rec.Kind.String(), Source: rec.Source, Route: rec.Route, Sink: rec.Sink,
		Seq: rec.Seq, Outcome: rec.Outcome, Reason: rec.Reason, Error: rec.Err, Redrive: rec.Redrive, At: &at, Event: ev}, nil
}

// tap serves GET /api/v1/tap.
func (a *admin) tap(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var points []pipeline.TapPoint
	var views []tapPointView
	for _, k := range tapKinds {
		for _, name := range q[k.param] {
			points = append(points, pipeline.TapPoint{Kind: k.kind, Name: name})
			views = append(views, tapPointView{Kind: k.param, Name: name})
		}
	}
	buffer, err := parseUintParam(q.Get("buffer"), 0)
	if err == nil && buffer > maxTapBuffer {
		err = fmt.Errorf("buffer %d is more than %d", buffer, maxTapBuffer)
	}
	if err == nil && len(points) == 0 {
		err = errors.New("name at least one source, route or sink to tap")
	}
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	t, err := a.statusDeps.pipeline.Tap(int(buffer), points...)
	switch {
	case errors.Is(err, pipeline.ErrNotRunning):
		writeJSONError(w, http.StatusServiceUnavailable, err)
		return
	case err != nil:
		writeJSONError(w, http.StatusNotFound, err)
		return
	}
	defer t.Close()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	sw := streaming(w, r)
	enc := json.NewEncoder(sw)
	if err := enc.Encode(tapLine{Type: tapLineOpen, Points: views}); err != nil {
		return
	}
	sw.Flush()
	if err := streamTap(r, t, enc, sw.Flush); err != nil && r.Context().Err() == nil {
		a.log.Debug("tap stream ended", slog.String("error", err.Error()))
	}
}

// streamTap writes t's observations until the client goes away or the
// tap ends, reporting drops as they grow and flushing whenever nothing
// more is waiting.
func streamTap(r *http.Request, t *pipeline.Tap, enc *json.Encoder, flush func()) error {
	tick := time.NewTicker(tapDropCheck)
	defer tick.Stop()
	var reported uint64
	reportDrops := func() error {
		if d := t.Dropped(); d > reported {
			reported = d
			return enc.Encode(tapLine{Type: tapLineDropped, Dropped: d})
		}
		return nil
	}
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
			if err := reportDrops(); err != nil {
				return err
			}
			flush()
		case rec, ok := <-t.Records():
			if !ok {
				end := tapLine{Type: tapLineEnd, End: "tap closed"}
				switch err := t.Err(); {
				case errors.Is(err, pipeline.ErrTapStopped):
					end.End = tapEndStopped
				case errors.Is(err, pipeline.ErrTapPointRemoved):
					end.End, end.Error = tapEndRemoved, err.Error()
				}
				err := errors.Join(reportDrops(), enc.Encode(end))
				flush()
				return err
			}
			line, err := tapLineOf(rec)
			if err != nil {
				return err
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
			if len(t.Records()) == 0 {
				if err := reportDrops(); err != nil {
					return err
				}
				flush()
			}
		}
	}
}

// tapQuery is the query of GET /api/v1/tap for the points named.
func tapQuery(sources, routes, sinks []string, buffer int) map[string][]string {
	q := map[string][]string{"source": sources, "route": routes, "sink": sinks}
	if buffer > 0 {
		q["buffer"] = []string{strconv.Itoa(buffer)}
	}
	return q
}
