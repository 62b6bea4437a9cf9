package journal

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// Request states: the committer takes a queued request, or its appender
// cancels it, whichever comes first.
const (
	reqQueued int32 = iota
	reqTaken
	reqCancelled
)

// request is one Append handed to the committer. Its events are encoded
// by the appender: buf holds every record value back to back, each with a
// header the committer fills in place.
type request struct {
	state atomic.Int32
	buf   []byte
	ends  []int // end offset in buf of each record value
	upd   []pipeline.StateUpdate
	bytes int

	// Set by the committer before done is signalled.
	first, last uint64
	time        int64
	err         error
	done        chan struct{}
}

var appendSpanOpts = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}

// maxPooledBuf keeps huge batches' buffers out of the pool.
const maxPooledBuf = 1 << 20

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

func getRequest() *request {
	r := requestPool.Get().(*request)
	r.state.Store(reqQueued)
	return r
}

func putRequest(r *request) {
	if cap(r.buf) > maxPooledBuf {
		return
	}
	r.buf, r.ends, r.upd = r.buf[:0], r.ends[:0], nil
	r.first, r.last, r.time, r.err, r.bytes = 0, 0, 0, nil, 0
	requestPool.Put(r)
}

// events returns the number of events in r.
func (r *request) events() int { return len(r.ends) }

// value returns record value i.
func (r *request) value(i int) []byte {
	start := 0
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.buf[start:r.ends[i]:r.ends[i]]
}

// Append makes batch durable: it returns after the bbolt transaction that
// holds the batch's events and state updates has been fsync'd. Concurrent
// appends are group-committed into one transaction by the committer.
//
// Append encodes the events in the caller's goroutine, so producers encode
// in parallel and the committer only sequences, hashes and writes. It does
// not modify batch: empty IDs and zero times are filled in the stored
// records (a zero Time reads back as the append time), and the sequences
// are result.First..Last.
//
// If ctx ends while the batch is still queued, the batch is abandoned and
// ctx.Err() returned. Once the committer has taken it, it is committed
// regardless and Append waits for the outcome (at most one transaction).
// Errors: ErrReadOnly, pipeline.ErrJournalClosed, ErrInvalidBatch, a
// *FullError (pipeline.ErrJournalFull), or an I/O error; on any error
// nothing of the batch is stored.
func (j *Journal) Append(ctx context.Context, batch pipeline.AppendBatch) (pipeline.AppendResult, error) {
	if j.opts.ReadOnly {
		return pipeline.AppendResult{}, fmt.Errorf("append: %w", ErrReadOnly)
	}
	if j.isClosed() {
		return pipeline.AppendResult{}, fmt.Errorf("append: %w", pipeline.ErrJournalClosed)
	}
	if err := ctx.Err(); err != nil {
		return pipeline.AppendResult{}, err
	}
	if len(batch.Events) == 0 && len(batch.State) == 0 {
		return pipeline.AppendResult{}, nil
	}
	ctx, span := j.tel.tracer.Start(ctx, "journal.append", appendSpanOpts...)
	defer span.End()
	res, err := j.append(ctx, batch)
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("sluice.journal.events", len(batch.Events)),
			attribute.Int64("sluice.journal.first", int64(res.First)),
			attribute.Int64("sluice.journal.last", int64(res.Last)))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}
	return res, err
}

func (j *Journal) append(ctx context.Context, batch pipeline.AppendBatch) (pipeline.AppendResult, error) {
	if err := validateState(batch.State); err != nil {
		return pipeline.AppendResult{}, fmt.Errorf("append: %w", err)
	}
	r := getRequest()
	if err := r.encode(batch); err != nil {
		putRequest(r)
		return pipeline.AppendResult{}, fmt.Errorf("append: %w", err)
	}
	if !j.enqueue(r) {
		putRequest(r)
		return pipeline.AppendResult{}, fmt.Errorf("append: %w", pipeline.ErrJournalClosed)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqCancelled) {
			// The committer will skip it; it may still hold a pointer, so
			// r is not returned to the pool.
			return pipeline.AppendResult{}, ctx.Err()
		}
		<-r.done
	}
	res := pipeline.AppendResult{First: r.first, Last: r.last, Time: nanos(r.time)}
	err := r.err
	putRequest(r)
	if err != nil {
		return pipeline.AppendResult{}, fmt.Errorf("append: %w", err)
	}
	return res, nil
}

