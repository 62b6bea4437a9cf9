package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
)

// auditDeps is what the admin listener needs to replay and export inside
// the engine: the running configuration's pipeline and components, and
// the engine's signing key (SLUICE_SIGNING_KEY), if any.
type auditDeps struct {
	spec     pipeline.Spec
	regs     pipeline.Registries
	settings pipeline.Settings
	signer   ed25519.PrivateKey
}

// auditRoutes adds the replay and export endpoints.
func (a *admin) auditRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /journal/replay", requireAdminHeader(a.replay))
	mux.HandleFunc("GET /journal/export", a.export)
}

// replayLine is one line of the replay endpoint's JSON-lines answer.
type replayLine struct {
	Progress *replayProgressView `json:"progress,omitempty"`
	Report   *replayReportView   `json:"report,omitempty"`
	Error    string              `json:"error,omitempty"`
}

// replay runs a replay (a JSON replayRequest body) inside the engine and
// streams progress lines, then the report. The replay stops when the
// client goes away.
func (a *admin) replay(w http.ResponseWriter, r *http.Request) {
	var req replayRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSONError(w, http.StatusBadRequest, fmt.Errorf("replay request: %w", err))
		return
	}
	var mu sync.Mutex
	started := false
	sw := streaming(w, r)
	send := func(l replayLine) {
		mu.Lock()
		defer mu.Unlock()
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		_ = json.NewEncoder(sw).Encode(l)
		sw.Flush()
	}
	a.log.Info("replay requested through the admin listener", slog.String("sink", req.Sink),
		slog.String("from", req.From), slog.String("to", req.To), slog.Bool("dry_run", req.DryRun))
	rep, err := runReplay(r.Context(), a.journal, a.audit.spec, a.audit.regs, a.audit.settings, req, func(p pipeline.ReplayProgress) {
		v := newReplayProgressView(p)
		send(replayLine{Progress: &v})
	})
	if err != nil && rep.ByType == nil && !started {
		code := http.StatusInternalServerError
		if exitCode(err) == exitUsage {
			code = http.StatusBadRequest
		}
		writeJSONError(w, code, err)
		return
	}
	l := replayLine{Report: &rep}
	if err != nil {
		l.Error = err.Error()
	}
	send(l)
}

// export streams an export of the query's from..to (SEQ or TIME), signed
// with the engine's key when it has one.
func (a *admin) export(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts, err := exportOptions(r.Context(), a.journal, q.Get("from"), q.Get("to"))
	if err != nil {
		code := http.StatusInternalServerError
		if exitCode(err) == exitUsage {
			code = http.StatusBadRequest
		}
		writeJSONError(w, code, err)
		return
	}
	opts.Signer = a.audit.signer
	w.Header().Set("Content-Type", "application/x-ndjson")
	if _, err := a.journal.Export(r.Context(), streaming(w, r), opts); err != nil {
		// The client sees a stream without a manifest and reports it.
		a.log.Warn("journal export ended", slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
}

// exportOptions resolves an export's bounds (SEQ or TIME) on j.
func exportOptions(ctx context.Context, j journal.Store, from, to string) (journal.ExportOptions, error) {
	fromB, toB, err := parseRange(from, to, time.Now())
	if err != nil {
		return journal.ExportOptions{}, err
	}
	f, t, ok, err := resolveRange(ctx, j, fromB, toB)
	if err != nil {
		return journal.ExportOptions{}, journalDamageError(err)
	}
	if !ok {
		f, t = math.MaxUint64, math.MaxUint64 // an empty export
	}
	host, _ := os.Hostname()
	return journal.ExportOptions{From: f, To: t, Host: host}, nil
}

// replay asks the engine to replay and follows its progress. If ctx ends
// (Ctrl-C), the request is abandoned, which stops the replay in the
// engine, and the last progress says how far it got.
func (r *remoteJournal) replay(ctx context.Context, req replayRequest, onProgress func(replayProgressView)) (replayReportView, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return replayReportView{}, err
	}
	resp, err := r.post(ctx, "/journal/replay", nil, body)
	if err != nil {
		return replayReportView{}, err
	}
	defer resp.Body.Close()
	var last *replayProgressView
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		var l replayLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return replayReportView{}, fmt.Errorf("replay: decode progress: %w", err)
		}
		switch {
		case l.Report != nil:
			if l.Error != "" {
				return *l.Report, errors.New(l.Error)
			}
			return *l.Report, nil
		case l.Progress != nil:
			last = l.Progress
			onProgress(*l.Progress)
		}
	}
	if ctx.Err() != nil && last != nil {
		rep := replayReportView{replayProgressView: *last, Interrupted: true, ByType: map[string]uint64{}, BySource: map[string]uint64{}}
		return rep, ctx.Err()
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return replayReportView{}, fmt.Errorf("replay: %w", err)
	}
	if ctx.Err() != nil {
		return replayReportView{}, ctx.Err()
	}
	return replayReportView{}, errors.New("replay: the engine ended the stream without a report")
}

// export streams an export from the engine to w, verified on the way,
// re-signing its manifest with key when one is given (relayExport).
func (r *remoteJournal) export(ctx context.Context, w io.Writer, from, to string, key ed25519.PrivateKey) error {
	resp, err := r.get(ctx, "/journal/export", url.Values{"from": {from}, "to": {to}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return relayExport(ctx, resp.Body, w, key)
}

func (r *remoteJournal) post(ctx context.Context, path string, q url.Values, body []byte) (*http.Response, error) {
	u := r.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set(adminHeader, "1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		err := fmt.Errorf("%s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
		if resp.StatusCode == http.StatusBadRequest {
			return nil, withExit(exitUsage, err)
		}
		return nil, err
	}
	return resp, nil
}
