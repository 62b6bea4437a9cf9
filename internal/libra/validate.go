package libra

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// maxWeight is the largest weight Libra's driver (and HAProxy) accepts.
const maxWeight = 256

// refuser builds refusals that echo one message.
type refuser struct{ root *Value }

func (r refuser) bad(text string) *Refusal {
	return &Refusal{Kind: KindBadRequest, Reason: text, Reply: BadRequest(text)}
}

func (r refuser) fail(format string, args ...any) *Refusal {
	reason := fmt.Sprintf(format, args...)
	return &Refusal{Kind: KindFail, Reason: reason, Reply: FailReply(r.root, reason)}
}

// present returns member key of obj unless it is absent or null: Sluice
// treats a null field as missing (Libra would have crashed on it later).
func present(obj *Value, key string) (*Value, bool) {
	v, ok := obj.Get(key)
	if !ok || v.IsNull() {
		return nil, false
	}
	return v, true
}

// validateUpdate applies the controller's and the driver's UPDATE rules in
// Libra's order, so the first problem found is the one Libra reported. It
// adds each node's condition (and a monitor's default path) to root.
func validateUpdate(root *Value) ([]LoadBalancer, *Refusal) {
	r := refuser{root: root}
	lbsVal, ok := present(root, FieldLBs)
	if !ok {
		return nil, r.bad("Missing 'loadBalancers' element")
	}
	if !lbsVal.IsArray() {
		return nil, r.fail("'loadBalancers' must be a list")
	}
	lbs := make([]LoadBalancer, 0, len(lbsVal.Items()))
	protocols := map[string]bool{}
	ports := map[int]string{}
	for i, lbVal := range lbsVal.Items() {
		if !lbVal.IsObject() {
			return nil, r.fail("loadBalancers[%d] must be an object", i)
		}
		lb, ref := validateLB(r, lbVal, protocols, ports)
		if ref != nil {
			return nil, ref
		}
		lbs = append(lbs, lb)
	}
	return lbs, nil
}

func validateLB(r refuser, lbVal *Value, protocols map[string]bool, ports map[int]string) (LoadBalancer, *Refusal) {
	var lb LoadBalancer
	nodesVal, ok := present(lbVal, "nodes")
	if !ok {
		return lb, r.bad("Missing 'nodes' element")
	}
	protoVal, ok := present(lbVal, "protocol")
	if !ok {
		return lb, r.bad("Missing required 'protocol' value.")
	}
	if ref := addProtocol(r, &lb, lbVal, protoVal, protocols, ports); ref != nil {
		return lb, ref
	}
	lb.Name = optionalString(lbVal, "name")
	lb.ID = optionalString(lbVal, "id") // informational, as name; the state events carry it
	lb.Algorithm = AlgorithmRoundRobin
	if algoVal, ok := present(lbVal, "algorithm"); ok {
		algo := strings.ToUpper(algoVal.Str())
		if !algoVal.IsString() || (algo != AlgorithmRoundRobin && algo != AlgorithmLeastConnections) {
			return lb, r.fail("Invalid algorithm: %s", algoVal.Literal())
		}
		lb.Algorithm = algo
	}
	if monVal, ok := present(lbVal, "monitor"); ok {
		mon, ref := validateMonitor(r, monVal)
		if ref != nil {
			return lb, ref
		}
		lb.Monitor = mon
	}
	opts, ref := validateOptions(r, lbVal)
	if ref != nil {
		return lb, ref
	}
	lb.Options = opts
	if !nodesVal.IsArray() {
		return lb, r.fail("'nodes' must be a list")
	}
	primaries := 0
	ids := map[string]bool{}
	for j, nodeVal := range nodesVal.Items() {
		if !nodeVal.IsObject() {
			return lb, r.fail("nodes[%d] must be an object", j)
		}
		node, ref := validateNode(r, lb.Protocol, nodeVal, ids, &primaries)
		if ref != nil {
			return lb, ref
		}
		nodeVal.Set("condition", String(NodeEnabled))
		lb.Nodes = append(lb.Nodes, node)
	}
	return lb, nil
}

