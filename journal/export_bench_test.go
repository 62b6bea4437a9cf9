package journal_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// auditRecords is the size of the journal the export benchmarks read.
const auditRecords = 200_000

// buildAudit writes auditRecords probe-like events (JSON data,
// extensions) of about 300 encoded bytes over several segments.
func buildAudit(dir string) error {
	j, err := journal.Open(dir, journal.Options{SegmentMaxBytes: 32 << 20})
	if err != nil {
		return err
	}
	defer j.Close(context.Background())
	batch := make([]pipeline.Event, 1000)
	for n := 0; n < auditRecords; n += len(batch) {
		for i := range batch {
			batch[i] = pipeline.Event{
				Source: "/vm/probe", Type: "sluice.probe.state", Subject: fmt.Sprintf("vm-%03d/disk", (n+i)%500),
				DataContentType: "application/json", Severity: pipeline.SeverityWarning,
				Extensions: map[string]string{"region": "eu-west-1", "host": "hv-12"},
				Data:       []byte(fmt.Sprintf(`{"state":"degraded","latency_ms":%d,"reason":"queue depth above threshold","probe":"disk-io"}`, (n+i)%1000)),
			}
		}
		if _, err := j.Append(context.Background(), pipeline.AppendBatch{Events: batch}); err != nil {
			return err
		}
	}
	return nil
}

func openAudit(b *testing.B) *journal.Journal {
	b.Helper()
	dir := b.TempDir()
	if err := buildAudit(dir); err != nil {
		b.Fatal(err)
	}
	j, err := journal.Open(dir, journal.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close(context.Background()) })
	return j
}

// BenchmarkExport exports the whole audit journal to io.Discard per
// iteration; the baseline BenchmarkExport/scan only reads and decodes
// the same records with Scan.
func BenchmarkExport(b *testing.B) {
	j := openAudit(b)
	ctx := context.Background()
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			if err := j.Scan(ctx, 0, 0, func(pipeline.Record) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(auditRecords)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	for _, workers := range []int{1, 0} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			var bytes int64
			for b.Loop() {
				cw := &countingWriter{}
				if _, err := j.Export(ctx, cw, journal.ExportOptions{Workers: workers}); err != nil {
					b.Fatal(err)
				}
				bytes = cw.n
			}
			b.ReportMetric(float64(auditRecords)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(bytes)/auditRecords, "bytes/event")
		})
	}
}

// BenchmarkVerifyExport verifies an in-memory export of the audit journal;
// BenchmarkVerifyExport/journal is Verify on the journal itself.
func BenchmarkVerifyExport(b *testing.B) {
	j := openAudit(b)
	ctx := context.Background()
	var buf bytes.Buffer
	if _, err := j.Export(ctx, &buf, journal.ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Run("journal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := j.Verify(ctx, 0, 0); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(auditRecords)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	for _, workers := range []int{1, 0} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := journal.VerifyExport(ctx, bytes.NewReader(buf.Bytes()), journal.VerifyExportOptions{Workers: workers}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(auditRecords)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
