package natsjournal

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// DefaultDeadLetterBucket is the key/value bucket of the routers' shared
// dead letters.
const DefaultDeadLetterBucket = "SLUICE_DLQ"

// DeadLetters is a pipeline.DeadLetterStore in a JetStream key/value
// bucket, shared by every router (and every `sluice journal dlq` command)
// that opens the same bucket: a letter one router stores, every other
// lists, deletes and redrives. Each letter is one key, <hex of the
// sink>.<sequence>, whose value is the letter as the bbolt journal stores
// it (journal.MarshalDeadLetter), so a letter reads the same in both.
//
// Durability is the stream's: a put returns after the bucket's stream
// acknowledged it (R1 before fsync unless the servers run with
// sync_interval: always; internal/fleet doc, Stream settings). A redrive
// request is stored in the letter, so it survives restarts, and it is
// broadcast through a watch on the bucket: RedriveRequested's channel
// closes when any process requests a redrive, not only this one.
//
// Listing reads every key of the bucket (the keys, not the letters) and
// sorts them; the letters are then read one at a time. All methods are
// safe for concurrent use.
type DeadLetters struct {
	kv  jetstream.KeyValue
	log *slog.Logger

	mu     sync.Mutex
	wake   chan struct{} // closed by broadcast
	seen   uint64        // the newest revision the watch handled
	seenCh chan struct{} // closed when seen moves

	stop context.CancelFunc
	done chan struct{}
}

var _ pipeline.DeadLetterStore = (*DeadLetters)(nil)

// OpenDeadLetters creates the bucket when it is missing (with replicas,
// file storage, one value per key) or opens it as it is, and starts
// watching it for redrive requests. Close stops the watch.
func OpenDeadLetters(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, log *slog.Logger) (*DeadLetters, error) {
	kv, err := fleet.OpenKV(ctx, js, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "Sluice routers: dead letters, shared",
		Replicas: max(replicas, 1), Storage: jetstream.FileStorage, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("dead-letter bucket %s: %w", bucket, err)
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w, err := kv.WatchAll(wctx, jetstream.UpdatesOnly(), jetstream.IgnoreDeletes())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("dead-letter bucket %s: watch: %w", bucket, err)
	}
	d := &DeadLetters{kv: kv, log: log, wake: make(chan struct{}), seenCh: make(chan struct{}), stop: cancel, done: make(chan struct{})}
	go d.watch(w)
	return d, nil
}

// watch broadcasts every put of a letter with RedriveRequested, whoever
// made it, and notes each revision it handled (waitSeen).
func (d *DeadLetters) watch(w jetstream.KeyWatcher) {
	defer close(d.done)
	defer func() { _ = w.Stop() }()
	for e := range w.Updates() {
		if e == nil {
			continue
		}
		if d.redriveRequested(e) {
			d.broadcast()
		}
		d.mu.Lock()
		d.seen = max(d.seen, e.Revision())
		close(d.seenCh)
		d.seenCh = make(chan struct{})
		d.mu.Unlock()
	}
}

// redriveRequested reports whether e puts a letter marked for redrive.
func (d *DeadLetters) redriveRequested(e jetstream.KeyValueEntry) bool {
	sink, seq, ok := parseLetterKey(e.Key())
	if !ok || e.Operation() != jetstream.KeyValuePut {
		return false
	}
	l, err := journal.UnmarshalDeadLetter(sink, seq, e.Value())
	if err != nil {
		d.log.Warn("a dead letter in the shared bucket cannot be read", slog.String("key", e.Key()), slog.Any("error", err))
		return false
	}
	return l.RedriveRequested
}

