package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// topRow is one source or sink in `sluice top`, computed from two status
// snapshots (see topRows).
type topRow struct {
	Kind, Name, Type string
	Running          bool
	// Rate is events/s over the last interval: appended for a source,
	// delivered for a sink; NaN when unknown (first snapshot, or the
	// counter went back: the engine restarted).
	Rate float64
	// Total is appended (source) or delivered (sink) since the engine
	// started.
	Total uint64
	// Lag and LagAge are a sink's backlog (zero for a source).
	Lag    uint64
	LagAge time.Duration
	// Retries counts retries since start (a sink; emit errors for a
	// source); RetryRate is per second over the last interval (NaN:
	// unknown).
	Retries   uint64
	RetryRate float64
	// Dead is the stored dead letters: a sink's, or of a source's events.
	Dead int
}

// topRows computes the rows of cur, with rates against prev (nil: the
// first snapshot, rates unknown). Sources come first, then sinks, each in
// configuration order.
func topRows(prev *statusView, cur statusView) []topRow {
	dt := math.NaN()
	if prev != nil {
		dt = cur.Time.Sub(prev.Time).Seconds()
	}
	prevSources, prevSinks := map[string]statusSource{}, map[string]statusSink{}
	if prev != nil {
		for _, s := range prev.Sources {
			prevSources[s.Name] = s
		}
		for _, s := range prev.Sinks {
			prevSinks[s.Name] = s
		}
	}
	rows := make([]topRow, 0, len(cur.Sources)+len(cur.Sinks))
	for _, s := range cur.Sources {
		r := topRow{Kind: "source", Name: s.Name, Type: s.Type, Running: s.Running, Total: s.Appended,
			Retries: s.EmitErrors, Dead: s.DeadLetters, Rate: math.NaN(), RetryRate: math.NaN()}
		if p, ok := prevSources[s.Name]; ok {
			r.Rate, r.RetryRate = rate(p.Appended, s.Appended, dt), rate(p.EmitErrors, s.EmitErrors, dt)
		}
		rows = append(rows, r)
	}
	for _, s := range cur.Sinks {
		r := topRow{Kind: "sink", Name: s.Name, Type: s.Type, Running: s.Running, Total: s.Delivered,
			Lag: s.Lag, LagAge: time.Duration(s.LagSeconds * float64(time.Second)), Retries: s.Retries,
			Dead: s.DeadLetters, Rate: math.NaN(), RetryRate: math.NaN()}
		if p, ok := prevSinks[s.Name]; ok {
			r.Rate, r.RetryRate = rate(p.Delivered, s.Delivered, dt), rate(p.Retries, s.Retries, dt)
		}
		rows = append(rows, r)
	}
	return rows
}

// rate is (b-a)/dt, NaN when it cannot be known: no interval, or a
// counter that went back (the engine restarted).
func rate(a, b uint64, dt float64) float64 {
	if math.IsNaN(dt) || dt <= 0 || b < a {
		return math.NaN()
	}
	return float64(b-a) / dt
}

// topSorts are the orders `s` cycles through.
var topSorts = []struct {
	name string
	less func(a, b topRow) int
}{
	{"config", nil},
	{"name", func(a, b topRow) int { return cmp.Compare(a.Name, b.Name) }},
	{"rate", func(a, b topRow) int { return cmp.Compare(nanLow(b.Rate), nanLow(a.Rate)) }},
	{"lag", func(a, b topRow) int { return cmp.Compare(b.Lag, a.Lag) }},
	{"lag age", func(a, b topRow) int { return cmp.Compare(b.LagAge, a.LagAge) }},
	{"dead letters", func(a, b topRow) int { return cmp.Compare(b.Dead, a.Dead) }},
}

func nanLow(f float64) float64 {
	if math.IsNaN(f) {
		return math.Inf(-1)
	}
	return f
}

// sortRows orders rows by topSorts[by] (stable: ties keep the
// configuration order, sources before sinks).
func sortRows(rows []topRow, by int) []topRow {
	out := slices.Clone(rows)
	if f := topSorts[by%len(topSorts)].less; f != nil {
		slices.SortStableFunc(out, f)
	}
	return out
}

// Cell formats.

func fmtRate(f float64) string {
	switch {
	case math.IsNaN(f):
		return "-"
	case f >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	default:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
}

func fmtAge(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func fmtState(running bool) string {
	if running {
		return "running"
	}
	return "stopped"
}

// plainLine is a row as one line of `sluice top` without a terminal:
// TIME KIND NAME key=value...
func plainLine(at time.Time, r topRow) string {
	line := fmt.Sprintf("%s %s %s type=%s state=%s rate=%s total=%d", at.UTC().Format(time.RFC3339), r.Kind, r.Name, r.Type,
		fmtState(r.Running), fmtRate(r.Rate), r.Total)
	if r.Kind == "sink" {
		line += fmt.Sprintf(" lag=%d lag_age=%s retries=%d", r.Lag, fmtAge(r.LagAge), r.Retries)
	} else {
		line += fmt.Sprintf(" emit_errors=%d", r.Retries)
	}
	return line + fmt.Sprintf(" dead_letters=%d", r.Dead)
}
