package vessink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// stateFileVersion is the format of the state file.
const stateFileVersion = 1

// maxStateFile bounds what is read from a state file.
const maxStateFile = 64 << 20

type stateFile struct {
	Version int                  `json:"version"`
	Alarms  map[string][]episode `json:"alarms"`
}

// loadAlarms reads the alarm table from path. A missing file is an empty
// table; anything else that fails is an error naming the file.
func loadAlarms(path string) (*alarmTable, error) {
	a := newAlarmTable()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil
	}
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
	return a, nil
}

// saveAlarms writes the table to path atomically: a temporary file in the
// same directory, fsync'd, renamed over path, and the directory fsync'd.
func saveAlarms(path string, a *alarmTable) error {
	b, err := json.Marshal(stateFile{Version: stateFileVersion, Alarms: a.alarms})
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // fails harmlessly after the rename
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write state file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("sync state file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close state file %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace state file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: the rename is durable on most file systems anyway
		_ = d.Close()
	}
	return nil
}