// addProtocol is the driver's add_protocol plus Sluice's port checks.
func addProtocol(r refuser, lb *LoadBalancer, lbVal, protoVal *Value, protocols map[string]bool, ports map[int]string) *Refusal {
	proto := strings.ToLower(protoVal.Str())
	switch {
	case !protoVal.IsString():
		return r.fail("Unsupported protocol: %s", protoVal.Literal())
	case proto != ProtocolHTTP && proto != ProtocolTCP && proto != ProtocolGalera:
		return r.fail("Unsupported protocol: %s", proto)
	case protocols[proto]:
		return r.fail("Protocol '%s' is already defined.", proto)
	}
	protocols[proto] = true
	lb.Protocol = proto
	portVal, ok := present(lbVal, "port")
	switch {
	case !ok && proto == ProtocolHTTP:
		lb.Port = 80
	case !ok:
		return r.fail("Port is required for this protocol.")
	default:
		port, ok := intValue(portVal)
		if !ok || port < 1 || port > 65535 {
			return r.fail("Invalid port for protocol %s: %s", proto, portVal.Literal())
		}
		lb.Port = port
	}
	if other, used := ports[lb.Port]; used {
		return r.fail("Port %d is already used by protocol %s.", lb.Port, other)
	}
	ports[lb.Port] = proto
	return nil
}

func validateMonitor(r refuser, monVal *Value) (*Monitor, *Refusal) {
	if !monVal.IsObject() {
		return nil, r.fail("'monitor' must be an object")
	}
	for _, opt := range []string{"type", "delay", "timeout", "attempts"} {
		if _, ok := present(monVal, opt); !ok {
			return nil, r.bad(fmt.Sprintf("Missing monitor value '%s'", opt))
		}
	}
	if _, ok := present(monVal, "path"); !ok {
		monVal.Set("path", String("/")) // Libra wrote the default into the message
	}
	typeVal, _ := monVal.Get("type")
	mon := &Monitor{Type: strings.ToLower(typeVal.Str())}
	if !typeVal.IsString() || (mon.Type != MonitorConnect && mon.Type != MonitorHTTP) {
		return nil, r.fail("Invalid monitor type: %s", typeVal.Literal())
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"delay", &mon.Delay}, {"timeout", &mon.Timeout}, {"attempts", &mon.Attempts}} {
		v, _ := monVal.Get(f.name)
		n, ok := intValue(v)
		if !ok || n < 1 {
			return nil, r.fail("Invalid monitor %s: %s (a positive integer is required)", f.name, v.Literal())
		}
		*f.dst = n
	}
	if mon.Timeout > mon.Delay {
		return nil, r.fail("Monitor timeout (%d) cannot be greater than delay (%d).", mon.Timeout, mon.Delay)
	}
	pathVal, _ := monVal.Get("path")
	mon.Path = pathVal.Str()
	if !pathVal.IsString() || !validPath(mon.Path) {
		return nil, r.fail("Invalid monitor path: %s", pathVal.Literal())
	}
	if !strings.HasPrefix(mon.Path, "/") {
		mon.Path = "/" + mon.Path
	}
	return mon, nil
}

func validateOptions(r refuser, lbVal *Value) (Options, *Refusal) {
	opts := DefaultOptions()
	optVal, ok := present(lbVal, "options")
	if !ok {
		return opts, nil
	}
	if !optVal.IsObject() {
		return opts, r.fail("'options' must be an object")
	}
	for _, f := range []struct {
		name string
		dst  *int
		min  int
	}{
		{"client_timeout", &opts.ClientTimeout, 1},
		{"server_timeout", &opts.ServerTimeout, 1},
		{"connect_timeout", &opts.ConnectTimeout, 1},
		{"connect_retries", &opts.ConnectRetries, 0},
	} {
		v, ok := present(optVal, f.name)
		if !ok {
			continue
		}
		n, ok := intValue(v)
		if !ok || n < f.min {
			return opts, r.fail("Invalid option %s: %s (an integer of at least %d is required)", f.name, v.Literal(), f.min)
		}
		*f.dst = n
	}
	return opts, nil
}

