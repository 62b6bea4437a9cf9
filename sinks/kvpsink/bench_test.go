package kvpsink_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// BenchmarkEncode measures the encoder alone, in records per second.
func BenchmarkEncode(b *testing.B) {
	cases := []struct {
		name string
		msg  string
	}{
		{"short", "probe web is down: connection refused"},
		{"nonascii", strings.Repeat("h\u00e9llo \u2603 ", 20)},
		{"sliced-8KiB", strings.Repeat("0123456789abcdef", 512)},
	}
	for _, mode := range []kvpsink.Mode{kvpsink.ModeHostSafe, kvpsink.ModeCloudInit} {
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/%s", mode, c.name), func(b *testing.B) {
				enc := kvpsink.Encoder{Prefix: "CLOUD_INIT", Incarnation: 1700000000, Mode: mode}
				r := kvpsink.Report{Type: "sluice.probe.state", Name: "web/http://127.0.0.1:8080/healthz",
					Time: time.Unix(1700000000, 123456000), Result: "FAIL", Msg: c.msg}
				var id [16]byte
				buf := make([]byte, 0, 64*kvpsink.RecordSize)
				records := 0
				b.ReportAllocs()
				for b.Loop() {
					var info kvpsink.Encoded
					buf, info = enc.Append(buf[:0], &r, id)
					records += info.Records
				}
				b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkDeliver measures the sink (encode, open, both locks, one write,
// fsync, close) on the shared sample deliveries: one record each, so
// events/s is records/s.
func BenchmarkDeliver(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(map[bool]string{false: "nofsync", true: "fsync"}[fsync], func(b *testing.B) {
			pipelinetest.BenchmarkSink(b, func(b *testing.B) pipeline.Sink {
				cfg := testConfig(b)
				cfg.FSync = fsync
				cfg.MaxFileBytes = 1 << 40 // the benchmark appends without bound
				return newSink(b, cfg)
			})
		})
	}
}

// BenchmarkRawAppend is the baseline for BenchmarkDeliver: the same
// number of pre-encoded records appended to a file kept open, with no
// encoding, no locks and no reopen, so the ratio is the sink's overhead.
func BenchmarkRawAppend(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		for _, size := range []int{1, 64, 256} {
			b.Run(fmt.Sprintf("%s/batch=%d", map[bool]string{false: "nofsync", true: "fsync"}[fsync], size), func(b *testing.B) {
				f, err := os.OpenFile(filepath.Join(b.TempDir(), "pool"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = f.Close() })
				buf := make([]byte, size*kvpsink.RecordSize)
				for i := range buf {
					buf[i] = 'x'
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.Write(buf); err != nil {
						b.Fatal(err)
					}
					if fsync {
						if err := f.Sync(); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
