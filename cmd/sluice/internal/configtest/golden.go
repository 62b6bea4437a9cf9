package configtest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/sluice-dev/sluice/pipeline"
)

// show renders delivery i of a sink for a failure report: in the sink's
// encoding, or, for a dead letter, why.
func (r *runner) show(sink string, d pipeline.SimulatedDelivery, rejected []pipeline.SimulatedRejection, i int) string {
	if rejected != nil {
		b, _ := pipeline.MarshalCloudEventJSON(&d.Event)
		return fmt.Sprintf("reason %q: %v\n%s", rejected[i].Reason, rejected[i].Err, b)
	}
	name, text := r.encoders.encode(sink, d.Delivery)
	return name + ":\n" + text
}

// render is every sink's deliveries and dead letters, as golden files
// hold them.
func (r *runner) render(sims []pipeline.SinkSimulation) string {
	var b strings.Builder
	for _, sim := range sims {
		typ := r.encoders[sim.Sink].typ
		if len(sim.Deliveries) == 0 {
			fmt.Fprintf(&b, "sink %s (%s): no deliveries\n", sim.Sink, typ)
		} else {
			fmt.Fprintf(&b, "sink %s (%s): %s\n", sim.Sink, typ, plural(len(sim.Deliveries), "delivery", "deliveries"))
		}
		for i, d := range sim.Deliveries {
			_, text := r.encoders.encode(sim.Sink, d.Delivery)
			fmt.Fprintf(&b, "  %d. %s, key %s\n%s", i+1, r.describe(d), d.Key, indent(text, "     "))
		}
		for i, rej := range sim.Rejected {
			ev, _ := pipeline.MarshalCloudEventJSON(&rej.Event)
			fmt.Fprintf(&b, "  dead letter %d. route %s, sequence %d: %s: %v\n%s", i+1, rej.Route, rej.Event.Sequence,
				rej.Reason, rej.Err, indent(string(ev), "     "))
		}
	}
	return b.String()
}

// golden compares test i's rendering with its golden file, or writes it
// under Options.Update. It returns a failure report, or "".
func (r *runner) golden(t *Test, i int, sims []pipeline.SinkSimulation) (string, error) {
	path := t.Golden
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(r.file.Path), path)
	}
	got := fmt.Sprintf("# sluice test: %s\n# Every sink's deliveries, in its own encoding. Rewrite with: sluice test --update\n%s",
		t.name(i), r.render(sims))
	if r.opts.Update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			return "", fmt.Errorf("write golden file: %w", err)
		}
		return "", nil
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("golden file %s does not exist; write it with sluice test --update\n", t.Golden), nil
	}
	if err != nil {
		return "", fmt.Errorf("read golden file: %w", err)
	}
	if bytes.Equal(want, []byte(got)) {
		return "", nil
	}
	ud, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got),
		FromFile: t.Golden + " (want)", ToFile: "got", Context: 2,
	})
	if err != nil {
		return "", fmt.Errorf("diff golden file: %w", err)
	}
	return fmt.Sprintf("golden file %s differs (sluice test --update rewrites it):\n%s", t.Golden, ud), nil
}

// plural is "1 delivery", "2 deliveries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
