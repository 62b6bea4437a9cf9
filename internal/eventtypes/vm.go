package eventtypes

import "time"

// Event types of the vmfault source.
const (
	// VMFault raises a VM's fault episode, once per episode (severity
	// critical, subject the server id). The VES sink sends it as a fault.
	VMFault = "sluice.vm.fault"
	// VMFaultCleared ends the episode: the server recovered, was deleted,
	// or is no longer watched (severity info). It carries the raise's
	// RaisedAt, so a VES clear keeps its alarm's start time.
	VMFaultCleared = "sluice.vm.fault.cleared"
	// VMMaintenance reports a scheduled maintenance event of the VM Sluice
	// runs on (Azure, AWS or GCP instance metadata), once per state of
	// each provider event, deduplicated across polls and restarts.
	VMMaintenance = "sluice.vm.maintenance"
	// VMMaintenanceApprove asks the vmfault source to approve (Azure
	// StartRequests) a scheduled maintenance event; a route delivers it.
	VMMaintenanceApprove = "sluice.vm.maintenance.approve"
)

// Reasons an episode ends, in VMFaultData.Reason of a VMFaultCleared.
const (
	VMClearRecovered = "recovered"
	VMClearDeleted   = "deleted"
	VMClearUnwatched = "unwatched"
)

// VMFaultData is the data of VMFault and VMFaultCleared events. The
// source_name, source_id, alarm_id, specific_problem, raised_at and
// cleared members are those the VES sink reads.
type VMFaultData struct {
	// Provider is openstack.
	Provider string `json:"provider"`
	// ServerID, ServerName and ProjectID identify the server.
	ServerID   string `json:"server_id"`
	ServerName string `json:"server_name,omitempty"`
	ProjectID  string `json:"project_id,omitempty"`
	// Watch names the watch entry that covers the server.
	Watch string `json:"watch"`
	// Status is Nova's status; VMState, TaskState and PowerState its
	// OS-EXT-STS attributes, absent when Nova did not say.
	Status     string  `json:"status"`
	VMState    *string `json:"vm_state,omitempty"`
	TaskState  *string `json:"task_state,omitempty"`
	PowerState *int    `json:"power_state,omitempty"`
	// Fault is Nova's fault object, when present.
	Fault *NovaFault `json:"fault,omitempty"`
	// Reason says why the server is faulty (raise) or why the episode
	// ended (clear: VMClearRecovered, VMClearDeleted, VMClearUnwatched).
	Reason string `json:"reason"`
	// FaultReason is the raise's reason, on a clear.
	FaultReason string `json:"fault_reason,omitempty"`
	// RaisedAt is the episode's start, on the raise and on its clear.
	RaisedAt time.Time `json:"raised_at"`
	// Cleared and ClearedAt are set on a clear.
	Cleared   bool      `json:"cleared,omitempty"`
	ClearedAt time.Time `json:"cleared_at,omitzero"`

	// SourceName, SourceID, AlarmID and SpecificProblem are the VES
	// fault's sourceName, sourceId, alarm identity and specificProblem.
	SourceName      string `json:"source_name,omitempty"`
	SourceID        string `json:"source_id"`
	AlarmID         string `json:"alarm_id"`
	SpecificProblem string `json:"specific_problem"`
}

// NovaFault is Nova's fault object of a server (present for ERROR and
// DELETED servers).
type NovaFault struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	// Created is Nova's timestamp, as Nova wrote it.
	Created string `json:"created,omitempty"`
}

// Maintenance states, in VMMaintenanceData.State.
const (
	MaintenanceScheduled = "scheduled"
	MaintenanceApproved  = "approved"
	MaintenanceStarted   = "started"
	MaintenanceCancelled = "cancelled"
	MaintenanceCompleted = "completed"
)

// VMMaintenanceData is the data of a VMMaintenance event.
type VMMaintenanceData struct {
	// Provider is azure, aws or gcp.
	Provider string `json:"provider"`
	// EventID is the provider's id of the maintenance event (Azure
	// EventId, AWS event id or instance-action, GCP's maintenance-event
	// value with its ETag); the event is keyed by it.
	EventID string `json:"event_id"`
	// State is scheduled, approved (Azure, once Sluice sent its
	// StartRequests), started, cancelled or completed.
	State string `json:"state"`
	// Kind is the provider's word for what happens: Azure EventType
	// (Freeze, Reboot, Redeploy, Preempt, Terminate), AWS code
	// (system-reboot, instance-stop, spot instance-action, rebalance) or
	// GCP's maintenance-event value.
	Kind string `json:"kind"`
	// Status is the provider's own status text (Azure EventStatus, AWS
	// state), as read.
	Status string `json:"status,omitempty"`
	// Resources are the VMs the provider names (Azure); this VM is one.
	Resources []string `json:"resources,omitempty"`
	// NotBefore is the earliest start the provider announced; NotAfter
	// its latest end, when known.
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// DurationSeconds is the expected impact, when the provider says.
	DurationSeconds int `json:"duration_seconds,omitempty"`
	// Description and Origin (Azure EventSource: Platform or User) are
	// the provider's.
	Description string `json:"description,omitempty"`
	Origin      string `json:"origin,omitempty"`
	// Approvable says the event can be approved (Azure, State scheduled)
	// with a VMMaintenanceApprove event.
	Approvable bool `json:"approvable,omitempty"`
	// VM is the name of the VM Sluice runs on (vm_name, default the host
	// name).
	VM string `json:"vm,omitempty"`
	// ResourceType is the provider's (Azure: VirtualMachine).
	ResourceType string `json:"resource_type,omitempty"`
	// DocumentIncarnation is Azure's document version the state was read
	// in.
	DocumentIncarnation int64 `json:"document_incarnation,omitempty"`
	// NotBeforeDeadline is AWS's deadline for starting the event.
	NotBeforeDeadline time.Time `json:"not_before_deadline,omitzero"`
	// NoticeTime is when AWS issued a rebalance recommendation.
	NoticeTime time.Time `json:"notice_time,omitzero"`
}

// VMMaintenanceApproveData is the data of a VMMaintenanceApprove event.
type VMMaintenanceApproveData struct {
	// EventID is the VMMaintenanceData.EventID to approve.
	EventID string `json:"event_id"`
	// Provider, when set, must be the event's provider.
	Provider string `json:"provider,omitempty"`
	// Reason is recorded in the source's log.
	Reason string `json:"reason,omitempty"`
}
