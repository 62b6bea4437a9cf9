package journal

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-dev/sluice/pipeline"
)

// ExportOptions selects what Export writes.
type ExportOptions struct {
	// From and To bound the sequences exported, both included; 0 means the
	// oldest retained and the head when Export starts.
	From, To uint64
	// Signer, when set, signs the manifest (ed25519).
	Signer ed25519.PrivateKey
	// Host names the exporting host in the manifest; informational.
	Host string
	// Workers renders lines in parallel; zero means GOMAXPROCS.
	Workers int
}

// Export writes records From..To to w as CloudEvents JSON lines followed
// by a manifest line, and returns the manifest. Every record's CRC and
// chain link is checked on the way: a damaged record stops the export
// with a *CorruptionError. The format is described in the package
// documentation (Export and verify); VerifyExport checks an export.
//
// Memory stays bounded whatever the range: records are read in chunks of
// at most 1,024 records or 1 MiB, rendered by a few workers and written
// in order, with a handful of chunks in flight.
func (j *Journal) Export(ctx context.Context, w io.Writer, opts ExportOptions) (ExportManifest, error) {
	if j.isClosed() {
		return ExportManifest{}, fmt.Errorf("export: %w", pipeline.ErrJournalClosed)
	}
	h := j.head.Load()
	from, to := max(opts.From, h.first(), 1), opts.To
	if to == 0 || to > h.last {
		to = h.last
	}
	prev, err := j.hashBefore(h, from)
	if err != nil {
		return ExportManifest{}, fmt.Errorf("export: %w", err)
	}
	m := ExportManifest{Manifest: ExportFormat, From: from, To: from - 1, PrevHash: hex.EncodeToString(prev[:]), Host: opts.Host}
	last := prev
	err = runChunks(ctx, opts.Workers,
		func(ctx context.Context, emit func(*chunk) bool) error {
			return j.readChunks(ctx, from, to, prev, emit)
		},
		renderChunk,
		func(c *chunk) error {
			if _, err := w.Write(c.out); err != nil {
				return err
			}
			m.Count += uint64(len(c.offs))
			m.To = c.first + uint64(len(c.offs)) - 1
			last = c.last
			return nil
		})
	if err != nil {
		return ExportManifest{}, fmt.Errorf("export: %w", err)
	}
	if m.Count == 0 {
		m.From, m.To = 0, 0
	}
	m.HeadHash = hex.EncodeToString(last[:])
	m.Created = j.clock.Now().UTC().Format(time.RFC3339Nano)
	line, err := m.line(opts.Signer)
	if err != nil {
		return ExportManifest{}, fmt.Errorf("export: %w", err)
	}
	if _, err := w.Write(line); err != nil {
		return ExportManifest{}, fmt.Errorf("export: %w", err)
	}
	if opts.Signer != nil {
		m, _ = parseManifest(line)
	}
	return m, nil
}

// hashBefore returns the chain hash of the record before seq: the segment
// meta's for a segment's first record, otherwise the stored hash of seq-1
// (its CRC checked).
func (j *Journal) hashBefore(h *head, seq uint64) ([32]byte, error) {
	var prev [32]byte
	if seq > h.last {
		return h.hash, nil
	}
	i := sort.Search(len(h.segs), func(i int) bool { return h.segs[i].first > seq }) - 1
	if i < 0 {
		return prev, &CorruptionError{Seq: seq, Reason: "record missing"}
	}
	s := h.segs[i]
	err := s.view(func(tx *bolt.Tx) error {
		if seq == s.first {
			info, err := readSegmentInfo(tx, s)
			prev = info.prev
			return err
		}
		v := tx.Bucket(bucketRecords).Get(seqKey(seq - 1))
		if v == nil {
			return &CorruptionError{Segment: s.name, Seq: seq - 1, Reason: "record missing"}
		}
		if err := checkRecord(seq-1, v); err != nil {
			return &CorruptionError{Segment: s.name, Seq: seq - 1, Reason: err.Error()}
		}
		prev = recordHash(v)
		return nil
	})
	return prev, err
}

// Chunk bounds for export and export verification.
const (
	chunkRecords = 1024
	chunkBytes   = 1 << 20
)

// chunk is a run of consecutive records (or export lines) handled by one
// worker.
type chunk struct {
	first uint64   // sequence of the first record (export)
	prev  [32]byte // chain hash before the first record
	buf   []byte   // the raw record values (or lines), concatenated
	offs  []int    // end offset of each value in buf
	line  int      // line number of the first line (verification)
	// anchored says prev is known (verification: every chunk but the first).
	anchored bool

	out  []byte   // rendered lines (export)
	last [32]byte // chain hash of the last record
	err  error
	v    chunkVerdict // verification results
	done chan struct{}
}

var chunkPool = sync.Pool{New: func() any { return &chunk{} }}

func getChunk() *chunk {
	c := chunkPool.Get().(*chunk)
	c.buf, c.offs, c.out, c.err, c.v, c.anchored = c.buf[:0], c.offs[:0], c.out[:0], nil, chunkVerdict{}, false
	c.done = make(chan struct{})
	return c
}

