package libra

import (
	"encoding/json"
	"fmt"

	"github.com/sluice-dev/sluice/internal/eventtypes"
)

// Event types (internal/eventtypes lists them). The lbworker source emits
// EventRequest for every accepted request; the haproxy sink applies them.
const (
	EventRequest = eventtypes.LBRequest
	// EventState is the type of load-balancer state changes.
	EventState = eventtypes.LBState
)

// Transports as recorded in RequestEvent.Transport.
const (
	TransportGearman = eventtypes.LBTransportGearman
	TransportHTTP    = eventtypes.LBTransportHTTP
)

// RequestEvent is the data of a sluice.lb.request event: the audit record
// of what was asked, by whom, over which transport. It is
// eventtypes.LBRequestData with the load balancers and archive typed. It never holds
// hpcs_object_store_token: Message is masked before it is built.
type RequestEvent struct {
	// Action is the upper-cased hpcs_action.
	Action Action `json:"action"`
	// RequestID identifies the request: the Gearman job's unique id, the
	// HTTP Idempotency-Key, or a fresh id.
	RequestID string `json:"request_id"`
	// Transport is gearman or http.
	Transport string `json:"transport"`
	// Client is who sent it: the Gearman server (host:port) and function,
	// or the HTTP peer address.
	Client string `json:"client"`
	// LoadBalancers are the normalized load balancers (UPDATE, ARCHIVE).
	LoadBalancers []LoadBalancer `json:"load_balancers,omitempty"`
	// Archive holds ARCHIVE's parameters, without the token.
	Archive *Archive `json:"archive,omitempty"`
	// Message is the request as received, token masked.
	Message json.RawMessage `json:"message"`
}

// NewRequestEvent builds the event data for d.
func NewRequestEvent(d *Decoded, requestID, transport, client string) RequestEvent {
	return RequestEvent{
		Action:        d.Request.Action,
		RequestID:     requestID,
		Transport:     transport,
		Client:        client,
		LoadBalancers: d.Request.LoadBalancers,
		Archive:       d.Request.Archive,
		Message:       d.Received,
	}
}

// ParseRequestEvent decodes the data of a sluice.lb.request event.
func ParseRequestEvent(data []byte) (RequestEvent, error) {
	var ev RequestEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return ev, fmt.Errorf("decode %s event: %w", EventRequest, err)
	}
	if _, ok := ParseAction(string(ev.Action)); !ok {
		return ev, fmt.Errorf("decode %s event: unknown action %q", EventRequest, ev.Action)
	}
	return ev, nil
}
