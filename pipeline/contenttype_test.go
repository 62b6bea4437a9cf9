package pipeline_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/pipeline"
)

func TestIsJSONContentType(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"":                                  true, // CloudEvents JSON format: absent means application/json
		"application/json":                  true,
		"APPLICATION/JSON":                  true,
		"application/json; charset=utf-8":   true,
		"application/json;":                 true,
		"text/json":                         true,
		"application/problem+json":          true,
		"application/cloudevents+json":      true,
		"application/vnd.api+JSON":          true,
		"text/plain":                        false,
		"text/plain; charset=utf-8":         false,
		"application/octet-stream":          false,
		"application/xml":                   false,
		"application/jsonl":                 false,
		"json":                              false,
		"application/json garbage":          false,
		"application/x-ndjson":              false,
		"application/cloudevents-batch+xml": false,
	}
	for ct, want := range tests {
		assert.Equal(t, want, pipeline.IsJSONContentType(ct), "%q", ct)
	}
}
