package vmfaultsource

import (
	"encoding/json"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// Event types. (Defined here until a shared vocabulary package exists.)
const (
	// TypeFault raises a server's fault episode, once per episode.
	TypeFault = "sluice.vm.fault"
	// TypeFaultCleared ends it: the server recovered, was deleted, or is
	// no longer watched.
	TypeFaultCleared = "sluice.vm.fault.cleared"
	// TypeMaintenance reports a scheduled maintenance event of this VM.
	TypeMaintenance = "sluice.vm.maintenance"
)

// Clear reasons.
const (
	ClearRecovered = "recovered"
	ClearDeleted   = "deleted"
	ClearUnwatched = "unwatched"
)

// faultData is the data of TypeFault and TypeFaultCleared events. The
// source_name, source_id, alarm_id, specific_problem, raised_at and
// cleared members are those the VES sink reads.
type faultData struct {
	Provider   string       `json:"provider"`
	ServerID   string       `json:"server_id"`
	ServerName string       `json:"server_name,omitempty"`
	ProjectID  string       `json:"project_id,omitempty"`
	Watch      string       `json:"watch"`
	Status     string       `json:"status"`
	VMState    *string      `json:"vm_state,omitempty"`
	TaskState  *string      `json:"task_state,omitempty"`
	PowerState *int         `json:"power_state,omitempty"`
	Fault      *serverFault `json:"fault,omitempty"`
	// Reason says why the server is faulty (raise) or why the episode
	// ended (clear: recovered, deleted or unwatched).
	Reason string `json:"reason"`
	// FaultReason is the raise's reason, on a clear.
	FaultReason string    `json:"fault_reason,omitempty"`
	RaisedAt    time.Time `json:"raised_at"`
	Cleared     bool      `json:"cleared,omitempty"`
	ClearedAt   time.Time `json:"cleared_at,omitzero"`

	SourceName      string `json:"source_name,omitempty"`
	SourceID        string `json:"source_id"`
	AlarmID         string `json:"alarm_id"`
	SpecificProblem string `json:"specific_problem"`
}

// raiseEvent is the TypeFault event of ep.
func raiseEvent(watch string, ep episode) (pipeline.Event, error) {
	d := episodeData(watch, ep)
	d.Reason = ep.Reason
	d.SpecificProblem = ep.Reason
	return faultEvent(TypeFault, ep.ServerID+"-"+ep.RaisedAt.UTC().Format(idTime), pipeline.SeverityCritical, ep.RaisedAt, d)
}

// clearEvent is the TypeFaultCleared event ending ep at now. s is the
// server's last record, or the episode's when there is none.
func clearEvent(watch string, ep episode, s *server, reason string, now time.Time) (pipeline.Event, error) {
	d := episodeData(watch, ep)
	if s != nil {
		d.Status, d.VMState, d.TaskState, d.PowerState, d.Fault = s.Status, s.VMState, s.TaskState, s.PowerState, s.Fault
		if s.Name != "" {
			d.ServerName, d.SourceName = s.Name, s.Name
		}
	}
	d.Reason, d.FaultReason, d.SpecificProblem = reason, ep.Reason, ep.Reason
	d.Cleared, d.ClearedAt = true, now
	return faultEvent(TypeFaultCleared, ep.ServerID+"-"+ep.RaisedAt.UTC().Format(idTime)+"-cleared", pipeline.SeverityInfo, now, d)
}

// idTime formats the raise time in event ids.
const idTime = "20060102T150405.000000000Z"

func episodeData(watch string, ep episode) faultData {
	return faultData{
		Provider: ProviderOpenStack, ServerID: ep.ServerID, ServerName: ep.ServerName, ProjectID: ep.ProjectID, Watch: watch,
		Status: ep.Status, VMState: ep.VMState, TaskState: ep.TaskState, PowerState: ep.PowerState, Fault: ep.Fault,
		RaisedAt: ep.RaisedAt, SourceName: ep.ServerName, SourceID: ep.ServerID, AlarmID: ep.ServerID,
	}
}

func faultEvent(typ, id string, sev pipeline.Severity, t time.Time, d faultData) (pipeline.Event, error) {
	if d.SourceName == "" {
		d.SourceName = d.ServerID
	}
	b, err := json.Marshal(d)
	if err != nil {
		return pipeline.Event{}, err
	}
	return pipeline.Event{
		ID: id, Type: typ, Subject: d.ServerID, Time: t, Severity: sev,
		DataContentType: "application/json", Data: b,
	}, nil
}
