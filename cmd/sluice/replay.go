package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// replayRequest is a replay as asked on the command line or by a POST to
// the admin listener (which runs it inside the engine).
type replayRequest struct {
	Sink   string  `json:"sink"`
	From   string  `json:"from"`
	To     string  `json:"to"`
	Route  string  `json:"route,omitempty"`
	Match  string  `json:"match,omitempty"`
	DryRun bool    `json:"dry_run,omitempty"`
	Rate   float64 `json:"rate,omitempty"`
}

// replayProgressView is one progress report (JSON).
type replayProgressView struct {
	From      uint64  `json:"from"`
	To        uint64  `json:"to"`
	Next      uint64  `json:"next"`
	Scanned   uint64  `json:"scanned"`
	Selected  uint64  `json:"selected"`
	Delivered uint64  `json:"delivered"`
	Failed    uint64  `json:"failed"`
	Rejected  uint64  `json:"rejected"`
	Elapsed   float64 `json:"elapsed_seconds"`
}

func newReplayProgressView(p pipeline.ReplayProgress) replayProgressView {
	return replayProgressView{From: p.From, To: p.To, Next: p.Next, Scanned: p.Scanned, Selected: p.Selected,
		Delivered: p.Delivered, Failed: p.Failed, Rejected: p.Rejected, Elapsed: p.Elapsed.Seconds()}
}

// replayReportView is the outcome of a replay (JSON).
type replayReportView struct {
	replayProgressView
	DryRun      bool              `json:"dry_run"`
	Interrupted bool              `json:"interrupted"`
	ByType      map[string]uint64 `json:"by_type"`
	BySource    map[string]uint64 `json:"by_source"`
	First       *deliveryView     `json:"first,omitempty"`
	Last        *deliveryView     `json:"last,omitempty"`
	Sample      []deliveryView    `json:"sample,omitempty"`
	Errors      []string          `json:"errors,omitempty"`
}

// deliveryView is a delivery as a dry run shows it.
type deliveryView struct {
	Seq   uint64          `json:"seq"`
	Key   string          `json:"key"`
	Route string          `json:"route"`
	Event json.RawMessage `json:"event"`
}

func newDeliveryView(d *pipeline.Delivery) *deliveryView {
	if d == nil {
		return nil
	}
	ev, err := pipeline.MarshalCloudEventJSON(&d.Event)
	if err != nil {
		ev, _ = json.Marshal(err.Error())
	}
	return &deliveryView{Seq: d.Event.Sequence, Key: d.Key, Route: d.Route, Event: ev}
}

func newReplayReportView(r pipeline.ReplayReport) replayReportView {
	v := replayReportView{replayProgressView: newReplayProgressView(r.ReplayProgress), DryRun: r.DryRun,
		Interrupted: r.Interrupted, ByType: r.ByType, BySource: r.BySource, First: newDeliveryView(r.First),
		Last: newDeliveryView(r.Last), Errors: r.Errors}
	if v.ByType == nil {
		v.ByType = map[string]uint64{}
	}
	if v.BySource == nil {
		v.BySource = map[string]uint64{}
	}
	for i := range r.Sample {
		v.Sample = append(v.Sample, *newDeliveryView(&r.Sample[i]))
	}
	return v
}

// runReplay resolves req against j and replays it to a new instance of
// the sink built from spec. Bad requests are usage errors (exit 2).
func runReplay(ctx context.Context, j journal.Store, spec pipeline.Spec, regs pipeline.Registries, set pipeline.Settings,
	req replayRequest, onProgress func(pipeline.ReplayProgress),
) (replayReportView, error) {
	if req.Sink == "" {
		return replayReportView{}, usageErrorf("--sink is required")
	}
	if err := checkReplayNames(spec, req.Sink, req.Route); err != nil {
		return replayReportView{}, err
	}
	fromB, toB, err := parseRange(req.From, req.To, time.Now())
	if err != nil {
		return replayReportView{}, err
	}
	opts := pipeline.ReplayOptions{Sink: req.Sink, Route: req.Route, DryRun: req.DryRun, Rate: req.Rate, Progress: onProgress}
	if req.Match != "" {
		expr, err := config.CompileExpression(req.Match)
		if err != nil {
			return replayReportView{}, usageErrorf("--match: %v", err)
		}
		opts.Match = expr
	}
	from, to, ok, err := resolveRange(ctx, j, fromB, toB)
	if err != nil {
		return replayReportView{}, journalDamageError(err)
	}
	if !ok {
		// An empty range: nothing to replay, but a report all the same.
		rep := replayReportView{DryRun: req.DryRun, ByType: map[string]uint64{}, BySource: map[string]uint64{}}
		rep.From, rep.To, rep.Next = from, to, from
		return rep, nil
	}
	opts.From, opts.To = from, to
	rep, err := pipeline.Replay(ctx, spec, regs, j, set, opts)
	if err != nil && rep.ByType == nil { // it did not start
		return replayReportView{}, replayError(err)
	}
	view := newReplayReportView(rep)
	if err != nil {
		if rep.Interrupted {
			return view, err
		}
		return view, replayError(err)
	}
	return view, nil
}

// replayError maps unknown sinks and routes to usage errors.
func replayError(err error) error {
	if isReplayUsage(err) {
		return withExit(exitUsage, err)
	}
	return journalDamageError(err)
}

func isReplayUsage(err error) bool {
	return errors.Is(err, pipeline.ErrUnknownSink) || errors.Is(err, pipeline.ErrUnknownRoute) || errors.Is(err, pipeline.ErrInvalidConfig)
}

// replayOutcome turns a finished report into the command's error: nil
// when everything was delivered.
func replayOutcome(v replayReportView) error {
	switch {
	case v.Interrupted:
		return fmt.Errorf("replay interrupted: records %d..%d handled; continue with --from %d", v.From, v.Next-1, v.Next)
	case v.Failed > 0:
		return fmt.Errorf("replay: %d of %d deliveries failed (see errors)", v.Failed, v.Selected)
	}
	return nil
}
