package k8ssink

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The API objects the sink writes and reads, with just the fields it
// uses and the JSON names of k8s.io/api. The sink does not import
// k8s.io/api: core/v1 alone adds about 2 MB of code and tables to the
// binary, most of it resident from start (docs/benchmarks.md).

// Event types (events.k8s.io/v1 type).
const (
	eventNormal  = "Normal"
	eventWarning = "Warning"
)

// Condition statuses (core/v1 ConditionStatus).
const (
	conditionTrue    = "True"
	conditionFalse   = "False"
	conditionUnknown = "Unknown"
)

// objectReference is core/v1 ObjectReference: what an Event is about.
type objectReference struct {
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// eventObject is an events.k8s.io/v1 Event.
type eventObject struct {
	metav1.TypeMeta     `json:",inline"`
	metav1.ObjectMeta   `json:"metadata"`
	EventTime           metav1.MicroTime `json:"eventTime"`
	Series              *eventSeries     `json:"series,omitempty"`
	ReportingController string           `json:"reportingController"`
	ReportingInstance   string           `json:"reportingInstance"`
	Action              string           `json:"action"`
	Reason              string           `json:"reason"`
	Regarding           objectReference  `json:"regarding"`
	Note                string           `json:"note,omitempty"`
	Type                string           `json:"type"`
}

// eventSeries is events.k8s.io/v1 EventSeries.
type eventSeries struct {
	Count            int32            `json:"count"`
	LastObservedTime metav1.MicroTime `json:"lastObservedTime"`
}

// nodeObject is a core/v1 Node, as far as its conditions.
type nodeObject struct {
	Status struct {
		Conditions []nodeCondition `json:"conditions,omitempty"`
	} `json:"status"`
}

// nodeCondition is core/v1 NodeCondition.
type nodeCondition struct {
	Type               string      `json:"type"`
	Status             string      `json:"status"`
	LastHeartbeatTime  metav1.Time `json:"lastHeartbeatTime"`
	LastTransitionTime metav1.Time `json:"lastTransitionTime"`
	Reason             string      `json:"reason,omitempty"`
	Message            string      `json:"message,omitempty"`
}

// scaleObject is autoscaling/v1 Scale. Status and the rest of the
// metadata come back as read, so that an update carries the version
// read (a conflict then means another writer came between).
type scaleObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Replicas int32 `json:"replicas"`
	} `json:"spec"`
	Status map[string]any `json:"status,omitempty"`
}
