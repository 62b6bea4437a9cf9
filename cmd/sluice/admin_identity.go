package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
)

// journalIdentity names the journal an engine holds: its directory as
// the engine sees it and the directory's device and inode numbers, which
// a client compares with those of the directory it means (a path can be
// spelled many ways, a device and inode pair names one directory on the
// machine; a journal deleted and made again gets a new one).
type journalIdentity struct {
	Dir string `json:"journal_dir"`
	ID  string `json:"journal_id"`
	PID int    `json:"pid"`
}

// errOtherJournal is returned when the engine reached holds another
// journal than the one asked for.
var errOtherJournal = errors.New("the engine reached holds another journal")

// identify returns the identity of the journal in dir.
func identify(dir string) (journalIdentity, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return journalIdentity{}, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return journalIdentity{}, fmt.Errorf("journal directory: %w", err)
	}
	id := journalIdentity{Dir: abs, PID: os.Getpid()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.ID = fmt.Sprintf("dev=%d,ino=%d", st.Dev, st.Ino)
	}
	return id, nil
}

func (a *admin) identityHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a.identity)
}

// checkIdentity asks the engine behind r which journal it holds and
// returns errOtherJournal (wrapped, naming both) unless it is the one in
// dir.
func (r *remoteJournal) checkIdentity(ctx context.Context, dir string) error {
	want, err := identify(dir)
	if err != nil {
		return err
	}
	resp, err := r.get(ctx, "/journal/identity", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var got journalIdentity
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		return fmt.Errorf("decode identity: %w", err)
	}
	if got.ID == "" || got.ID != want.ID {
		return fmt.Errorf("%w: the engine at %s (pid %d) holds the journal %s, not %s; point --dir or -c at that journal, or --admin at the engine that holds %s",
			errOtherJournal, r.where, got.PID, got.Dir, want.Dir, want.Dir)
	}
	return nil
}
