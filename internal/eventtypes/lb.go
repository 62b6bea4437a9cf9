package eventtypes

import (
	"encoding/json"
	"time"
)

// Event types of the load-balancer worker (lbworker source, haproxy sink).
const (
	// LBRequest is a load-balancer request (Libra's UPDATE, SUSPEND,
	// ENABLE, DELETE, DISCOVER, ARCHIVE, STATS, METRICS, DIAGNOSTICS),
	// appended before anything is answered: the audit record of what was
	// asked, by whom, over which transport.
	LBRequest = "sluice.lb.request"
	// LBState reports that a load balancer changed state; the VES sink
	// sends it as a stateChange.
	LBState = "sluice.lb.state"
)

// Transports, in LBRequestData.Transport.
const (
	LBTransportGearman = "gearman"
	LBTransportHTTP    = "http"
)

// LBRequestData is the data of an LBRequest event. Its load_balancers and
// archive members have the types of the Libra message contract, defined
// in package internal/libra (LoadBalancer, Archive; libra.RequestEvent is
// this shape with them typed, and ParseRequestEvent decodes it); they are
// kept raw here, for code that routes or audits requests without applying
// them. ARCHIVE's object store token is never stored.
type LBRequestData struct {
	// Action is the upper-cased hpcs_action.
	Action string `json:"action"`
	// RequestID identifies the request: the Gearman job's unique id, the
	// HTTP Idempotency-Key, or a fresh id.
	RequestID string `json:"request_id"`
	// Transport is gearman or http.
	Transport string `json:"transport"`
	// Client is who sent it: the Gearman server (host:port) and function,
	// or the HTTP peer address.
	Client string `json:"client"`
	// LoadBalancers are the normalized load balancers (UPDATE, ARCHIVE).
	LoadBalancers json.RawMessage `json:"load_balancers,omitempty"`
	// Archive holds ARCHIVE's parameters, without the token.
	Archive json.RawMessage `json:"archive,omitempty"`
	// Message is the request as received, token masked.
	Message json.RawMessage `json:"message"`
}

// Load-balancer states, in LBStateData.From and To (Libra's statuses).
const (
	LBActive    = "ACTIVE"
	LBSuspended = "SUSPENDED"
	LBDeleted   = "DELETED"
	LBError     = "ERROR"
)

// LBStateData is the data of an LBState event.
type LBStateData struct {
	// LoadBalancer is the load balancer's id; Name, Protocol and Port
	// describe it when known.
	LoadBalancer string `json:"load_balancer"`
	Name         string `json:"name,omitempty"`
	Protocol     string `json:"protocol,omitempty"`
	Port         int    `json:"port,omitempty"`
	// From and To are the transition (From is absent for a new one).
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	// Reason says why, e.g. HAProxy's error for ERROR.
	Reason string `json:"reason,omitempty"`
	// Action and RequestID name the LBRequest that led to it.
	Action    string `json:"action,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// At is when the change took effect.
	At time.Time `json:"at"`
}