// readChunks reads records from..to raw (copied out of bbolt) in chunks.
func (j *Journal) readChunks(ctx context.Context, from, to uint64, prev [32]byte, emit func(*chunk) bool) error {
	for from <= to {
		if err := ctx.Err(); err != nil {
			return err
		}
		if j.isClosed() {
			return pipeline.ErrJournalClosed
		}
		h := j.head.Load()
		if from < h.first() {
			return fmt.Errorf("records %d..%d were removed by retention during the export", from, h.first()-1)
		}
		c := getChunk()
		c.first, c.prev = from, prev
		err := j.readRaw(h, from, to, c)
		if errors.Is(err, errSegmentGone) && len(c.offs) == 0 {
			chunkPool.Put(c)
			continue
		}
		if err != nil && !errors.Is(err, errSegmentGone) {
			chunkPool.Put(c)
			return err
		}
		n := len(c.offs)
		lastStart := 0
		if n > 1 {
			lastStart = c.offs[n-2]
		}
		prev = recordHash(c.buf[lastStart:c.offs[n-1]])
		from += uint64(n)
		if !emit(c) {
			return ctx.Err()
		}
	}
	return nil
}

// readRaw appends the values of records from.. (at most to) to c, across
// segments, up to the chunk bounds.
func (j *Journal) readRaw(h *head, from, to uint64, c *chunk) error {
	segs := h.segs
	i := sort.Search(len(segs), func(i int) bool { return segs[i].first > from }) - 1
	for ; i < len(segs) && from <= to && len(c.offs) < chunkRecords && len(c.buf) < chunkBytes; i++ {
		s := segs[i]
		err := s.view(func(tx *bolt.Tx) error {
			start := len(c.buf)
			cur := tx.Bucket(bucketRecords).Cursor()
			k, v := cur.Seek(seqKey(from))
			for ; k != nil && from <= to; k, v = cur.Next() {
				if seq, ok := keySeq(k); !ok || seq != from {
					return &CorruptionError{Segment: s.name, Seq: from, Reason: "record missing (sequence gap)"}
				}
				if len(v) < recordHeaderSize {
					return &CorruptionError{Segment: s.name, Seq: from, Reason: fmt.Sprintf("record too short: %d bytes", len(v))}
				}
				c.buf = append(c.buf, v...)
				c.offs = append(c.offs, len(c.buf))
				from++
				if len(c.offs) >= chunkRecords || len(c.buf) >= chunkBytes {
					s.res.read(tx, len(c.buf)-start, false)
					return nil
				}
			}
			s.res.read(tx, len(c.buf)-start, k == nil) // as Read: the pages read do not stay resident (residency.go)
			return nil
		})
		if err != nil {
			return err
		}
		if from <= to && len(c.offs) < chunkRecords && len(c.buf) < chunkBytes && (i+1 >= len(segs) || segs[i+1].first != from) {
			return &CorruptionError{Segment: s.name, Seq: from, Reason: "record missing (sequence gap at segment end)"}
		}
	}
	if len(c.offs) == 0 {
		return &CorruptionError{Seq: from, Reason: "record missing"}
	}
	return nil
}

// renderChunk checks each record's CRC and chain link and renders its
// export line.
func renderChunk(c *chunk, lr *lineRenderer, ch *chainer) {
	prev := c.prev
	start := 0
	for i, end := range c.offs {
		v := c.buf[start:end]
		start = end
		seq := c.first + uint64(i)
		if err := checkRecord(seq, v); err != nil {
			c.err = &CorruptionError{Seq: seq, Reason: err.Error()}
			return
		}
		if err := ch.checkLink(seq, v, &prev); err != nil {
			c.err = &CorruptionError{Seq: seq, Reason: err.Error()}
			return
		}
		prev = recordHash(v)
		var err error
		if c.out, err = lr.appendLine(c.out, seq, recordTime(v), &prev, v[recordHeaderSize:]); err != nil {
			c.err = &CorruptionError{Seq: seq, Reason: "undecodable event", Err: err}
			return
		}
	}
	c.last = prev
}

// runChunks runs produce in this goroutine's helper, work on a pool of
// workers and consume in order in the calling goroutine. It waits for
// every goroutine before returning the first error.
func runChunks(ctx context.Context, workers int,
	produce func(ctx context.Context, emit func(*chunk) bool) error,
	work func(*chunk, *lineRenderer, *chainer),
	consume func(*chunk) error,
) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	todo := make(chan *chunk, workers)
	order := make(chan *chunk, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lr, ch := &lineRenderer{}, newChainer()
			for c := range todo {
				if ctx.Err() == nil {
					work(c, lr, ch)
				}
				close(c.done)
			}
		}()
	}
	prodErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(todo)
		prodErr <- produce(ctx, func(c *chunk) bool {
			select {
			case todo <- c:
			case <-ctx.Done():
				chunkPool.Put(c)
				return false
			}
			select {
			case order <- c:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	var err error
	for c := range order {
		<-c.done
		if err == nil {
			switch {
			case ctx.Err() != nil:
				err = ctx.Err()
			case c.err != nil:
				err = c.err
			default:
				err = consume(c)
			}
			if err != nil {
				cancel()
			}
		}
		chunkPool.Put(c)
	}
	wg.Wait()
	if pe := <-prodErr; err == nil {
		err = pe
	}
	return err
}
