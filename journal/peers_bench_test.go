package journal_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// peersRound is how many 256-byte events every variant of BenchmarkPeers
// stores durably per round.
const peersRound = 100_000

// peer is one durable store BenchmarkPeers measures: store writes events
// from+1..to durably. A slow peer stores only every share-th event of a
// round (its rate is still events per second).
type peer struct {
	name  string
	share int
	store func(b *testing.B, from, to uint64)
}

// BenchmarkPeers (`task bench:peers`) measures the journal's durable
// append against the stores a durable log could be built on, interleaved
// in rounds of peersRound events so that all see the same machine load
// (b.N is the number of rounds):
//
//   - journal/1k: 64 producers appending batches of 16 (group commits of
//     about 1,000 events), journal/4k: batches of 64 (about 4,000);
//   - bbolt/1k, bbolt/4k: plain bbolt, 256-byte values under big-endian
//     sequence keys, 1,000 or 4,000 puts per fsync'd transaction,
//     FillPercent 1.0 (the journal's own settings, without its records'
//     header, hashing and state);
//   - rawlog: records (length, CRC32C, sequence, 256 bytes) appended to one
//     file, 1,000 per write and fdatasync: the disk's limit for a durable
//     log on this machine;
//   - nats/default, nats/always: an embedded nats-server/v2 JetStream file
//     stream, 64 publishers publishing asynchronously in windows of 16
//     and waiting for the acks, with the server's default sync (fsync every
//     2 minutes: the ack does not mean durable) and with sync_interval
//     always (fsync per write; a fiftieth of the round, it is that slow).
//
// It reports events/s per variant and the journal's ratio to each.
func BenchmarkPeers(b *testing.B) {
	ctx := context.Background()
	peers := []peer{
		journalPeer(b, "journal/1k", 16),
		bboltPeer(b, "bbolt/1k", 1000),
		journalPeer(b, "journal/4k", 64),
		bboltPeer(b, "bbolt/4k", 4000),
		rawLogPeer(b, "rawlog", 1000),
		natsPeer(ctx, b, "nats/default", false),
		natsPeer(ctx, b, "nats/always", true),
	}
	took := make([]time.Duration, len(peers))
	b.SetBytes(benchEventSize)
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		from, to := uint64(n)*peersRound, uint64(n+1)*peersRound
		for i, p := range peers {
			start := time.Now()
			p.store(b, from, from+(to-from)/uint64(max(p.share, 1)))
			took[i] += time.Since(start)
		}
	}
	b.StopTimer()
	rate := map[string]float64{}
	for i, p := range peers {
		rate[p.name] = float64(b.N*peersRound/max(p.share, 1)) / took[i].Seconds()
		b.ReportMetric(rate[p.name], p.name+"-events/s")
	}
	for _, r := range []struct{ j, peer string }{
		{"journal/1k", "bbolt/1k"}, {"journal/4k", "bbolt/4k"}, {"journal/1k", "rawlog"},
		{"journal/1k", "nats/default"}, {"journal/1k", "nats/always"},
	} {
		b.ReportMetric(rate[r.j]/rate[r.peer], r.j+"/"+r.peer)
	}
}

// journalPeer appends with 64 producers in batches of batch events.
func journalPeer(b *testing.B, name string, batch int) peer {
	j, err := journal.Open(b.TempDir(), journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close(context.Background()) })
	events := make([]pipeline.Event, batch)
	for i := range events {
		events[i] = benchEvent()
	}
	return peer{name: name, store: func(b *testing.B, from, to uint64) {
		produce(b, int64(to-from), batch, func() error {
			_, err := j.Append(context.Background(), pipeline.AppendBatch{Events: events})
			return err
		})
	}}
}

// produce runs 64 producers calling fn, each call storing batch events,
// until total events are stored.
func produce(b *testing.B, total int64, batch int, fn func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for next.Add(int64(batch)) <= total {
				if err := fn(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// bboltPeer writes perTx puts per fsync'd bbolt transaction.
func bboltPeer(b *testing.B, name string, perTx int) peer {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return peer{name: name, store: func(b *testing.B, from, to uint64) { rawPutN(b, db, from, to, perTx) }}
}

// rawLogPeer appends framed records to one file, perSync per write and
// fdatasync.
func rawLogPeer(b *testing.B, name string, perSync int) peer {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "raw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	const rec = 4 + 4 + 8 + benchEventSize
	payload := make([]byte, benchEventSize)
	buf := make([]byte, 0, perSync*rec)
	table := crc32.MakeTable(crc32.Castagnoli)
	return peer{name: name, store: func(b *testing.B, from, to uint64) {
		for seq := from; seq < to; {
			buf = buf[:0]
			for i := 0; i < perSync && seq < to; i++ {
				seq++
				buf = binary.BigEndian.AppendUint32(buf, benchEventSize)
				buf = binary.BigEndian.AppendUint32(buf, crc32.Checksum(payload, table))
				buf = binary.BigEndian.AppendUint64(buf, seq)
				buf = append(buf, payload...)
			}
			if _, err := f.Write(buf); err != nil {
				b.Fatal(err)
			}
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
		}
	}}
}

// natsPeer publishes to an embedded JetStream file stream.
func natsPeer(ctx context.Context, b *testing.B, name string, always bool) peer {
	srv := fleettest.Start(b, func(o *server.Options) { o.SyncAlways = always })
	js := srv.JetStream(b)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench"}, Storage: jetstream.FileStorage}); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, benchEventSize)
	share := 1
	if always {
		share = 50
	}
	return peer{name: name, share: share, store: func(b *testing.B, from, to uint64) {
		const window = 16
		produce(b, int64(to-from), window, func() error {
			acks := make([]jetstream.PubAckFuture, 0, window)
			for range window {
				a, err := js.PublishAsync("bench", payload)
				if err != nil {
					return err
				}
				acks = append(acks, a)
			}
			for _, a := range acks {
				select {
				case <-a.Ok():
				case err := <-a.Err():
					return fmt.Errorf("publish: %w", err)
				case <-time.After(30 * time.Second):
					return fmt.Errorf("publish: no ack in 30s")
				}
			}
			return nil
		})
	}}
}
