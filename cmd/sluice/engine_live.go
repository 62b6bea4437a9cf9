package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// errNoEngine is returned by the commands that watch a running engine
// (tap, top) when none holds the journal.
var errNoEngine = errors.New("no engine is running")

// dialRunningEngine returns a client of the admin API of the engine that
// holds the journal f names, or errNoEngine (exit 1) when no engine
// holds it: tap and top watch a running engine and have nothing to read
// otherwise.
func dialRunningEngine(ctx context.Context, f *journalFlags) (*remoteJournal, error) {
	cfg, adminCfg, err := f.locate()
	if err != nil {
		return nil, err
	}
	if f.admin == "" {
		if err := journalBackends().CheckFree(ctx, cfg); err == nil {
			return nil, fmt.Errorf("%w on journal %s: start it with 'sluice run' (or point -c/--dir at its journal, or --admin at its TCP admin listener)", errNoEngine, cfg.Dir)
		}
	}
	r, err := dialEngine(ctx, adminCfg, cfg.Dir, f.admin)
	if err != nil {
		where := "journal " + cfg.Dir
		if f.admin != "" {
			where = f.admin
		}
		return nil, fmt.Errorf("%w at %s (its admin API did not answer): %w", errNoEngine, where, err)
	}
	return r, nil
}

// stream sends a GET whose answer streams and returns its body. A
// refusal is an error with the engine's message: a 404 (an unknown
// source, route or sink, with the defined ones) and a 400 are usage
// errors (exit 2).
func (r *remoteJournal) stream(ctx context.Context, path string, q url.Values) (io.ReadCloser, error) {
	resp, err := r.send(ctx, path, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.where, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Body, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Error string `json:"error"`
	}
	msg := string(body)
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	err = errors.New(msg)
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest {
		return nil, withExit(exitUsage, err)
	}
	return nil, fmt.Errorf("%w (%s)", err, resp.Status)
}
