package pipeline

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// ConsumerReader is an optional interface of a Journal that hands records
// out per consumer instead of by position: a journal shared by several
// processes (a fleet router's JetStream stream, where every router
// instance consuming for a sink shares one durable consumer and the server
// splits the records among them). A sink's consumer uses it when the
// journal implements it, in place of Read:
//
//   - OpenConsumer once per run, before the first read, with the sink's
//     retry policy (the journal derives its redelivery limit from it,
//     RetryConfig.Deliveries).
//   - ReadConsumer for each batch. The records are handed out to the
//     consumer until settled: CommitCursor(consumer, next) settles (acks)
//     every record handed out to consumer with Seq < next, a dead letter
//     stored for one (PutDeadLetters) settles it as given up on, and
//     Redeliver hands one back. Records not settled stay handed out while
//     the process runs (the journal keeps them from being handed to
//     another process) and are handed out again, here or elsewhere, when
//     it stops.
//   - Redeliver, when OpenConsumer said the journal redelivers, for a
//     delivery that failed transiently: the record comes back after the
//     policy's delay for its delivery count (Record.Deliveries) instead of
//     the consumer waiting in process. The last delivery RetryConfig.Deliveries
//     allows is dead-lettered ("retries exhausted") rather than handed back.
//
// Sequences are not contiguous (the process gets a share) and a record
// handed back may come after later ones; within one ReadConsumer batch
// records are sorted by Seq. Cursor, SetCursor and Stats.Cursors keep
// their meaning: SetCursor moves where the consumer's next records start,
// for every process sharing it.
type ConsumerReader interface {
	// OpenConsumer prepares consumer for reading with the sink's retry
	// policy. redelivers reports whether transient failures are handed
	// back (Redeliver); false means the journal keeps order (one process
	// at a time gets the records) and the consumer retries in process, as
	// with Read, while the journal keeps the records handed out.
	OpenConsumer(ctx context.Context, consumer string, retry RetryConfig) (redelivers bool, err error)
	// ReadConsumer is Read for consumer: it blocks until records are
	// available and returns them sorted by Seq, at most limit, appended
	// to buf[:0], each with Deliveries set. Errors are Read's
	// (ErrJournalUnavailable while the journal cannot be reached).
	ReadConsumer(ctx context.Context, consumer string, buf []Record, limit ReadLimit) ([]Record, error)
	// Redeliver hands record seq, handed out to consumer and not settled,
	// back to be handed out again after delay. A seq not handed out is
	// not an error.
	Redeliver(ctx context.Context, consumer string, seq uint64, delay time.Duration) error
}

// Deliveries returns how many deliveries of one record c allows before
// it gives up: the first and each retry whose nominal backoff (Delay,
// without jitter) still ends within MaxElapsed. Zero means unlimited
// (MaxElapsed 0).
func (c RetryConfig) Deliveries() int {
	if c.MaxElapsed <= 0 {
		return 0
	}
	var elapsed time.Duration
	n := 1
	for ; n < math.MaxInt32; n++ {
		elapsed += c.Delay(n)
		if elapsed > c.MaxElapsed {
			return n
		}
	}
	return n
}

// Delay returns the nominal wait after failed delivery n (1 for the
// first): Initial × Multiplier^(n-1), capped at Max, without jitter.
func (c RetryConfig) Delay(n int) time.Duration {
	d := float64(c.Initial) * math.Pow(max(c.Multiplier, 1), float64(max(n, 1)-1))
	if d >= float64(c.Max) {
		return c.Max
	}
	return time.Duration(d)
}

// jittered returns Delay(n) randomized by Jitter, as the backoff of an
// in-process retry is.
func (c RetryConfig) jittered(n int) time.Duration {
	d := float64(c.Delay(n))
	return time.Duration(d * (1 + c.Jitter*(2*rand.Float64()-1))) //nolint:gosec // jitter, not a secret
}
