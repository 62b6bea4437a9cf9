package vmfaultsource

import (
	"encoding/json"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// maintenanceData is the data of sluice.vm.maintenance events.
type maintenanceData struct {
	Provider string `json:"provider"`
	// EventID is the provider's event id; State is scheduled, approved,
	// started, completed or cancelled.
	EventID   string `json:"event_id"`
	State     string `json:"state"`
	EventType string `json:"event_type,omitempty"`
	// EventStatus is the provider's own status word.
	EventStatus         string    `json:"event_status,omitempty"`
	ResourceType        string    `json:"resource_type,omitempty"`
	Resources           []string  `json:"resources,omitempty"`
	NotBefore           time.Time `json:"not_before,omitzero"`
	Description         string    `json:"description,omitempty"`
	EventSource         string    `json:"event_source,omitempty"`
	DurationSeconds     *int64    `json:"duration_seconds,omitempty"`
	DocumentIncarnation int64     `json:"document_incarnation,omitempty"`
	VM                  string    `json:"vm"`
}

func azureData(e azureEvent, incarnation int64, vm string) maintenanceData {
	return maintenanceData{
		Provider: ProviderAzure, EventID: e.EventID, EventType: e.EventType, EventStatus: e.EventStatus,
		ResourceType: e.ResourceType, Resources: e.Resources, NotBefore: e.notBefore, Description: e.Description,
		EventSource: e.EventSource, DurationSeconds: e.DurationInSeconds, DocumentIncarnation: incarnation, VM: vm,
	}
}

// maintenanceEvent is one sluice.vm.maintenance event; its id is the
// provider's event id and the state, the same across polls and restarts.
func maintenanceEvent(id, state string, d maintenanceData, now time.Time) (pipeline.Event, error) {
	d.State = state
	b, err := json.Marshal(d)
	if err != nil {
		return pipeline.Event{}, err
	}
	sev := pipeline.SeverityWarning
	if state == MaintenanceCompleted || state == MaintenanceCancelled {
		sev = pipeline.SeverityInfo
	}
	return pipeline.Event{
		ID: d.Provider + "-" + id + "-" + state, Type: TypeMaintenance, Subject: id, Time: now, Severity: sev,
		DataContentType: "application/json", Data: b,
	}, nil
}
