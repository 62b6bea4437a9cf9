package libra_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/internal/libra"
)

// reply is what the worker sends for msg when the request is accepted
// and durable: PASS, or the refusal.
func reply(msg string) string {
	d, ref := libra.Decode([]byte(msg))
	if ref != nil {
		return string(ref.Reply)
	}
	return string(libra.PassReply(d.Message))
}

func bad(text string) string {
	return `{"badRequest":{"code":"400","message":"Validation fault","details":"The object is not valid","validationErrors":{"message":"` + text + `"}}}`
}

const (
	node1   = `{"id":"1","address":"10.0.0.1","port":"80"}`
	node1OK = `{"id":"1","address":"10.0.0.1","port":"80","condition":"ENABLED"}`
)

func TestDecodeReplies(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		// PROTOCOLS.md §4.4, the example UPDATE and its reply.
		{"reference example", `{"hpcs_action":"update","loadBalancers":[{"name":"web","protocol":"HTTP","algorithm":"LEAST_CONNECTIONS","nodes":[{"id":"101","address":"10.0.0.5","port":"8080","weight":"2","backup":"FALSE"}],"monitor":{"type":"HTTP","delay":"30","timeout":"30","attempts":"2","path":"healthz"}}]}`,
			`{"hpcs_action":"update","loadBalancers":[{"name":"web","protocol":"HTTP","algorithm":"LEAST_CONNECTIONS","nodes":[{"id":"101","address":"10.0.0.5","port":"8080","weight":"2","backup":"FALSE","condition":"ENABLED"}],"monitor":{"type":"HTTP","delay":"30","timeout":"30","attempts":"2","path":"healthz"}}],"hpcs_response":"PASS"}`},
		// §4.2 common rules.
		{"missing action", `{"loadBalancers":[]}`, `{"loadBalancers":[],"hpcs_response":"FAIL"}`},
		{"unknown action", `{"hpcs_action":"reboot"}`, `{"hpcs_action":"reboot","hpcs_error":"invalid 'hpcs_action' value: REBOOT","hpcs_response":"FAIL"}`},
		{"non-string action", `{"hpcs_action":7}`, `{"hpcs_action":7,"hpcs_error":"invalid 'hpcs_action' value: 7","hpcs_response":"FAIL"}`},
		{"action case-insensitive", `{"hpcs_action":"sUsPeNd"}`, `{"hpcs_action":"sUsPeNd","hpcs_response":"PASS"}`},
		{"field names case-sensitive", `{"hpcs_action":"UPDATE","LoAdBaLaNcErS":[{"protocol":"http","nodes":[` + node1 + `]}]}`, bad("Missing 'loadBalancers' element")},
		{"extraneous fields echoed in order", `{"z":1,"hpcs_action":"ENABLE","a":{"b":[true,null,1.5e3]}}`, `{"z":1,"hpcs_action":"ENABLE","a":{"b":[true,null,1.5e3]},"hpcs_response":"PASS"}`},
		{"hpcs_response replaced in place", `{"hpcs_response":"x","hpcs_action":"DELETE"}`, `{"hpcs_response":"PASS","hpcs_action":"DELETE"}`},
		{"malformed JSON", `{"hpcs_action":`, `{"hpcs_error":"malformed JSON: unexpected end of input","hpcs_response":"FAIL"}`},
		{"not an object", `["hpcs_action"]`, `{"hpcs_error":"message is not a JSON object","hpcs_response":"FAIL"}`},
		{"trailing data", `{"hpcs_action":"STATS"} {}`, `{"hpcs_error":"malformed JSON: data after the top-level value","hpcs_response":"FAIL"}`},
		{"no HTML escaping", `{"hpcs_action":"ENABLE","note":"<a&b>"}`, `{"hpcs_action":"ENABLE","note":"<a&b>","hpcs_response":"PASS"}`},
		{"duplicate key keeps first position, last value", `{"a":1,"hpcs_action":"ENABLE","a":2}`, `{"a":2,"hpcs_action":"ENABLE","hpcs_response":"PASS"}`},
		// §4.3 UPDATE badRequest texts, in the controller's order.
		{"missing loadBalancers", `{"hpcs_action":"UPDATE"}`, bad("Missing 'loadBalancers' element")},
		{"null loadBalancers", `{"hpcs_action":"UPDATE","loadBalancers":null}`, bad("Missing 'loadBalancers' element")},
		{"missing nodes", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http"}]}`, bad("Missing 'nodes' element")},
		{"nodes before protocol", `{"hpcs_action":"UPDATE","loadBalancers":[{}]}`, bad("Missing 'nodes' element")},
		{"missing protocol", `{"hpcs_action":"UPDATE","loadBalancers":[{"nodes":[]}]}`, bad("Missing required 'protocol' value.")},
		{"missing node port", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"id":"1","address":"10.0.0.1"}]}]}`, bad("Missing node 'port'")},
		{"missing node address", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"id":"1","port":"80"}]}]}`, bad("Missing node 'address'")},
		{"missing node id", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"address":"10.0.0.1","port":80}]}]}`, bad("Missing node 'id'")},
		{"empty node id", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"id":"","address":"10.0.0.1","port":80}]}]}`, bad("Missing node 'id'")},
		{"missing monitor type", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"delay":5,"timeout":3,"attempts":2}}]}`, bad("Missing monitor value 'type'")},
		{"missing monitor delay", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"connect","timeout":3,"attempts":2}}]}`, bad("Missing monitor value 'delay'")},
		{"missing monitor timeout", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"connect","delay":5,"attempts":2}}]}`, bad("Missing monitor value 'timeout'")},
		{"missing monitor attempts", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"connect","delay":5,"timeout":3}}]}`, bad("Missing monitor value 'attempts'")},
		{"second LB checked after first", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[` + node1 + `]},{"protocol":"tcp","port":443}]}`, bad("Missing 'nodes' element")},
		// UPDATE FAILs (driver rules).
		{"bad algorithm", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","algorithm":"random","nodes":[]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","algorithm":"random","nodes":[]}],"hpcs_error":"Invalid algorithm: random","hpcs_response":"FAIL"}`},
		{"unsupported protocol", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"UDP","port":53,"nodes":[]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"UDP","port":53,"nodes":[]}],"hpcs_error":"Unsupported protocol: udp","hpcs_response":"FAIL"}`},
		{"repeated protocol", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[]},{"protocol":"HTTP","port":81,"nodes":[]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[]},{"protocol":"HTTP","port":81,"nodes":[]}],"hpcs_error":"Protocol 'http' is already defined.","hpcs_response":"FAIL"}`},
		{"tcp needs a port", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"tcp","nodes":[]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"tcp","nodes":[]}],"hpcs_error":"Port is required for this protocol.","hpcs_response":"FAIL"}`},
		{"galera needs a port", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"galera","nodes":[]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"galera","nodes":[]}],"hpcs_error":"Port is required for this protocol.","hpcs_response":"FAIL"}`},
		{"port reused", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[]},{"protocol":"tcp","port":"80","nodes":[]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[]},{"protocol":"tcp","port":"80","nodes":[]}],"hpcs_error":"Port 80 is already used by protocol http.","hpcs_response":"FAIL"}`},
		{"port not a number", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"tcp","port":"443\nbind :1","nodes":[]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"tcp","port":"443\nbind :1","nodes":[]}],"hpcs_error":"Invalid port for protocol tcp: 443\nbind :1","hpcs_response":"FAIL"}`},
		{"monitor timeout above delay", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"connect","delay":"5","timeout":"6","attempts":"2"}}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"connect","delay":"5","timeout":"6","attempts":"2","path":"/"}}],"hpcs_error":"Monitor timeout (6) cannot be greater than delay (5).","hpcs_response":"FAIL"}`},
		{"monitor type", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"ping","delay":"5","timeout":"3","attempts":"2","path":"/"}}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"ping","delay":"5","timeout":"3","attempts":"2","path":"/"}}],"hpcs_error":"Invalid monitor type: ping","hpcs_response":"FAIL"}`},
		{"monitor path with space", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"http","delay":5,"timeout":3,"attempts":2,"path":"/a b"}}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"http","delay":5,"timeout":3,"attempts":2,"path":"/a b"}}],"hpcs_error":"Invalid monitor path: /a b","hpcs_response":"FAIL"}`},
		{"monitor delay fraction", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"http","delay":5.5,"timeout":3,"attempts":2}}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"monitor":{"type":"http","delay":5.5,"timeout":3,"attempts":2,"path":"/"}}],"hpcs_error":"Invalid monitor delay: 5.5 (a positive integer is required)","hpcs_response":"FAIL"}`},
		{"option with unit", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"options":{"client_timeout":"30s"}}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[],"options":{"client_timeout":"30s"}}],"hpcs_error":"Invalid option client_timeout: 30s (an integer of at least 1 is required)","hpcs_response":"FAIL"}`},
		{"weight above 256, earlier node stays ENABLED", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[` + node1 + `,{"id":"2","address":"10.0.0.2","port":"80","weight":"300"}]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[` + node1OK + `,{"id":"2","address":"10.0.0.2","port":"80","weight":"300","condition":"DISABLED"}]}],"hpcs_error":"Failure adding server 2: weight must be an integer from 0 to 256, got 300","hpcs_response":"FAIL"}`},
		{"negative weight", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"id":7,"address":"10.0.0.2","port":80,"weight":-1}]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"id":7,"address":"10.0.0.2","port":80,"weight":-1,"condition":"DISABLED"}]}],"hpcs_error":"Failure adding server 7: weight must be an integer from 0 to 256, got -1","hpcs_response":"FAIL"}`},
		{"galera single writer", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"galera","port":3306,"nodes":[{"id":"a","address":"10.0.0.1","port":3306},{"id":"b","address":"10.0.0.2","port":3306}]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"galera","port":3306,"nodes":[{"id":"a","address":"10.0.0.1","port":3306,"condition":"ENABLED"},{"id":"b","address":"10.0.0.2","port":3306,"condition":"DISABLED"}]}],"hpcs_error":"Failure adding server b: galera allows only one non-backup node","hpcs_response":"FAIL"}`},
		{"node id injection", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"id":"1 check\nserver x","address":"10.0.0.1","port":80}]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"id":"1 check\nserver x","address":"10.0.0.1","port":80,"condition":"DISABLED"}]}],"hpcs_error":"Failure adding server 1 check\nserver x: node id must be 1 to 64 letters, digits, '.', '_' or '-'","hpcs_response":"FAIL"}`},
		{"bad address", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"id":"1","address":"10.0.0.1:99","port":80}]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[{"id":"1","address":"10.0.0.1:99","port":80,"condition":"DISABLED"}]}],"hpcs_error":"Failure adding server 1: invalid address 10.0.0.1:99","hpcs_response":"FAIL"}`},
		{"duplicate node id", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[` + node1 + `,` + node1 + `]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[` + node1OK + `,{"id":"1","address":"10.0.0.1","port":"80","condition":"DISABLED"}]}],"hpcs_error":"Failure adding server 1: node id is already used in this load balancer","hpcs_response":"FAIL"}`},
		{"loadBalancers not a list", `{"hpcs_action":"UPDATE","loadBalancers":{"protocol":"http"}}`,
			`{"hpcs_action":"UPDATE","loadBalancers":{"protocol":"http"},"hpcs_error":"'loadBalancers' must be a list","hpcs_response":"FAIL"}`},
		// UPDATE PASS with Libra's additions.
		{"monitor default path written", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"tcp","port":443,"nodes":[` + node1 + `],"monitor":{"type":"CONNECT","delay":30,"timeout":30,"attempts":2}}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"tcp","port":443,"nodes":[` + node1OK + `],"monitor":{"type":"CONNECT","delay":30,"timeout":30,"attempts":2,"path":"/"}}],"hpcs_response":"PASS"}`},
		{"tcp and galera together", `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"tcp","port":443,"nodes":[]},{"protocol":"galera","port":3306,"nodes":[]}]}`,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"tcp","port":443,"nodes":[]},{"protocol":"galera","port":3306,"nodes":[]}],"hpcs_response":"PASS"}`},
		{"no load balancers", `{"hpcs_action":"UPDATE","loadBalancers":[]}`, `{"hpcs_action":"UPDATE","loadBalancers":[],"hpcs_response":"PASS"}`},
		// ARCHIVE.
		{"archive missing type", `{"hpcs_action":"ARCHIVE"}`, bad("Missing 'hpcs_object_store_type' element")},
		{"archive bad type", `{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"FTP"}`, bad("'ftp' is not a valid store type")},
		{"archive missing basepath", `{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"Swift"}`, bad("Missing 'hpcs_object_store_basepath' element")},
		{"archive missing endpoint", `{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"lbaaslogs"}`, bad("Missing 'hpcs_object_store_endpoint' element")},
		{"archive missing token", `{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"https://s/v1"}`, bad("Missing 'hpcs_object_store_token' element")},
		{"archive missing loadBalancers", `{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"secret"}`, bad("Missing 'loadBalancers' element")},
		{"archive missing id is FAIL, token masked", `{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"secret","loadBalancers":[{"protocol":"http"}]}`,
			`{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"*****","loadBalancers":[{"protocol":"http"}],"hpcs_error":"loadBalancers[0] needs an 'id'","hpcs_response":"FAIL"}`},
		{"archive accepted, token masked", `{"hpcs_action":"archive","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"secret","loadBalancers":[{"protocol":"http","id":"15"}]}`,
			`{"hpcs_action":"archive","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"*****","loadBalancers":[{"protocol":"http","id":"15"}],"hpcs_response":"PASS"}`},
		{"token masked without action", `{"hpcs_object_store_token":"secret"}`, `{"hpcs_object_store_token":"*****","hpcs_response":"FAIL"}`},
		// Queries need nothing but the action.
		{"stats", `{"hpcs_action":"STATS"}`, `{"hpcs_action":"STATS","hpcs_response":"PASS"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := reply(tc.in)
			assert.Equal(t, tc.want, got)
			assert.True(t, json.Valid([]byte(got)), "reply is JSON")
		})
	}
}

func TestDecodeNormalizes(t *testing.T) {
	t.Parallel()
	d, ref := libra.Decode([]byte(`{"hpcs_action":"update","loadBalancers":[
		{"name":"web","protocol":"HTTP","algorithm":"least_connections","options":{"client_timeout":"20000","connect_retries":0},
		 "nodes":[{"id":101,"address":"127.0.0.1","port":"19001","weight":"2"},{"id":"uuid-with-hyphens","address":"db.example","port":19002,"backup":"TRUE"}],
		 "monitor":{"type":"HTTP","delay":"5","timeout":"3","attempts":"2","path":"healthz"}},
		{"protocol":"galera","port":"3306","nodes":[{"id":"g1","address":"::1","port":3306},{"id":"g2","address":"10.0.0.2","port":3306,"backup":true}]}]}`))
	require.Nil(t, ref)
	assert.Equal(t, libra.Request{Action: libra.ActionUpdate, LoadBalancers: []libra.LoadBalancer{
		{
			Name: "web", Protocol: "http", Port: 80, Algorithm: "LEAST_CONNECTIONS",
			Monitor: &libra.Monitor{Type: "http", Delay: 5, Timeout: 3, Attempts: 2, Path: "/healthz"},
			Options: libra.Options{ClientTimeout: 20000, ServerTimeout: 30000, ConnectTimeout: 30000, ConnectRetries: 0},
			Nodes: []libra.Node{
				{ID: "101", Address: "127.0.0.1", Port: 19001, Weight: 2},
				{ID: "uuid-with-hyphens", Address: "db.example", Port: 19002, Weight: 1, Backup: true},
			},
		},
		{
			Protocol: "galera", Port: 3306, Algorithm: "ROUND_ROBIN", Options: libra.DefaultOptions(),
			Nodes: []libra.Node{{ID: "g1", Address: "::1", Port: 3306, Weight: 1}, {ID: "g2", Address: "10.0.0.2", Port: 3306, Weight: 1, Backup: true}},
		},
	}}, d.Request)
}

func TestRequestEventNeverHoldsToken(t *testing.T) {
	t.Parallel()
	d, ref := libra.Decode([]byte(`{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"s3cr3t","loadBalancers":[{"protocol":"http","id":"15"}]}`))
	require.Nil(t, ref)
	data, err := json.Marshal(libra.NewRequestEvent(d, "req-1", libra.TransportHTTP, "127.0.0.1:5000"))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "s3cr3t")
	assert.JSONEq(t, `{"action":"ARCHIVE","request_id":"req-1","transport":"http","client":"127.0.0.1:5000",
		"load_balancers":[{"id":"15","protocol":"http","port":0,"algorithm":"","options":{"client_timeout":0,"server_timeout":0,"connect_timeout":0,"connect_retries":0},"nodes":null}],
		"archive":{"type":"swift","basepath":"b","endpoint":"e"},
		"message":{"hpcs_action":"ARCHIVE","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"e","hpcs_object_store_token":"*****","loadBalancers":[{"protocol":"http","id":"15"}]}}`, string(data))
	ev, err := libra.ParseRequestEvent(data)
	require.NoError(t, err)
	assert.Equal(t, libra.ActionArchive, ev.Action)
}

func TestRequestEventRecordsMessageAsReceived(t *testing.T) {
	t.Parallel()
	d, ref := libra.Decode([]byte(`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[` + node1 + `],"monitor":{"type":"connect","delay":1,"timeout":1,"attempts":1}}]}`))
	require.Nil(t, ref)
	ev := libra.NewRequestEvent(d, "r", libra.TransportGearman, "g")
	assert.JSONEq(t, `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[`+node1+`],"monitor":{"type":"connect","delay":1,"timeout":1,"attempts":1}}]}`, string(ev.Message))
}

func TestDecodeRefusesDeepNesting(t *testing.T) {
	t.Parallel()
	deep := `{"hpcs_action":"ENABLE","x":` + repeat("[", 100) + repeat("]", 100) + `}`
	_, ref := libra.Decode([]byte(deep))
	require.NotNil(t, ref)
	assert.Equal(t, libra.KindFail, ref.Kind)
	assert.Contains(t, ref.Reason, "nested deeper than")
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// TestRequestEventIsTheVocabularyShape: what the source journals decodes
// as the vocabulary's LBRequestData, member for member.
func TestRequestEventIsTheVocabularyShape(t *testing.T) {
	t.Parallel()
	d, ref := libra.Decode([]byte(`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"http","nodes":[` + node1 + `]}]}`))
	require.Nil(t, ref)
	data, err := json.Marshal(libra.NewRequestEvent(d, "r1", libra.TransportGearman, "gearman://g:4730/f"))
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v eventtypes.LBRequestData
	require.NoError(t, dec.Decode(&v))
	assert.Equal(t, "UPDATE", v.Action)
	assert.Equal(t, "r1", v.RequestID)
	assert.Equal(t, eventtypes.LBTransportGearman, v.Transport)
	assert.Equal(t, "gearman://g:4730/f", v.Client)
	assert.NotEmpty(t, v.LoadBalancers)
	assert.NotEmpty(t, v.Message)
	assert.Equal(t, eventtypes.LBRequest, libra.EventRequest)
}

// TestShallowCopyLeavesTheOriginal: the reply is built on a shallow copy,
// and the message stays as received for a FAIL sent after it.
func TestShallowCopyLeavesTheOriginal(t *testing.T) {
	t.Parallel()
	d, ref := libra.Decode([]byte(`{"hpcs_action":"DISCOVER","x":{"y":1}}`))
	require.Nil(t, ref)
	pass := libra.PassReply(d.Message.Shallow().Set("version", libra.String("1.0")))
	assert.JSONEq(t, `{"hpcs_action":"DISCOVER","x":{"y":1},"version":"1.0","hpcs_response":"PASS"}`, string(pass))
	assert.JSONEq(t, `{"hpcs_action":"DISCOVER","x":{"y":1},"hpcs_error":"no","hpcs_response":"FAIL"}`, string(libra.FailReply(d.Message, "no")))
}

// TestRequestEventMarshalIsEncodingJSON: the hand-written encoding of the
// journal event decodes to what encoding/json's does, for every shape of
// request (FuzzDecode covers arbitrary messages).
func TestRequestEventMarshalIsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		`{"hpcs_action":"update","loadBalancers":[{"name":"web","protocol":"HTTP","algorithm":"LEAST_CONNECTIONS","nodes":[{"id":"101","address":"10.0.0.5","port":"8080","weight":"2","backup":"FALSE"}],"monitor":{"type":"HTTP","delay":"30","timeout":"30","attempts":"2","path":"healthz"}}]}`,
		`{"hpcs_action":"UPDATE","loadBalancers":[{"id":"lb-<1>&\u00e9","name":"w\"eb\\","protocol":"http","options":{"client_timeout":"20000","connect_retries":0},"nodes":[{"id":"a","address":"::1","port":80,"backup":true}]},` +
			`{"protocol":"galera","port":"3306","nodes":[{"id":"g1","address":"10.0.0.1","port":3306},{"id":"g2","address":"10.0.0.2","port":3306,"backup":true}]}]}`,
		`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"tcp","port":443,"nodes":[]}]}`,
		`{"hpcs_action":"UPDATE","loadBalancers":[]}`,
		`{"hpcs_action":"archive","hpcs_object_store_type":"swift","hpcs_object_store_basepath":"b","hpcs_object_store_endpoint":"https://s/v1?a=1&b=<2>","hpcs_object_store_token":"secret","loadBalancers":[{"protocol":"http","id":"15"}]}`,
		`{"hpcs_action":"STATS","note":"\u2028<script>"}`,
	} {
		d, ref := libra.Decode([]byte(msg))
		require.Nil(t, ref, msg)
		ev := libra.NewRequestEvent(d, "id-\"1\"", libra.TransportGearman, "gearman://127.0.0.1:4730/lb<1>")
		want, err := json.Marshal(ev)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(ev.Marshal()), msg)
	}
}
