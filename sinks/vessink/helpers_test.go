package vessink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/internal/partial"
	"github.com/sluice-dev/sluice/sinks/vessink"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// t0 is the time of the test events: 2023-11-14T22:13:20Z, the samples' 1700000000.
var t0 = time.Unix(1700000000, 0).UTC()

// testConfig returns a config for c: v7 at the single-event URL, the
// test CA, fixed names and zone.
func testConfig(c *collector, pki *testPKI) *vessink.Config {
	cfg := vessink.NewFactory().DefaultConfig().(*vessink.Config)
	cfg.URL = c.URL() + "/eventListener/v7"
	cfg.TLS.CAFile = pki.caFile
	cfg.ReportingEntityName = "sluice-vm17"
	cfg.TimeZone = "UTC+02:00"
	// Relaxed: most tests examine per-request outcomes; strict ordering
	// (the default) has TestStrictOrderingStopsAtFirstFailure.
	cfg.Ordering = partial.OrderingRelaxed
	return cfg
}

// startSink builds and starts a sink with cfg and closes it when the test
// ends.
func startSink(t *testing.T, set pipeline.Settings, cfg *vessink.Config) pipeline.Sink {
	t.Helper()
	s, err := vessink.NewFactory().NewSink(t.Context(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, s.Close(ctx))
	})
	return s
}

// delivery builds a delivery of an event with JSON data (a map, or raw
// bytes), keyed like the runner keys it for sink "ves".
func delivery(seq uint64, typ, subject string, at time.Time, sev pipeline.Severity, data any) pipeline.Delivery {
	e := pipeline.Event{
		ID: "evt-" + itoa(seq), Source: "/sluice/sources/test", Type: typ, Subject: subject, Time: at,
		Severity: sev, Origin: "test", Sequence: seq,
	}
	switch d := data.(type) {
	case nil:
	case []byte:
		e.Data = d
	default:
		b, err := json.Marshal(d)
		if err != nil {
			panic(err)
		}
		e.DataContentType = "application/json"
		e.Data = b
	}
	return pipeline.Delivery{Event: e, Key: pipeline.IdempotencyKey(e.Source, e.ID, "ves"), Route: "default"}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test -run %s -update", t.Name())
	assert.Equal(t, string(want), string(got), "differs from %s (run with -update to accept)", path)
}

// indentBodies renders request bodies as indented JSON, one after another.
func indentBodies(t *testing.T, reqs []*captured) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, r := range reqs {
		out.WriteString("// POST " + r.Path + "\n")
		require.NoError(t, json.Indent(&out, r.Body, "", "  "))
		out.WriteString("\n")
	}
	return out.Bytes()
}

func readFile(elem ...string) ([]byte, error) { return os.ReadFile(filepath.Join(elem...)) }