// encode writes every event as a record value with room for the header.
func (r *request) encode(batch pipeline.AppendBatch) error {
	n := 0
	for i := range batch.Events {
		n += recordHeaderSize + eventSize(&batch.Events[i])
	}
	if cap(r.buf) < n {
		r.buf = make([]byte, 0, n)
	}
	buf := r.buf[:0]
	var (
		hdr [recordHeaderSize]byte
		ids idSeq
		id  [36]byte
	)
	for i := range batch.Events {
		e := &batch.Events[i]
		start := len(buf)
		buf = append(buf, hdr[:]...)
		if e.ID == "" {
			if err := ids.next(&id); err != nil {
				return fmt.Errorf("event id: %w", err)
			}
			buf = appendEvent(buf, e, id[:])
		} else {
			buf = appendEvent(buf, e, nil)
		}
		if len(buf)-start > bolt.MaxValueSize {
			return fmt.Errorf("%w: event %d encodes to %d bytes", ErrInvalidBatch, i, len(buf)-start)
		}
		r.ends = append(r.ends, len(buf))
	}
	r.buf = buf
	r.bytes = len(buf) + keySize*len(r.ends)
	if len(batch.State) > 0 {
		r.upd = batch.State
		for _, u := range batch.State {
			r.bytes += len(u.Source) + len(u.Key) + len(u.Value)
		}
	}
	return nil
}

func validateState(upd []pipeline.StateUpdate) error {
	for i, u := range upd {
		switch {
		case u.Source == "" || len(u.Source) > bolt.MaxKeySize:
			return fmt.Errorf("%w: state update %d: source must be 1..%d bytes", ErrInvalidBatch, i, bolt.MaxKeySize)
		case u.Key == "" || len(u.Key) > bolt.MaxKeySize:
			return fmt.Errorf("%w: state update %d: key must be 1..%d bytes", ErrInvalidBatch, i, bolt.MaxKeySize)
		case !u.Delete && len(u.Value) > bolt.MaxValueSize:
			return fmt.Errorf("%w: state update %d: value too large", ErrInvalidBatch, i)
		}
	}
	return nil
}

// idSeq generates the IDs of one batch's events: a UUIDv7 for the first,
// then the same UUID with its 62-bit random tail incremented, so the IDs
// of a batch are distinct and ordered at the cost of one UUID (RFC 9562
// allows a counter in rand_b).
type idSeq struct {
	base uuid.UUID
	n    uint64
	ok   bool
}

func (s *idSeq) next(out *[36]byte) error {
	if !s.ok {
		u, err := uuid.NewV7()
		if err != nil {
			return err
		}
		s.base, s.ok = u, true
	}
	u := s.base
	if s.n > 0 {
		const mask = 1<<62 - 1
		lo := binary.BigEndian.Uint64(u[8:])
		binary.BigEndian.PutUint64(u[8:], lo&^mask|(lo+s.n)&mask)
	}
	s.n++
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:], u[10:])
	return nil
}

// enqueue hands r to the committer; false once the committer has stopped.
func (j *Journal) enqueue(r *request) bool {
	j.qmu.Lock()
	if j.stopped {
		j.qmu.Unlock()
		return false
	}
	j.queue = append(j.queue, r)
	j.qbytes += r.bytes
	// Wake the committer when work appears, and when a group it is
	// gathering is complete; not on every append.
	signal := len(j.queue) == 1 || len(j.queue) >= j.qtarget || j.qbytes >= j.opts.MaxBatchBytes
	j.qmu.Unlock()
	if signal {
		select {
		case j.wake <- struct{}{}:
		default:
		}
	}
	return true
}
