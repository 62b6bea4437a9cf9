package journal

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// Store is a journal as the engine and its tools use it: the
// pipeline.Journal port plus Admin. Backends.Open returns one; cmd and the
// admin server use nothing else, so a second backend needs no change to
// them.
type Store interface {
	pipeline.Journal
	Admin
}

// Admin is what operators' tools need beyond pipeline.Journal: integrity,
// time lookups, exports and signed checkpoints.
type Admin interface {
	// Verify checks every record between from and to (0: the ends); a
	// damaged journal is an error matching ErrCorrupt.
	Verify(ctx context.Context, from, to uint64) (VerifyReport, error)
	// VerifyRange is Verify with a progress callback.
	VerifyRange(ctx context.Context, opts VerifyOptions) (VerifyReport, error)
	// Scan calls fn for each record from from to to (0: the head),
	// without waiting for new ones.
	Scan(ctx context.Context, from, to uint64, fn func(pipeline.Record) error) error
	// SeqAtTime returns the oldest record appended at or after t (the
	// next sequence when all are older).
	SeqAtTime(ctx context.Context, t time.Time) (uint64, error)
	// Export writes a range as verifiable CloudEvents JSON lines.
	Export(ctx context.Context, w io.Writer, opts ExportOptions) (ExportManifest, error)
	// WriteCheckpoint signs the head; Checkpoints lists those written and
	// VerifyCheckpoint checks the journal against one.
	WriteCheckpoint(ctx context.Context, key ed25519.PrivateKey) (Checkpoint, error)
	Checkpoints() ([]Checkpoint, error)
	VerifyCheckpoint(ctx context.Context, c Checkpoint) error
}

var _ Store = (*Journal)(nil)

// Mode says how Backends.Open opens a journal.
type Mode int

const (
	// ReadWrite opens the journal for the engine, creating it if needed.
	ReadWrite Mode = iota
	// ReadOnly opens an existing journal for inspection; writes fail with
	// ErrReadOnly and nothing is created.
	ReadOnly
	// Existing opens an existing journal for writing (a tool changing dead
	// letters or cursors); a missing journal is ErrNotFound, never created.
	Existing
)

// Backend opens journals of one kind (Config.Backend).
type Backend interface {
	// Name is the Config.Backend value, e.g. "bbolt".
	Name() string
	// Open opens the journal cfg (validated) describes.
	Open(ctx context.Context, cfg Config, mode Mode, set pipeline.Settings) (Store, error)
	// CheckFree returns an error matching ErrInUse if another process
	// holds the journal cfg describes, without creating or changing
	// anything, so that the engine can say so before it binds listeners.
	CheckFree(ctx context.Context, cfg Config) error
}

// Backends is the explicit registry of journal backends; the composition
// root builds it (NewBackends, DefaultBackends), there is no global one.
type Backends struct{ byName map[string]Backend }

// NewBackends returns a registry of bs; a name registered twice is an
// error.
func NewBackends(bs ...Backend) (*Backends, error) {
	r := &Backends{byName: make(map[string]Backend, len(bs))}
	for _, b := range bs {
		if _, dup := r.byName[b.Name()]; dup {
			return nil, fmt.Errorf("journal backend %q: %w", b.Name(), pipeline.ErrDuplicateType)
		}
		r.byName[b.Name()] = b
	}
	return r, nil
}

// DefaultBackends holds the bbolt backend, the only one for now.
func DefaultBackends() *Backends {
	return &Backends{byName: map[string]Backend{BackendBBolt: BBolt{}}}
}

// BackendNames lists the backends Config.Validate accepts. The nats
// backend lives in journal/natsjournal (it needs this package); the
// composition root registers it.
func BackendNames() []string { return []string{BackendBBolt, BackendNATS} }

// Names returns the registered backend names, sorted.
func (r *Backends) Names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Open opens the journal cfg describes with its backend (an empty
// Backend means bbolt).
func (r *Backends) Open(ctx context.Context, cfg Config, mode Mode, set pipeline.Settings) (Store, error) {
	b, err := r.lookup(cfg)
	if err != nil {
		return nil, err
	}
	return b.Open(ctx, cfg, mode, set)
}

// CheckFree calls the backend's CheckFree (see Backend).
func (r *Backends) CheckFree(ctx context.Context, cfg Config) error {
	b, err := r.lookup(cfg)
	if err != nil {
		return err
	}
	return b.CheckFree(ctx, cfg)
}

func (r *Backends) lookup(cfg Config) (Backend, error) {
	name := cmp.Or(cfg.Backend, BackendBBolt)
	b, ok := r.byName[name]
	if !ok {
		return nil, fmt.Errorf("journal backend %q: %w (have %v)", name, pipeline.ErrUnknownType, r.Names())
	}
	return b, nil
}

// Exists reports whether dir holds a journal (its LOCK file, which Open
// creates first).
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "LOCK"))
	return err == nil
}

// BBolt is the backend of this package: a directory of bbolt segments
// (Open).
type BBolt struct{}

// Name implements Backend.
func (BBolt) Name() string { return BackendBBolt }

// Open implements Backend with Open(cfg.Dir, cfg.Options(...)).
func (BBolt) Open(_ context.Context, cfg Config, mode Mode, set pipeline.Settings) (Store, error) {
	if mode == Existing && !Exists(cfg.Dir) {
		return nil, fmt.Errorf("open journal %s: %w", cfg.Dir, ErrNotFound)
	}
	j, err := Open(cfg.Dir, cfg.Options(set, mode == ReadOnly))
	if err != nil {
		return nil, err
	}
	return j, nil
}

// CheckFree implements Backend: a shared, non-blocking flock of dir/LOCK,
// released at once; a journal that does not exist yet is free.
func (BBolt) CheckFree(_ context.Context, cfg Config) error {
	if !Exists(cfg.Dir) {
		return nil
	}
	l, err := lockDir(cfg.Dir, true)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return fmt.Errorf("open journal %s: %w", cfg.Dir, err)
	}
	return l.release()
}