func validateNode(r refuser, proto string, nodeVal *Value, ids map[string]bool, primaries *int) (Node, *Refusal) {
	var node Node
	portVal, ok := present(nodeVal, "port")
	if !ok {
		return node, r.bad("Missing node 'port'")
	}
	addrVal, ok := present(nodeVal, "address")
	if !ok {
		return node, r.bad("Missing node 'address'")
	}
	idVal, ok := present(nodeVal, "id")
	if !ok || (idVal.IsString() && idVal.Str() == "") {
		return node, r.bad("Missing node 'id'")
	}
	node.ID = idVal.Literal()
	failNode := func(format string, args ...any) *Refusal {
		nodeVal.Set("condition", String(NodeDisabled))
		return r.fail("Failure adding server %s: %s", node.ID, fmt.Sprintf(format, args...))
	}
	if (!idVal.IsString() && !isInteger(idVal)) || !validID(node.ID) {
		return node, failNode("node id must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if ids[node.ID] {
		return node, failNode("node id is already used in this load balancer")
	}
	ids[node.ID] = true
	node.Address = addrVal.Str()
	if !addrVal.IsString() || !validAddress(node.Address) {
		return node, failNode("invalid address %s", addrVal.Literal())
	}
	port, ok := intValue(portVal)
	if !ok || port < 1 || port > 65535 {
		return node, failNode("invalid port %s", portVal.Literal())
	}
	node.Port = port
	node.Weight = 1
	if wVal, ok := present(nodeVal, "weight"); ok {
		w, ok := intValue(wVal)
		if !ok || w < 0 || w > maxWeight {
			return node, failNode("weight must be an integer from 0 to %d, got %s", maxWeight, wVal.Literal())
		}
		node.Weight = w
	}
	if bVal, ok := present(nodeVal, "backup"); ok {
		switch {
		case bVal.IsBool():
			node.Backup = bVal.Bool()
		case bVal.IsString():
			node.Backup = strings.EqualFold(bVal.Str(), "true")
		default:
			return node, failNode("backup must be \"true\" or \"false\", got %s", bVal.Literal())
		}
	}
	if proto == ProtocolGalera && !node.Backup {
		*primaries++
		if *primaries > 1 {
			return node, failNode("galera allows only one non-backup node")
		}
	}
	return node, nil
}

// validateArchive applies the controller's ARCHIVE rules.
func validateArchive(root *Value) (*Archive, []LoadBalancer, *Refusal) {
	r := refuser{root: root}
	typeVal, ok := present(root, "hpcs_object_store_type")
	if !ok {
		return nil, nil, r.bad("Missing 'hpcs_object_store_type' element")
	}
	if !typeVal.IsString() {
		return nil, nil, r.fail("invalid 'hpcs_object_store_type' value: %s", typeVal.Literal())
	}
	method := strings.ToLower(typeVal.Str())
	if method != "swift" {
		return nil, nil, r.bad(fmt.Sprintf("'%s' is not a valid store type", method))
	}
	for _, f := range []string{"hpcs_object_store_basepath", "hpcs_object_store_endpoint", FieldToken, FieldLBs} {
		if _, ok := present(root, f); !ok {
			return nil, nil, r.bad(fmt.Sprintf("Missing '%s' element", f))
		}
	}
	arch := &Archive{Type: method, BasePath: optionalString(root, "hpcs_object_store_basepath"), Endpoint: optionalString(root, "hpcs_object_store_endpoint")}
	lbsVal, _ := root.Get(FieldLBs)
	items := lbsVal.Items()
	if len(items) == 0 || !items[0].IsObject() {
		return nil, nil, r.fail("'loadBalancers' must hold at least one load balancer")
	}
	protoVal, ok := present(items[0], "protocol")
	if !ok || !protoVal.IsString() {
		return nil, nil, r.fail("loadBalancers[0] needs a 'protocol'")
	}
	idVal, ok := present(items[0], "id")
	if !ok {
		return nil, nil, r.fail("loadBalancers[0] needs an 'id'")
	}
	return arch, []LoadBalancer{{ID: idVal.Literal(), Protocol: strings.ToLower(protoVal.Str())}}, nil
}

func optionalString(obj *Value, key string) string {
	v, _ := obj.Get(key)
	return v.Str()
}

// intValue reads an integer given as a JSON integer or as a string of
// decimal digits (Python's int() of what Libra's messages carried).
// Fractions, exponents and anything else are refused.
func intValue(v *Value) (int, bool) {
	if v == nil || (v.kind != kindNumber && v.kind != kindString) {
		return 0, false
	}
	s := strings.TrimSpace(v.text)
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

func isInteger(v *Value) bool {
	_, ok := intValue(v)
	return ok && v.kind == kindNumber
}

// validID allows what can follow "id-" in an HAProxy server name without
// breaking Libra's STATS parsing or injecting configuration.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// validAddress accepts an IP address or a DNS name.
func validAddress(a string) bool {
	if _, err := netip.ParseAddr(a); err == nil {
		return !strings.Contains(a, "%") // zones cannot be written to a config
	}
	if a == "" || len(a) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(a, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// validPath accepts a URL path of printable ASCII without spaces, so the
// check line cannot gain a method or a version (Libra passed "GET /a b").
func validPath(p string) bool {
	if p == "" || len(p) > 1024 {
		return false
	}
	for _, c := range p {
		if c <= ' ' || c > '~' || c == '#' {
			return false
		}
	}
	return true
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
