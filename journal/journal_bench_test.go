package journal_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// benchEventSize is the encoded size of each benchmark event's payload.
const benchEventSize = 256

// benchEvent returns an event whose encoding (with the 36-byte UUID the
// journal fills in) is benchEventSize bytes.
func benchEvent() pipeline.Event {
	e := pipeline.Event{Source: "/bench", Type: "sluice.bench", ID: "01900000-0000-7000-8000-000000000000"}
	base := len(journal.MarshalEvent(nil, &e))
	e.Data = make([]byte, benchEventSize-base-1)
	e.ID = ""
	return e
}

// BenchmarkAppend measures durable appends: producers goroutines each
// append batches of batch events until b.N events are stored.
func BenchmarkAppend(b *testing.B) {
	for _, producers := range []int{1, 16, 64} {
		for _, batch := range []int{1, 16} {
			b.Run(fmt.Sprintf("producers=%d/batch=%d", producers, batch), func(b *testing.B) {
				benchAppend(b, producers, batch)
			})
		}
	}
}

func benchAppend(b *testing.B, producers, batch int) {
	reader := sdkmetric.NewManualReader()
	j, err := journal.Open(b.TempDir(), journal.Options{
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close(context.Background())
	events := make([]pipeline.Event, batch)
	for i := range events {
		events[i] = benchEvent()
	}
	ctx := context.Background()
	var next atomic.Int64
	b.SetBytes(benchEventSize)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(int64(batch)) <= int64(b.N)+int64(batch)-1 {
				if _, err := j.Append(ctx, pipeline.AppendBatch{Events: events}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	size, dur := commitStats(b, reader)
	b.ReportMetric(size, "events/commit")
	b.ReportMetric(dur*1e6, "µs/commit")
}

// commitStats reads the mean group size and commit duration (seconds)
// from the journal's histograms.
func commitStats(b *testing.B, reader sdkmetric.Reader) (size, dur float64) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		b.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch h := m.Data.(type) {
			case metricdata.Histogram[int64]:
				if m.Name == "sluice.journal.commit.group.size" {
					size = histMean(h.DataPoints)
				}
			case metricdata.Histogram[float64]:
				if m.Name == "sluice.journal.commit.duration" {
					dur = histMean(h.DataPoints)
				}
			}
		}
	}
	return size, dur
}

func histMean[N int64 | float64](dps []metricdata.HistogramDataPoint[N]) float64 {
	var sum, n float64
	for _, dp := range dps {
		sum += float64(dp.Sum)
		n += float64(dp.Count)
	}
	return sum / max(n, 1)
}

// BenchmarkRead measures sequential reads of 256-byte events.
func BenchmarkRead(b *testing.B) {
	j, err := journal.Open(b.TempDir(), journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close(context.Background())
	const total = 100_000
	ctx := context.Background()
	events := make([]pipeline.Event, 1000)
	for i := range events {
		events[i] = benchEvent()
	}
	for range total / len(events) {
		if _, err := j.Append(ctx, pipeline.AppendBatch{Events: events}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(benchEventSize)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	from := uint64(1)
	for n := 0; n < b.N; {
		recs, err := j.Read(ctx, from, pipeline.ReadLimit{MaxRecords: min(1024, b.N-n)})
		if err != nil {
			b.Fatal(err)
		}
		n += len(recs)
		from = recs[len(recs)-1].Seq + 1
		if from > total {
			from = 1
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkRawBbolt is the baseline: plain bbolt writing b.N 256-byte
// values under big-endian sequence keys in transactions of 1,000, with
// FillPercent 1.0 and bbolt's default fsync on commit.
func BenchmarkRawBbolt(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.SetBytes(benchEventSize)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	rawPut(b, db, 0, uint64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// rawPut writes values for sequences from+1..to in transactions of 1,000.
func rawPut(b *testing.B, db *bolt.DB, from, to uint64) { rawPutN(b, db, from, to, 1000) }

// rawPutN writes values for sequences from+1..to in transactions of perTx.
func rawPutN(b *testing.B, db *bolt.DB, from, to uint64, perTx int) {
	val := make([]byte, benchEventSize)
	key := make([]byte, 8)
	seq := from
	for seq < to {
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("records"))
			if err != nil {
				return err
			}
			bk.FillPercent = 1.0
			for i := 0; i < perTx && seq < to; i++ {
				seq++
				binary.BigEndian.PutUint64(key, seq)
				if err := bk.Put(key, val); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJournalVsRawBbolt measures the ratio the journal's durable
// append throughput (64 producers, batches of 16) keeps of plain bbolt's
// (BenchmarkRawBbolt's loop), alternating the two in rounds of 100,000
// events so that both see the same machine load. Each b.N is one round.
func BenchmarkJournalVsRawBbolt(b *testing.B) {
	const round, producers, batch = 100_000, 64, 16
	j, err := journal.Open(b.TempDir(), journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close(context.Background())
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	events := make([]pipeline.Event, batch)
	for i := range events {
		events[i] = benchEvent()
	}
	ctx := context.Background()
	var tj, tr time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(batch) <= round {
					if _, err := j.Append(ctx, pipeline.AppendBatch{Events: events}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		tj += time.Since(start)
		start = time.Now()
		rawPut(b, db, uint64(n)*round, uint64(n+1)*round)
		tr += time.Since(start)
	}
	b.StopTimer()
	jr := float64(b.N*round) / tj.Seconds()
	rr := float64(b.N*round) / tr.Seconds()
	b.ReportMetric(jr, "journal-events/s")
	b.ReportMetric(rr, "raw-events/s")
	b.ReportMetric(jr/rr, "ratio")
}
