package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// journalFlags locate a journal: --dir, or the journal of -c FILE (the
// embedded default without either). When a running engine holds it, the
// commands reach the engine's admin API on its Unix socket (admin.socket,
// by default in the journal directory), or with --admin over TCP with
// the token of admin.token_file (admin.api: tcp).
type journalFlags struct {
	config []string
	dir    string
	admin  string
}

func (f *journalFlags) register(cmd *cobra.Command) {
	configFlag(cmd, &f.config, true)
	cmd.PersistentFlags().StringVar(&f.dir, "dir", "", "journal directory (overrides the configuration's journal.dir)")
	cmd.PersistentFlags().StringVar(&f.admin, "admin", "", "reach the running engine's admin API over TCP at HOST:PORT or https://HOST:PORT (admin.api: tcp; default: its Unix socket)")
}

// journalView is what journal commands read: a journal opened directly
// when the engine is stopped, or the running engine's admin API.
type journalView interface {
	Stats(ctx context.Context) (statsView, error)
	// Records writes records as JSON lines (see recordJSON) to emit.
	Records(ctx context.Context, from, limit uint64, follow bool, emit func(line []byte) error) error
	// Verify checks the journal's integrity between two sequences (0: the
	// ends) and against its checkpoints, which must be signed with pin
	// when one is pinned; a damaged journal is an error with exit code 5.
	Verify(ctx context.Context, from, to uint64, pin trustedKey) (verifyView, error)
	// DeadLetters calls emit for each dead letter f selects, in (sink, seq)
	// order; DeadLetter returns one (errNoDeadLetter if there is none).
	DeadLetters(ctx context.Context, f pipeline.DeadLetterFilter, emit func(deadLetterView) error) error
	DeadLetter(ctx context.Context, sink string, seq uint64) (deadLetterView, error)
	// RequestRedrive marks the dead letters f selects for redrive and
	// PurgeDeadLetters removes them; both return how many. They need a view
	// opened with openWritable.
	RequestRedrive(ctx context.Context, f pipeline.DeadLetterFilter) (int, error)
	PurgeDeadLetters(ctx context.Context, f pipeline.DeadLetterFilter) (int, error)
	// Cursors lists the consumers' cursors; sinks are the configured sink
	// names (nil: unknown), which a running engine knows itself.
	Cursors(ctx context.Context, sinks []string) ([]cursorView, error)
	// SetCursor moves a cursor (durably) and returns the sequence it now
	// reads next; DeleteCursor removes a cursor and its state. Both need
	// a view opened with openWritable; a running engine refuses them for
	// the sinks it delivers.
	SetCursor(ctx context.Context, name string, to cursorTarget) (uint64, error)
	DeleteCursor(ctx context.Context, name string) error
	// Live reports whether this is a running engine.
	Live() bool
	Close(ctx context.Context) error
}

// open returns a read-only view of the journal: directly if no process
// holds it, otherwise through the admin API of the engine that does,
// after checking that this engine holds this journal.
func (f *journalFlags) open(ctx context.Context) (journalView, error) {
	return f.openMode(ctx, false)
}

// openWritable is open for commands that change the dead-letter store: it
// opens a stopped engine's journal for writing (never creating one).
func (f *journalFlags) openWritable(ctx context.Context) (journalView, error) {
	return f.openMode(ctx, true)
}

// locate returns the journal and admin settings the flags name: those of
// the configuration, with --dir overriding the journal directory.
func (f *journalFlags) locate() (journal.Config, config.AdminConfig, error) {
	cfg, adminCfg := journal.DefaultConfig(), config.DefaultAdminConfig()
	cfg.Dir = f.dir
	if f.dir == "" || len(configPaths(f.config)) > 0 {
		regs, err := registries()
		if err != nil {
			return cfg, adminCfg, err
		}
		file, err := loadConfig(f.config, regs)
		if err != nil {
			return cfg, adminCfg, withExit(exitInvalidConfig, err)
		}
		cfg, adminCfg = file.Journal, file.Admin
		if f.dir != "" {
			cfg.Dir = f.dir
		}
	}
	return cfg, adminCfg, nil
}

