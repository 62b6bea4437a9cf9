package natsjournal_test

import (
	"context"
	"hash/fnv"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/journal/natsjournal"
	"github.com/sluice-dev/sluice/pipeline"
)

// sharedLetters is a DeadLetters store on its own connection, which Close
// closes too.
type sharedLetters struct {
	*dlq
	nc *nats.Conn
}

// dlq names the embedded store (its type name would hide its DeadLetters
// method).
type dlq = natsjournal.DeadLetters

func (s sharedLetters) Close(ctx context.Context) error {
	err := s.dlq.Close(ctx)
	s.nc.Close()
	return err
}

// openLetters opens the dead-letter bucket on the server at url, on a
// connection of its own.
func openLetters(t *testing.T, url, bucket string) sharedLetters {
	t.Helper()
	nc, err := nats.Connect(url, nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(-1))
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	if err == nil {
		var d *natsjournal.DeadLetters
		if d, err = natsjournal.OpenDeadLetters(t.Context(), js, bucket, 1, slog.New(slog.DiscardHandler)); err == nil {
			return sharedLetters{dlq: d, nc: nc}
		}
	}
	nc.Close()
	require.NoError(t, err)
	return sharedLetters{}
}

// TestDeadLetterConformance runs the dead-letter cases of the journal
// contract against the routers' shared store in a JetStream bucket: each
// case names its own bucket after its directory, and reopening is a new
// connection to the same bucket.
func TestDeadLetterConformance(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	journaltest.RunDeadLetterConformance(t, func(t *testing.T, dir string) journaltest.DeadLetterCloser {
		h := fnv.New64a()
		_, _ = h.Write([]byte(dir))
		return openLetters(t, srv.URL(), "DLQ_"+strconv.FormatUint(h.Sum64(), 16))
	})
}

// Two routers on one bucket see one set of dead letters: what one stores
// the other lists and deletes, and a redrive one requests (or the CLI
// does) wakes the other's sinks, and survives a restart of the server.
func TestDeadLettersSharedByRouters(t *testing.T) {
	t.Parallel()
	srv := fleettest.Start(t)
	a := openLetters(t, srv.URL(), natsjournal.DefaultDeadLetterBucket)
	b := openLetters(t, srv.URL(), natsjournal.DefaultDeadLetterBucket)
	t.Cleanup(func() {
		_ = a.Close(context.Background())
		_ = b.Close(context.Background())
	})
	require.NoError(t, a.PutDeadLetters(t.Context(), []pipeline.DeadLetter{
		journaltest.Letter("ves", 7, pipeline.ReasonPermanent, 1),
		journaltest.Letter("ves", 3, pipeline.ReasonPermanent, 2),
		journaltest.Letter("k8s", 9, pipeline.ReasonRetriesExhausted, 3),
	}))
	list := func(s sharedLetters, f pipeline.DeadLetterFilter) []uint64 {
		var seqs []uint64
		require.NoError(t, s.DeadLetters(t.Context(), f, func(l pipeline.DeadLetter) error {
			seqs = append(seqs, l.Seq)
			return nil
		}))
		return seqs
	}
	assert.Equal(t, []uint64{9, 3, 7}, list(b, pipeline.DeadLetterFilter{}), "b lists a's letters, by sink then sequence")

	woken := b.RedriveRequested()
	n, err := a.RequestRedrive(t.Context(), pipeline.DeadLetterFilter{Sink: "ves"})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	select {
	case <-woken:
	case <-time.After(10 * time.Second):
		t.Fatal("a redrive requested through a did not wake b")
	}
	srv.Restart()
	require.Eventually(t, func() bool {
		var seqs []uint64
		err := b.DeadLetters(t.Context(), pipeline.DeadLetterFilter{OnlyRedriveRequested: true}, func(l pipeline.DeadLetter) error {
			seqs = append(seqs, l.Seq)
			return nil
		})
		return err == nil && assert.ObjectsAreEqual([]uint64{3, 7}, seqs)
	}, 10*time.Second, 50*time.Millisecond, "the redrive requests survive a server restart")

	n, err = b.DeleteDeadLetters(t.Context(), pipeline.DeadLetterFilter{Sink: "ves", Seqs: []uint64{3}})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []uint64{9, 7}, list(a, pipeline.DeadLetterFilter{}), "a no longer lists what b deleted")
}
