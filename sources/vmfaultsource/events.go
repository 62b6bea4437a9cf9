package vmfaultsource

import (
	"encoding/json"
	"time"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// Event types (documented with their data in internal/eventtypes).
const (
	// TypeFault raises a server's fault episode, once per episode.
	TypeFault = eventtypes.VMFault
	// TypeFaultCleared ends it: the server recovered, was deleted, or is
	// no longer watched.
	TypeFaultCleared = eventtypes.VMFaultCleared
	// TypeMaintenance reports a scheduled maintenance event of this VM.
	TypeMaintenance = eventtypes.VMMaintenance
)

// Clear reasons.
const (
	ClearRecovered = eventtypes.VMClearRecovered
	ClearDeleted   = eventtypes.VMClearDeleted
	ClearUnwatched = eventtypes.VMClearUnwatched
)

// faultData is the data of TypeFault and TypeFaultCleared events.
type faultData = eventtypes.VMFaultData

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
		DataContentType: eventtypes.ContentType, Data: b,
	}, nil
}
