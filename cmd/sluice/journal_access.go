package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// journalFlags locate a journal: --dir, or the journal of -c FILE (the
// embedded default without either); --admin overrides the admin address
// used when a running engine holds the journal.
type journalFlags struct {
	config string
	dir    string
	admin  string
}

func (f *journalFlags) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVarP(&f.config, "config", "c", "", "configuration file whose journal to use (default: the embedded default)")
	cmd.PersistentFlags().StringVar(&f.dir, "dir", "", "journal directory (overrides the configuration's journal.dir)")
	cmd.PersistentFlags().StringVar(&f.admin, "admin", "", "admin address of the running engine (overrides the configuration's admin.listen)")
}

// journalView is what journal commands read: a journal opened directly
// when the engine is stopped, or the running engine's admin listener.
type journalView interface {
	Stats(ctx context.Context) (statsView, error)
	// Records writes records as JSON lines (see recordJSON) to emit.
	Records(ctx context.Context, from, limit uint64, follow bool, emit func(line []byte) error) error
	// Verify checks the journal's integrity between two sequences (0: the
	// ends); a damaged journal is an error with exit code 5.
	Verify(ctx context.Context, from, to uint64) (verifyView, error)
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
// holds it, otherwise through the admin listener of the engine that does.
func (f *journalFlags) open(ctx context.Context) (journalView, error) {
	return f.openMode(ctx, false)
}

// openWritable is open for commands that change the dead-letter store: it
// opens a stopped engine's journal for writing (never creating one).
func (f *journalFlags) openWritable(ctx context.Context) (journalView, error) {
	return f.openMode(ctx, true)
}

func (f *journalFlags) openMode(ctx context.Context, writable bool) (journalView, error) {
	cfg, adminAddr := journal.DefaultConfig(), f.admin
	cfg.Dir = f.dir
	if f.dir == "" || adminAddr == "" {
		regs, err := registries()
		if err != nil {
			return nil, err
		}
		file, err := loadConfig(f.config, regs)
		if err != nil {
			if f.dir == "" {
				return nil, withExit(exitInvalidConfig, err)
			}
		} else {
			cfg = file.Journal
			if f.dir != "" {
				cfg.Dir = f.dir
			}
			if adminAddr == "" && file.Admin.Enabled() {
				adminAddr = file.Admin.Listen
			}
		}
	}
	dir := cfg.Dir
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
	if adminAddr == "" {
		return nil, withExit(exitJournalInUse, fmt.Errorf("open journal: %w, and no admin address to reach the engine (use --admin)", err))
	}
	r := &remoteJournal{base: "http://" + adminAddr, client: &http.Client{}}
	if _, err := r.Stats(ctx); err != nil {
		return nil, withExit(exitJournalInUse, fmt.Errorf("journal %s is in use and the engine's admin listener %s did not answer: %w", dir, adminAddr, err))
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

func (l localJournal) Verify(ctx context.Context, from, to uint64) (verifyView, error) {
	v, err := verifyJournal(ctx, l.j, from, to)
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

// remoteJournal reads a running engine's journal through its admin
// listener.
type remoteJournal struct {
	base   string
	client *http.Client
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

func (r *remoteJournal) Verify(ctx context.Context, from, to uint64) (verifyView, error) {
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
	return res.verifyView, nil
}

func (r *remoteJournal) Close(context.Context) error { return nil }

func (r *remoteJournal) get(ctx context.Context, path string, q url.Values) (*http.Response, error) {
	u := r.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s: %s", path, resp.Status, body)
	}
	return resp, nil
}
