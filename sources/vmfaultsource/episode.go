package vmfaultsource

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// episodeKeyPrefix prefixes the state key of each open fault episode:
// "os/" + the watch entry's key + "/" + the server id.
const episodeKeyPrefix = "os/"

// episodeVersion is the V of episode.
const episodeVersion = 1

// episode is an open fault of one server of one watch entry, kept in the
// source's journal state from its raise to its clear (and written in the
// same transaction as the events), so that a restart neither raises it
// again nor misses its clear. Healthy servers have no state.
type episode struct {
	V          int          `json:"v"`
	ServerID   string       `json:"server_id"`
	ServerName string       `json:"server_name,omitempty"`
	ProjectID  string       `json:"project_id,omitempty"`
	RaisedAt   time.Time    `json:"raised_at"`
	Reason     string       `json:"reason"`
	Status     string       `json:"status"`
	VMState    *string      `json:"vm_state,omitempty"`
	TaskState  *string      `json:"task_state,omitempty"`
	PowerState *int         `json:"power_state,omitempty"`
	Fault      *serverFault `json:"fault,omitempty"`
	// owner is the key of the watch entry the episode is stored under
	// (its state key's), not encoded.
	owner string
}

func episodeKey(watch, serverID string) string { return episodeKeyPrefix + watch + "/" + serverID }

// splitEpisodeKey returns the watch key and server id of a state key.
func splitEpisodeKey(k string) (watch, id string, ok bool) {
	rest, ok := strings.CutPrefix(k, episodeKeyPrefix)
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

func (e episode) encode() ([]byte, error) { return json.Marshal(e) }

func decodeEpisode(b []byte) (episode, error) {
	var e episode
	if err := json.Unmarshal(b, &e); err != nil {
		return episode{}, fmt.Errorf("decode fault episode: %w", err)
	}
	if e.V != episodeVersion {
		return episode{}, fmt.Errorf("decode fault episode: unknown version %d", e.V)
	}
	if e.ServerID == "" || e.RaisedAt.IsZero() {
		return episode{}, fmt.Errorf("decode fault episode: no server id or raise time")
	}
	return e, nil
}

// newEpisode opens an episode for s at now.
func newEpisode(owner string, s server, reason string, now time.Time) episode {
	return episode{
		owner: owner, V: episodeVersion, ServerID: s.ID, ServerName: s.Name, ProjectID: s.TenantID, RaisedAt: now, Reason: reason,
		Status: s.Status, VMState: s.VMState, TaskState: s.TaskState, PowerState: s.PowerState, Fault: s.Fault,
	}
}