// waitSeen waits until the watch handled revision rev.
func (d *DeadLetters) waitSeen(ctx context.Context, rev uint64) error {
	for {
		d.mu.Lock()
		seen, ch := d.seen, d.seenCh
		d.mu.Unlock()
		if seen >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-d.done:
			return fmt.Errorf("dead letters: %w", pipeline.ErrJournalClosed)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (d *DeadLetters) broadcast() {
	d.mu.Lock()
	defer d.mu.Unlock()
	close(d.wake)
	d.wake = make(chan struct{})
}

// Close stops the watch (waiting for it at most until ctx ends). It does
// not close the connection.
func (d *DeadLetters) Close(ctx context.Context) error {
	d.stop()
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func letterKey(sink string, seq uint64) string {
	return hex.EncodeToString([]byte(sink)) + "." + strconv.FormatUint(seq, 10)
}

func parseLetterKey(k string) (string, uint64, bool) {
	hs, ss, ok := strings.Cut(k, ".")
	if !ok {
		return "", 0, false
	}
	sink, err := hex.DecodeString(hs)
	if err != nil {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(ss, 10, 64)
	return string(sink), seq, err == nil
}

// PutDeadLetters implements pipeline.DeadLetterStore: each letter is put
// (replacing one of the same sink and sequence) and acknowledged by the
// bucket's stream before it returns.
func (d *DeadLetters) PutDeadLetters(ctx context.Context, letters []pipeline.DeadLetter) error {
	_, err := d.put(ctx, letters)
	return err
}

// put stores letters and returns the revision of the last.
func (d *DeadLetters) put(ctx context.Context, letters []pipeline.DeadLetter) (uint64, error) {
	var rev uint64
	for i := range letters {
		v, err := journal.MarshalDeadLetter(&letters[i])
		if err == nil {
			rev, err = d.kv.Put(ctx, letterKey(letters[i].Sink, letters[i].Seq), v)
		}
		if err != nil {
			return 0, fmt.Errorf("dead letter %s/%d: %w", letters[i].Sink, letters[i].Seq, err)
		}
	}
	return rev, nil
}

// DeadLetters implements pipeline.DeadLetterStore, in sink then sequence
// order.
func (d *DeadLetters) DeadLetters(ctx context.Context, f pipeline.DeadLetterFilter, fn func(pipeline.DeadLetter) error) error {
	return d.walk(ctx, f, func(_ string, l pipeline.DeadLetter) error { return fn(l) })
}

// walk calls fn with each letter f matches and its key, in order.
func (d *DeadLetters) walk(ctx context.Context, f pipeline.DeadLetterFilter, fn func(key string, l pipeline.DeadLetter) error) error {
	type ref struct {
		key  string
		sink string
		seq  uint64
	}
	lister, err := d.kv.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	var refs []ref
	for k := range lister.Keys() {
		sink, seq, ok := parseLetterKey(k)
		if !ok || (f.Sink != "" && sink != f.Sink) || (len(f.Seqs) > 0 && !slices.Contains(f.Seqs, seq)) {
			continue
		}
		refs = append(refs, ref{k, sink, seq})
	}
	_ = lister.Stop() // the channel closed: the lister already stopped itself
	slices.SortFunc(refs, func(a, b ref) int { return cmp.Or(strings.Compare(a.sink, b.sink), cmp.Compare(a.seq, b.seq)) })
	for _, r := range refs {
		e, err := d.kv.Get(ctx, r.key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			return fmt.Errorf("dead letter %s/%d: %w", r.sink, r.seq, err)
		}
		l, err := journal.UnmarshalDeadLetter(r.sink, r.seq, e.Value())
		if err != nil {
			return err
		}
		if !f.Matches(&l) {
			continue
		}
		if err := fn(r.key, l); err != nil {
			return err
		}
	}
	return nil
}

// DeleteDeadLetters implements pipeline.DeadLetterStore.
func (d *DeadLetters) DeleteDeadLetters(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	n := 0
	err := d.walk(ctx, f, func(key string, l pipeline.DeadLetter) error {
		if err := d.kv.Delete(ctx, key); err != nil {
			return fmt.Errorf("delete dead letter %s/%d: %w", l.Sink, l.Seq, err)
		}
		n++
		return nil
	})
	return n, err
}

// RequestRedrive implements pipeline.DeadLetterStore: the matched letters
// not yet marked are stored with RedriveRequested, and every process
// watching the bucket is woken by those puts, this one before
// RequestRedrive returns (it waits for its watch to see them, so that a
// channel taken afterwards waits for the next request). It returns how
// many letters matched.
func (d *DeadLetters) RequestRedrive(ctx context.Context, f pipeline.DeadLetterFilter) (int, error) {
	var marked []pipeline.DeadLetter
	n := 0
	err := d.walk(ctx, f, func(_ string, l pipeline.DeadLetter) error {
		n++
		if !l.RedriveRequested {
			l.RedriveRequested = true
			marked = append(marked, l)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("request redrive: %w", err)
	}
	rev, err := d.put(ctx, marked)
	if err != nil {
		return 0, fmt.Errorf("request redrive: %w", err)
	}
	switch {
	case len(marked) > 0:
		if err := d.waitSeen(ctx, rev); err != nil {
			return 0, fmt.Errorf("request redrive: %w", err)
		}
	case n > 0:
		d.broadcast() // all were marked already: no put for the watch to see
	}
	return n, nil
}

// RedriveRequested implements pipeline.DeadLetterStore.
func (d *DeadLetters) RedriveRequested() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wake
}
