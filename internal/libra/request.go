package libra

import (
	"strings"
)

// Action is an hpcs_action value, upper-cased.
type Action string

// The actions of Libra's worker contract.
const (
	ActionUpdate      Action = "UPDATE"
	ActionSuspend     Action = "SUSPEND"
	ActionEnable      Action = "ENABLE"
	ActionDelete      Action = "DELETE"
	ActionDiscover    Action = "DISCOVER"
	ActionArchive     Action = "ARCHIVE"
	ActionStats       Action = "STATS"
	ActionMetrics     Action = "METRICS"
	ActionDiagnostics Action = "DIAGNOSTICS"
)

// Actions lists every action, in the order of Libra's controller.
var Actions = []Action{
	ActionUpdate, ActionSuspend, ActionEnable, ActionDelete, ActionDiscover,
	ActionArchive, ActionStats, ActionMetrics, ActionDiagnostics,
}

// ParseAction upper-cases s (Libra: `.upper()`) and reports whether it
// names an action.
func ParseAction(s string) (Action, bool) {
	a := Action(strings.ToUpper(s))
	for _, known := range Actions {
		if a == known {
			return a, true
		}
	}
	return a, false
}

// ChangesState reports whether a sink applies the action (UPDATE, SUSPEND,
// ENABLE, DELETE); the others are queries.
func (a Action) ChangesState() bool {
	switch a {
	case ActionUpdate, ActionSuspend, ActionEnable, ActionDelete:
		return true
	default:
		return false
	}
}

// Protocols, as lower-cased by Libra's driver.
const (
	ProtocolHTTP   = "http"
	ProtocolTCP    = "tcp"
	ProtocolGalera = "galera"
)

// Algorithms as they appear in messages.
const (
	AlgorithmRoundRobin       = "ROUND_ROBIN"
	AlgorithmLeastConnections = "LEAST_CONNECTIONS"
)

// Monitor types, lower-cased as by the driver.
const (
	MonitorConnect = "connect"
	MonitorHTTP    = "http"
)

// Request is a message that passed validation, normalized: the form the
// journal event carries and sinks apply.
type Request struct {
	// Action is the upper-cased hpcs_action.
	Action Action `json:"action"`
	// LoadBalancers are the normalized load balancers of UPDATE, with
	// every default filled in; for ARCHIVE only Protocol and ID of the first.
	LoadBalancers []LoadBalancer `json:"load_balancers,omitempty"`
	// Archive holds ARCHIVE's object store parameters, token masked.
	Archive *Archive `json:"archive,omitempty"`
}

// LoadBalancer is one entry of loadBalancers.
type LoadBalancer struct {
	// ID is the load balancer's id, required by ARCHIVE only; UPDATE
	// keeps it when given (sluice.lb.state events name it).
	ID string `json:"id,omitempty"`
	// Name is informational (Libra ignored it).
	Name string `json:"name,omitempty"`
	// Protocol is http, tcp or galera.
	Protocol string `json:"protocol"`
	// Port is the frontend port: http defaults to 80, tcp and galera
	// require one.
	Port int `json:"port"`
	// Algorithm is ROUND_ROBIN (default) or LEAST_CONNECTIONS.
	Algorithm string `json:"algorithm"`
	// Monitor is the health check; nil means Libra's default check
	// (connect every 30s, HAProxy's rise 2 fall 3).
	Monitor *Monitor `json:"monitor,omitempty"`
	// Options are the timeouts and retries, defaults filled in.
	Options Options `json:"options"`
	// Nodes are the servers, in message order.
	Nodes []Node `json:"nodes"`
}

// Monitor is a load balancer's health check.
type Monitor struct {
	// Type is connect or http.
	Type string `json:"type"`
	// Delay is the check interval in seconds.
	Delay int `json:"delay"`
	// Timeout is the check timeout in seconds, at most Delay.
	Timeout int `json:"timeout"`
	// Attempts is both rise and fall, as in Libra.
	Attempts int `json:"attempts"`
	// Path is the http check's path, with a leading "/".
	Path string `json:"path"`
}

// Options are a load balancer's timeouts (milliseconds) and retries.
type Options struct {
	ClientTimeout  int `json:"client_timeout"`
	ServerTimeout  int `json:"server_timeout"`
	ConnectTimeout int `json:"connect_timeout"`
	ConnectRetries int `json:"connect_retries"`
}

// DefaultOptions are Libra's defaults: 30000 ms each, 3 retries.
func DefaultOptions() Options {
	return Options{ClientTimeout: 30000, ServerTimeout: 30000, ConnectTimeout: 30000, ConnectRetries: 3}
}

// Node is one server of a load balancer.
type Node struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Port    int    `json:"port"`
	Weight  int    `json:"weight"`
	Backup  bool   `json:"backup"`
}

// Archive holds ARCHIVE's parameters. The token is never kept.
type Archive struct {
	Type     string `json:"type"`
	BasePath string `json:"basepath"`
	Endpoint string `json:"endpoint"`
}

// Decoded is a message that passed validation: the normalized request and
// the message itself, token masked, with the fields validation added
// (node conditions, a monitor's default path), ready for PassReply or
// FailReply.
type Decoded struct {
	Request Request
	// Message is the masked request as received, with Libra's additions.
	Message *Value
	// Received is the masked request as received, without additions,
	// encoded: what the journal stores.
	Received []byte
}

// Decode parses and validates one Libra message (a JSON object) against
// the worker contract. It returns the decoded request, or the refusal to
// send: badRequest for the controller's validation faults, FAIL for
// everything else (malformed JSON, a missing or unknown hpcs_action, the
// driver's rules). It never panics, whatever data holds. data is copied
// once: the decoded strings share that copy, none refers to data.
func Decode(data []byte) (*Decoded, *Refusal) {
	root, err := parseValue(data)
	if err != nil {
		return nil, &Refusal{Kind: KindFail, Reason: err.Error(), Reply: FailReply(nil, err.Error())}
	}
	if !root.IsObject() {
		reason := "message is not a JSON object"
		return nil, &Refusal{Kind: KindFail, Reason: reason, Reply: FailReply(nil, reason)}
	}
	Mask(root)
	received := root.Marshal() // before validation adds to root
	actionVal, ok := root.Get(FieldAction)
	if !ok {
		// Libra: the message plus FAIL, no error text.
		return nil, &Refusal{Kind: KindFail, Reply: FailReply(root, "")}
	}
	if !actionVal.IsString() {
		reason := "invalid 'hpcs_action' value: " + actionVal.Literal()
		return nil, &Refusal{Kind: KindFail, Reason: reason, Reply: FailReply(root, reason)}
	}
	action, ok := ParseAction(actionVal.Str())
	if !ok {
		reason := "invalid 'hpcs_action' value: " + string(action)
		return nil, &Refusal{Kind: KindFail, Reason: reason, Reply: FailReply(root, reason)}
	}
	d := &Decoded{Request: Request{Action: action}, Message: root, Received: received}
	var ref *Refusal
	switch action {
	case ActionUpdate:
		d.Request.LoadBalancers, ref = validateUpdate(root)
	case ActionArchive:
		d.Request.Archive, d.Request.LoadBalancers, ref = validateArchive(root)
	}
	if ref != nil {
		return nil, ref
	}
	return d, nil
}
