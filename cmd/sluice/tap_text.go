package main

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/stdoutsink"
)

// tapText renders an event line of the tap for a terminal: where it was
// seen and what became of it, then the stdout sink's text line of the
// event (TIME #SEQ SEVERITY SOURCE TYPE [SUBJECT] [DATA], data bounded
// and safe to print):
//
//	sink archive ← all delivered  2026-12-03T11:05:00.123Z #12 INFO /e2e e2e.test - {"id":"ev-1"}
func tapText(l tapLine) ([]byte, error) {
	ev, err := pipeline.UnmarshalCloudEventJSON(l.Event)
	if err != nil {
		return nil, fmt.Errorf("tap: bad event from the engine: %w", err)
	}
	ev.Sequence = l.Seq
	var b strings.Builder
	switch l.Point {
	case "source":
		fmt.Fprintf(&b, "source %s", l.Source)
	case "route":
		fmt.Fprintf(&b, "route %s → %s", l.Route, l.Sink)
	default:
		fmt.Fprintf(&b, "sink %s", l.Sink)
		switch {
		case l.Redrive:
			b.WriteString(" ← redrive")
		case l.Route != "":
			fmt.Fprintf(&b, " ← %s", l.Route)
		}
	}
	fmt.Fprintf(&b, " %s", l.Outcome)
	if l.Reason != "" {
		fmt.Fprintf(&b, " (%s: %s)", l.Reason, safeText(l.Error))
	}
	b.WriteString("  ")
	return stdoutsink.AppendTextLine([]byte(b.String()), &ev), nil
}

// safeText keeps an error message on one line with no control
// characters, for a terminal.
func safeText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