func (f *journalFlags) openMode(ctx context.Context, writable bool) (journalView, error) {
	cfg, adminCfg, err := f.locate()
	if err != nil {
		return nil, err
	}
	// A tool never applies retention: only the engine decides what to
	// remove.
	cfg.Retention = journal.RetentionConfig{}
	mode := journal.ReadOnly
	if writable {
		mode = journal.Existing
	}
	j, err := journalBackends().Open(ctx, cfg, mode, pipeline.NopSettings("journal"))
	if err == nil {
		return localJournal{j}, nil
	}
	if !errors.Is(err, journal.ErrInUse) {
		return nil, journalOpenError(err)
	}
	r, err := dialEngine(ctx, adminCfg, cfg.Dir, f.admin)
	if err != nil {
		return nil, withExit(exitJournalInUse, fmt.Errorf("journal %s is in use and its engine could not be reached: %w", cfg.Dir, err))
	}
	return r, nil
}

// localJournal reads a stopped engine's journal directly.
type localJournal struct{ j journal.Store }

func (l localJournal) Live() bool { return false }

func (l localJournal) Stats(ctx context.Context) (statsView, error) {
	st, err := l.j.Stats(ctx)
	if err != nil {
		return statsView{}, err
	}
	return newStatsView(st), nil
}

func (l localJournal) Records(ctx context.Context, from, limit uint64, follow bool, emit func([]byte) error) error {
	return streamRecords(ctx, l.j, from, limit, follow, func(rec pipeline.Record) error {
		line, err := recordJSON(rec)
		if err != nil {
			return err
		}
		return emit(line)
	}, func() {})
}

func (l localJournal) Verify(ctx context.Context, from, to uint64, pin trustedKey) (verifyView, error) {
	return l.verify(ctx, from, to, pin, nil)
}

// verify is Verify with a progress callback (see journal.VerifyOptions).
func (l localJournal) verify(ctx context.Context, from, to uint64, pin trustedKey, progress func(done, total uint64)) (verifyView, error) {
	v, err := verifyJournal(ctx, l.j, from, to, pin, progress)
	if err != nil {
		return verifyView{}, journalDamageError(err)
	}
	return v, nil
}

func (l localJournal) Close(ctx context.Context) error { return l.j.Close(ctx) }

// journalDamageError gives integrity failures exit code 5.
func journalDamageError(err error) error {
	if errors.Is(err, journal.ErrCorrupt) {
		return withExit(exitJournalDamage, err)
	}
	return err
}

func (r *remoteJournal) Live() bool { return true }

func (r *remoteJournal) Stats(ctx context.Context) (statsView, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := r.get(ctx, "/journal/stats", nil)
	if err != nil {
		return statsView{}, err
	}
	defer resp.Body.Close()
	var v statsView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return statsView{}, fmt.Errorf("decode stats: %w", err)
	}
	return v, nil
}

func (r *remoteJournal) Records(ctx context.Context, from, limit uint64, follow bool, emit func([]byte) error) error {
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "limit": {strconv.FormatUint(limit, 10)}}
	if follow {
		q.Set("follow", "1")
	}
	resp, err := r.get(ctx, "/journal/records", q)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		if err := emit(append(sc.Bytes(), '\n')); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

func (r *remoteJournal) Verify(ctx context.Context, from, to uint64, pin trustedKey) (verifyView, error) {
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "to": {strconv.FormatUint(to, 10)}}
	resp, err := r.get(ctx, "/journal/verify", q)
	if err != nil {
		return verifyView{}, err
	}
	defer resp.Body.Close()
	var res struct {
		verifyView
		Corrupt string `json:"corrupt"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return verifyView{}, fmt.Errorf("decode verify report: %w", err)
	}
	if res.Corrupt != "" {
		return verifyView{}, withExit(exitJournalDamage, errors.New(res.Corrupt))
	}
	return res.verifyView, checkRemoteCheckpoint(res.verifyView, pin)
}

func (r *remoteJournal) Close(context.Context) error { return nil }
