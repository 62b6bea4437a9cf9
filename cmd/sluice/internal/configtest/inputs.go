package configtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// inputs turns a test's events into the simulation's inputs: in order,
// each at its at (or the previous one's), with the engine's defaults.
func (f *File) inputs(t *Test, sources map[string]bool) ([]pipeline.SimulatedInput, error) {
	var out []pipeline.SimulatedInput
	var at time.Duration
	for j, in := range t.Events {
		where := fmt.Sprintf("events[%d]", j)
		if !sources[in.From] {
			return nil, fmt.Errorf("%w: %s: from: the config has no source %q (sources: %s)", ErrInvalidTest, where, in.From, names(sources))
		}
		if in.At != nil {
			if *in.At < at {
				return nil, fmt.Errorf("%w: %s: at %s is before the previous event's %s", ErrInvalidTest, where, *in.At, at)
			}
			at = *in.At
		}
		var objs []map[string]any
		if in.File != "" {
			var err error
			if objs, err = f.readEvents(in.File); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrInvalidTest, where, err)
			}
		} else {
			objs = []map[string]any{in.Event}
		}
		for k, obj := range objs {
			e, err := inputEvent(obj, len(out)+1, in.From)
			if err != nil {
				if in.File != "" {
					where = fmt.Sprintf("%s: %s event %d", where, in.File, k+1)
				}
				return nil, fmt.Errorf("%w: %s: %w", ErrInvalidTest, where, err)
			}
			out = append(out, pipeline.SimulatedInput{Event: e, At: f.Start.Add(at)})
		}
	}
	return out, nil
}

// inputEvent decodes one CloudEvent, filling specversion, id (n) and
// source as the engine would, and sets its origin.
func inputEvent(obj map[string]any, n int, from string) (pipeline.Event, error) {
	m := make(map[string]any, len(obj)+3)
	for k, v := range obj {
		m[k] = v
	}
	if _, ok := m["specversion"]; !ok {
		m["specversion"] = pipeline.CloudEventsSpecVersion
	}
	if _, ok := m["id"]; !ok {
		m["id"] = strconv.Itoa(n)
	}
	if _, ok := m["source"]; !ok {
		m["source"] = "/sluice/sources/" + from
	}
	b, err := json.Marshal(m)
	if err != nil {
		return pipeline.Event{}, fmt.Errorf("not a CloudEvent: %w", err)
	}
	e, err := pipeline.UnmarshalCloudEventJSON(b)
	if err != nil {
		return pipeline.Event{}, err
	}
	e.Origin = from
	return e, nil
}

// readEvents reads a file of CloudEvents (relative to the test file):
// a JSON array, one object, or one object per line.
func (f *File) readEvents(name string) ([]map[string]any, error) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(f.Path), name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var arr []map[string]any
		if err := json.Unmarshal(trimmed, &arr); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return arr, nil
	}
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	for dec.More() {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return nil, fmt.Errorf("%s: event %d: %w", name, len(out)+1, err)
		}
		out = append(out, obj)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no events", name)
	}
	return out, nil
}
