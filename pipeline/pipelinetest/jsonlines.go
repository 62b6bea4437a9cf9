package pipelinetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/sluice-dev/sluice/pipeline"
)

// DecodeJSONLines parses CloudEvents in the JSON structured format, one per
// line, as sinks and exports write them. Unlike
// pipeline.UnmarshalCloudEventJSON it restores Event.Sequence from the
// "sequence" extension. Empty lines are skipped; a bad line is an error
// naming its line number.
func DecodeJSONLines(b []byte) ([]pipeline.Event, error) {
	var out []pipeline.Event
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := pipeline.UnmarshalCloudEventJSON(line)
		if err != nil {
			return out, fmt.Errorf("line %d: %w", i+1, err)
		}
		var attrs struct {
			Sequence string `json:"sequence"`
		}
		if err := json.Unmarshal(line, &attrs); err != nil {
			return out, fmt.Errorf("line %d: sequence: %w", i+1, err)
		}
		if attrs.Sequence != "" {
			seq, err := strconv.ParseUint(attrs.Sequence, 10, 64)
			if err != nil {
				return out, fmt.Errorf("line %d: sequence %q: %w", i+1, attrs.Sequence, err)
			}
			e.Sequence = seq
		}
		out = append(out, e)
	}
	return out, nil
}
