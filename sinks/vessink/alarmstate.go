package vessink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/pipeline"
)

// Keys of the sink state (pipeline.SinkState, committed by the runner in
// the journal with the sink's cursor).
const (
	// alarmKeyPrefix prefixes an alarm's key; the value is its episodes
	// as JSON.
	alarmKeyPrefix = "alarm/"
	// migratedKey is set once the alarms of state_file are in the state;
	// its value is the file's path.
	migratedKey = "state_file.migrated"
)

// migratedSuffix is appended to a state file's name once the journal
// holds what it held.
const migratedSuffix = ".migrated"

// loadAlarmState returns the alarm table kept in state. An alarm whose
// value does not decode is dropped with a warning (its clear falls back
// as for an unknown raise).
func loadAlarmState(ctx context.Context, state pipeline.SinkState, log *slog.Logger) *alarmTable {
	a := newAlarmTable()
	all := state.All()
	for _, k := range slices.Sorted(maps.Keys(all)) {
		key, ok := strings.CutPrefix(k, alarmKeyPrefix)
		if !ok {
			continue
		}
		var eps []episode
		if err := json.Unmarshal(all[k], &eps); err != nil || len(eps) == 0 {
			log.WarnContext(ctx, "ves sink drops an unreadable alarm state", slog.String("alarm", key), slog.Any("error", err))
			state.Delete(k)
			continue
		}
		if len(eps) > maxEpisodes {
			eps = eps[len(eps)-maxEpisodes:]
		}
		a.alarms[key] = eps
	}
	a.evict()
	clear(a.dirty) // what evict forgot is deleted at the first flush
	for k := range all {
		if key, ok := strings.CutPrefix(k, alarmKeyPrefix); ok {
			if _, kept := a.alarms[key]; !kept {
				a.dirty[key] = true
			}
		}
	}
	return a
}

// flush writes the alarms changed since the last flush into state, and
// reports whether there were any.
func (a *alarmTable) flush(state pipeline.SinkState) bool {
	if len(a.dirty) == 0 {
		return false
	}
	for key := range a.dirty {
		eps, ok := a.alarms[key]
		if !ok {
			state.Delete(alarmKeyPrefix + key)
			continue
		}
		b, _ := json.Marshal(eps) // cannot fail: strings and integers
		state.Set(alarmKeyPrefix+key, b)
	}
	clear(a.dirty)
	return true
}

// hasAlarmState reports whether state holds any alarm.
func hasAlarmState(state pipeline.SinkState) bool {
	for k := range state.All() {
		if strings.HasPrefix(k, alarmKeyPrefix) {
			return true
		}
	}
	return false
}

// stateFileVersion is the format of the state file.
const stateFileVersion = 1

// maxStateFile bounds what is read from a state file.
const maxStateFile = 64 << 20

type stateFile struct {
	Version int                  `json:"version"`
	Alarms  map[string][]episode `json:"alarms"`
}

// loadAlarms reads the alarm table from a state file (the format of
// versions that kept the alarm state there). A missing file is an empty
// table and fs.ErrNotExist; anything else that fails is an error naming
// the file.
func loadAlarms(path string) (*alarmTable, error) {
	a := newAlarmTable()
	f, err := os.Open(path)
	if err != nil {
		return a, fmt.Errorf("read state file: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	b, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err != nil {
		return a, fmt.Errorf("read state file %s: %w", path, err)
	}
	if len(b) > maxStateFile {
		return a, fmt.Errorf("state file %s is larger than %d bytes", path, maxStateFile)
	}
	var sf stateFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return a, fmt.Errorf("state file %s: %w", path, err)
	}
	if sf.Version != stateFileVersion {
		return a, fmt.Errorf("state file %s: version %d, want %d", path, sf.Version, stateFileVersion)
	}
	for k, eps := range sf.Alarms {
		if len(eps) == 0 {
			continue
		}
		if len(eps) > maxEpisodes {
			eps = eps[len(eps)-maxEpisodes:]
		}
		a.alarms[k] = eps
	}
	a.evict()
	clear(a.dirty)
	return a, nil
}

// stateFileMigration moves a state_file into the sink state, once. It is
// crash-safe: the file is renamed only at a start that finds the marker,
// i.e. once the runner has committed the migrated alarms with the cursor.
type stateFileMigration struct {
	path string
	// read is the file's table, read by Provision; err why it could not
	// be read (fs.ErrNotExist for no file).
	read *alarmTable
	err  error
	done bool
}

// provision reads the file, unless the state says it was migrated or
// holds alarms already. It writes nothing.
func (m *stateFileMigration) provision(state pipeline.SinkState) {
	if m.path == "" || m.done {
		return
	}
	if _, migrated := state.Get(migratedKey); migrated || hasAlarmState(state) {
		return
	}
	m.read, m.err = loadAlarms(m.path)
	m.done = true
}

// apply runs at Start: it copies the file's alarms into a (and so, at the
// next flush, into the state), or renames a file whose alarms the state
// already holds.
func (m *stateFileMigration) apply(ctx context.Context, state pipeline.SinkState, a *alarmTable, log *slog.Logger) {
	if m.path == "" {
		return
	}
	attrs := []any{slog.String("state_file", m.path)}
	if v, migrated := state.Get(migratedKey); migrated {
		if string(v) != m.path {
			return // another file was migrated: this one is not read
		}
		switch err := os.Rename(m.path, m.path+migratedSuffix); {
		case err == nil:
			log.InfoContext(ctx, "ves alarm state file migrated to the journal; renamed", append(attrs, slog.String("to", m.path+migratedSuffix))...)
		case !errors.Is(err, fs.ErrNotExist):
			log.WarnContext(ctx, "ves alarm state file migrated to the journal but not renamed; it is ignored", append(attrs, slog.String("error", err.Error()))...)
		}
		return
	}
	if hasAlarmState(state) {
		log.WarnContext(ctx, "ves alarm state file ignored: the sink's journal state holds the alarms", attrs...)
		state.Set(migratedKey, []byte(m.path))
		return
	}
	m.provision(state)
	switch {
	case errors.Is(m.err, fs.ErrNotExist):
		return
	case m.err != nil:
		// The table only improves clears; delivery goes on without it.
		// No marker: the file is read again at the next start, until it
		// is fixed or the state holds alarms of its own.
		log.ErrorContext(ctx, "ves alarm state file unreadable; not migrated, the sink's journal state starts empty",
			append(attrs, slog.String("error", m.err.Error()))...)
		m.done = false
		return
	default:
		for k, eps := range m.read.alarms {
			a.alarms[k] = eps
			a.dirty[k] = true
		}
		a.evict()
		log.InfoContext(ctx, "ves alarm state file migrated into the sink's journal state; it is renamed at the next start",
			append(attrs, slog.Int("alarms", len(m.read.alarms)))...)
	}
	state.Set(migratedKey, []byte(m.path))
	m.read = nil
}
