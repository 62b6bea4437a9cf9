package stdoutsink_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/stdoutsink"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func newSink(t *testing.T, format string, w *lockedBuffer) pipeline.Sink {
	t.Helper()
	s, err := stdoutsink.NewFactory(stdoutsink.WithWriter(w)).NewSink(t.Context(), pipeline.NopSettings("stdout"), &stdoutsink.Config{Format: format})
	require.NoError(t, err)
	return s
}

func TestFactory(t *testing.T) {
	t.Parallel()
	f := stdoutsink.NewFactory()
	assert.Equal(t, stdoutsink.Type, f.Type())
	pipelinetest.TestSinkFactory(t, f)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	pipelinetest.TestSink(t, func(t *testing.T) (pipeline.Sink, func() []pipeline.Event) {
		var out lockedBuffer
		return newSink(t, stdoutsink.FormatJSON, &out), func() []pipeline.Event {
			evs, err := pipelinetest.DecodeJSONLines(out.Bytes())
			require.NoError(t, err)
			return evs
		}
	})
}

// goldenDeliveries are the samples plus events with values that must not
// break the line format.
func goldenDeliveries() []pipeline.Delivery {
	ds := pipelinetest.SampleDeliveries(1, 4)
	hostile := pipeline.Event{
		ID:       "evt-hostile",
		Source:   "/probe/web server",
		Type:     "sluice.probe.state",
		Subject:  "line1\n2025-01-01T00:00:00.000Z #999 INFO forged \x1b[31mred\x1b[0m \"q\"",
		Time:     time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)),
		Severity: pipeline.SeverityEmergency,
		Sequence: 99,
	}
	bare := pipeline.Event{ID: "evt-bare", Source: "", Type: "t\xff", Sequence: 100}
	ds = append(ds, pipeline.Delivery{Event: hostile}, pipeline.Delivery{Event: bare})
	// Data of every kind the text line shows, none of which may break it.
	for i, d := range []struct{ ct, subject, data string }{
		{"application/json", "", "{\n  \"state\": \"healthy\",\n  \"note\": \"two words\"\n}"},
		{"", "-", `[1, 2, {"a": null}]`},
		{"application/json", "", "{\"s\":\"\u202e\x1b[31m\"}"},                                // raw bidi override and ESC: not valid JSON (ESC), shown quoted
		{"application/cloudevents+json", "", "{\"s\":\"\u202egnp.exe\"}"},                     // valid JSON with a raw format character: quoted
		{"application/json", "", `{"broken":`},                                                // JSON that does not parse, and is not text
		{"text/plain; charset=utf-8", "", "line1\n2025-01-01T00:00:00.000Z #999 INFO forged"}, // text: always quoted
		{"text/plain", "", "bad \xff utf-8"},                                                  // invalid UTF-8 text: as binary
		{"application/json", "long", `{"k":"` + strings.Repeat("é", 200) + `"}`},              // cut at a character boundary
		{"text/plain", "", strings.Repeat("x", 300)},
		{"application/octet-stream", "", "\x00\x01\x02"},
	} {
		ds = append(ds, pipeline.Delivery{Event: pipeline.Event{
			ID: fmt.Sprintf("evt-data-%d", i), Source: "/data", Type: "sluice.test.data", Subject: d.subject,
			DataContentType: d.ct, Data: []byte(d.data), Sequence: uint64(200 + i),
			Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		}})
	}
	return ds
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, format := range []string{stdoutsink.FormatJSON, stdoutsink.FormatText} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			var out lockedBuffer
			s := newSink(t, format, &out)
			require.NoError(t, s.Start(t.Context()))
			ds := goldenDeliveries()
			require.NoError(t, s.Deliver(t.Context(), ds[:3]))
			require.NoError(t, s.Deliver(t.Context(), ds[3:]))
			require.NoError(t, s.Close(t.Context()))

			got := out.Bytes()
			golden := filepath.Join("testdata", format+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
			assert.Equal(t, len(ds), bytes.Count(got, []byte("\n")), "one line per event")
		})
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteErrorIsRetryable(t *testing.T) {
	t.Parallel()
	boom := errors.New("broken pipe")
	s, err := stdoutsink.NewFactory(stdoutsink.WithWriter(failingWriter{boom})).NewSink(t.Context(), pipeline.NopSettings("stdout"), &stdoutsink.Config{Format: "text"})
	require.NoError(t, err)
	require.NoError(t, s.Start(t.Context()))
	err = s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1))
	require.ErrorIs(t, err, boom)
	assert.False(t, pipeline.IsPermanent(err))
	require.NoError(t, s.Close(context.Background()))
}

func TestDeliverOutsideLifecycle(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	s := newSink(t, stdoutsink.FormatJSON, &out)
	batch := pipelinetest.SampleDeliveries(1, 1)
	require.ErrorIs(t, s.Deliver(t.Context(), batch), stdoutsink.ErrNotOpen)
	require.NoError(t, s.Start(t.Context()))
	require.NoError(t, s.Close(t.Context()))
	require.ErrorIs(t, s.Deliver(t.Context(), batch), stdoutsink.ErrNotOpen)
	assert.Empty(t, out.Bytes())
}

// FuzzTextLine: whatever an event holds, its text line is one line of
// valid UTF-8 without control characters, of bounded length.
func FuzzTextLine(f *testing.F) {
	f.Add("application/json", "s", []byte(`{"a": [1, "x y"]}`))
	f.Add("text/plain", "", []byte("a\nb\x1b[0m\xff"))
	f.Add("", "-", []byte("\"\u2028\u202e\""))
	f.Add("application/octet-stream", "", []byte{0, 0xff})
	f.Fuzz(func(t *testing.T, ct, subject string, data []byte) {
		var out lockedBuffer
		s := newSink(t, stdoutsink.FormatText, &out)
		require.NoError(t, s.Start(t.Context()))
		e := pipeline.Event{ID: "f", Source: "/f", Type: "t", Subject: subject, DataContentType: ct, Data: data, Sequence: 1}
		require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{{Event: e}}))
		line := out.Bytes()
		require.True(t, bytes.HasSuffix(line, []byte("\n")))
		line = line[:len(line)-1]
		require.True(t, utf8.Valid(line), "%q", line)
		for _, r := range string(line) {
			require.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029', "raw %U in %q", r, line)
		}
		require.LessOrEqual(t, len(line), 64+4*len(subject)+4*len(ct)+4*256+40, "%q", line)
	})
}
