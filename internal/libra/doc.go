// Package libra is OpenStack Libra's load-balancer worker message contract
// (stackforge/libra@a0e8b91e160e, libra/worker/controller.py and the
// HAProxy driver's input rules), shared by the lbworker source, which
// receives and journals requests, and the haproxy sink, which applies
// them. Neither imports the other; both import this package.
//
// # Messages
//
// A request is one JSON object with hpcs_action set to UPDATE, SUSPEND,
// ENABLE, DELETE, DISCOVER, ARCHIVE, STATS, METRICS or DIAGNOSTICS. Action
// values are case-insensitive; field names are case-sensitive
// ("LoAdBaLaNcErS" is not "loadBalancers"); unknown fields are ignored and
// echoed. Decode validates a message and returns either the normalized
// Request or a Refusal carrying the exact reply:
//
//   - a normal reply is the request as received, members in their order,
//     with fields added at the end (hpcs_response PASS or FAIL, hpcs_error,
//     per-action fields), as Libra's Python dict was;
//   - a validation fault is Libra's badRequest object, which drops the
//     request: {"badRequest":{"code":"400","message":"Validation fault",
//     "details":"The object is not valid","validationErrors":{"message":
//     TEXT}}}, with TEXT exactly as Libra's controller wrote it: Missing
//     'loadBalancers' element, Missing 'nodes' element, Missing required
//     'protocol' value., Missing node 'port', Missing node 'address',
//     Missing node 'id', Missing monitor value 'type' (delay, timeout,
//     attempts), and for ARCHIVE Missing 'hpcs_object_store_type' element
//     (basepath, endpoint, token, loadBalancers) and 'ftp' is not a valid
//     store type.
//
// Checks run in Libra's order (per load balancer: nodes, protocol, port,
// algorithm, monitor, options, then each node), so the first problem is
// the one Libra reported. hpcs_object_store_token is replaced by "*****"
// before a message is logged, journaled or echoed (Mask).
//
// # Decisions where Libra's documentation, its code and Sluice differ
//
// PROTOCOLS.md §4.4 lists where Libra's messages.rst and its code
// disagree; the code is what ran, and Sluice follows it except where the
// code crashed, mis-rendered or could be injected:
//
//  1. Two load balancers need not be one HTTP and one TCP (the worker never
//     checked), but a protocol may appear once ("Protocol 'http' is
//     already defined.") and so may a port ("Port 80 is already used by
//     protocol http."): HAProxy would bind both with SO_REUSEPORT and
//     split traffic between them. TCP and GALERA may be combined (Libra's
//     driver named both tcp-in and HAProxy refused the file).
//  2. The node id is required and non-empty, as in the code. It must be 1
//     to 64 letters, digits, '.', '_' or '-' (hyphens allowed: the sink
//     strips only the "id-" prefix in STATS), a string or an integer.
//  3. DIAGNOSTICS replies as the code did: gearman [{"host","status"}],
//     network, hpcs_response PASS; no release.
//  4. STATS returns node statuses, as the code did.
//  5. badRequest replies do not echo the request, as in the code.
//  6. Driver rules are checked before the request is journaled and give
//     FAIL with an hpcs_error (Libra often sent none): protocol http, tcp or
//     galera; tcp and galera need a port, http defaults to 80; ports and
//     node ports are integers from 1 to 65535; algorithm ROUND_ROBIN or
//     LEAST_CONNECTIONS ("Invalid algorithm: X" names the algorithm, not
//     the protocol as Libra's driver did); weight an integer from 0 to 256
//     (Libra let negative weights through to HAProxy); galera has one
//     non-backup node; monitor type connect or http, delay, timeout and
//     attempts positive integers, timeout at most delay, path printable
//     without spaces (Libra accepted "GET /a b") given a leading "/";
//     options integers in milliseconds (Libra pasted "30s" as "30sms");
//     a node id used once per load balancer. A node that fails gets
//     condition DISABLED and the reply hpcs_error "Failure adding server
//     ID: REASON"; nodes checked before it keep ENABLED, as in Libra.
//  7. Integers may be JSON integers or strings of decimal digits (Libra's
//     messages carried strings and the driver called int()); fractions are
//     refused rather than truncated. backup is true only for the string
//     "true" in any case, as in Libra, or the JSON boolean true (Libra
//     failed on a boolean).
//  8. A field that is present but null counts as missing. A value of the
//     wrong JSON type (loadBalancers not a list, a node not an object) is
//     FAIL with a reason, where Libra raised an exception and sent FAIL.
//  9. Malformed JSON, a message that is not an object, and a non-string
//     hpcs_action are FAIL {"hpcs_error":...,"hpcs_response":"FAIL"}: Libra's
//     worker crashed on them and the client waited. A missing hpcs_action
//     is the message plus FAIL with no hpcs_error, exactly as Libra.
//  10. The monitor's default path "/" is written into the reply, as
//     Libra's controller did (it assigned into the message).
//  11. Replies are compact JSON without HTML escaping; numbers keep the
//     text they were received with. Duplicate keys keep the first position
//     and the last value, like Python's json.loads.
//
// # Events
//
// An accepted request becomes a sluice.lb.request event whose data is a
// RequestEvent: the action, the normalized load balancers, the request id,
// the transport, the client and the masked message. The token is never
// stored: no Sluice sink uploads logs, so no route needs it.
package libra
