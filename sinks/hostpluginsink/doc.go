// Package hostpluginsink implements the "hostplugin" sink: it reports
// the health of the VM's channels to the Azure host, as WALinuxAgent does,
// with POSTs to the WireServer's HealthService.
//
//	sinks:
//	  - name: host-health
//	    type: hostplugin
//	    with: {endpoint: 168.63.129.16}     # every key is optional
//	routes:
//	  - name: health-to-host
//	    from: [hostplugin]                  # a probe source with kind: hostplugin
//	    to: [host-health]
//
// # Requests
//
// Each report is one POST to http://ENDPOINT/HealthService (port 80 unless
// the endpoint names one) holding one observation, byte for byte what
// WALinuxAgent 2.7's HealthService sends for the same observation:
//
//	{"Api": "reporttargethealth", "Version": "1.0", "Source": "Sluice", "Observations": [{"ObservationName": "GuestAgentPluginHeartbeat", "IsHealthy": true, "Description": "", "Value": ""}]}
//
// That is Python's json.dumps: separators ", " and ": ", every character
// outside printable ASCII escaped as \uXXXX in lower-case hex (astral
// characters as surrogate pairs), "<", ">" and "&" left alone, and the
// name, description and value cut to 64, 128 and 128 code points before
// escaping. Invalid UTF-8 in an event (which a Python str cannot hold)
// is sent as U+FFFD, one per byte. Source defaults to "Sluice" so that
// the host can tell Sluice from the agent; set it to "WALinuxAgent" to
// stand in for the agent.
//
// The headers are the agent's too: Content-Type: application/json,
// Connection: close, User-Agent (configurable; "Sluice/VERSION" by
// default, the agent sends "WALinuxAgent/2.7.3.0"), and the Host and
// Accept-Encoding: identity that Python's http.client adds; no proxy, no
// redirects, no trace context. The body carries no timestamp or ID: a
// report is a state, and sending it twice is harmless.
//
// # From events to observations
//
// Observation rules (Config.Observations, then the built-in ones) are
// tried in order; the first whose types, routes and when conditions all
// hold maps the event. Its health, description and value come from
// selectors over the event (see ObservationConfig). An event no rule maps
// is dead-lettered with the reason, never dropped silently: select such
// events out in the route, or add a rule.
//
// The built-in mapping reads the events of a hostplugin probe
// (sources/probesource, kind: hostplugin), which watches the HostGAPlugin
// as WALinuxAgent does:
//
//	event types                                  when                 observation                IsHealthy from   Value
//	sluice.probe.state, sluice.probe.heartbeat,  data.kind=hostplugin GuestAgentPluginHeartbeat  data.healthy     ""
//	sluice.probe.result                                                                          (failing_since: data.failing_since)
//	sluice.hostplugin.versions                   data.kind=hostplugin GuestAgentPluginVersions   data.healthy     data.value
//
// data.healthy is the result of the check itself (GET /health answered
// 200, 201 or 202; for /versions, WALinuxAgent's "not failed at the host
// plugin"), not the probe's thresholded state, so that the error state
// below works on the same input as the agent's, and data.failing_since,
// when the probe's current run of failed checks began, anchors that
// error state. The probe emits a heartbeat a minute by default, which is
// what the host expects.
//
// Rules written in the config come first, so they override the built-in
// ones; a rule with routes applies only to deliveries of those routes,
// which is how one route maps the same events differently. Other signals
// need a rule, for example an http probe of IMDS named "imds":
//
//	observations:
//	  - name: InstanceMetadataHeartbeat      # 1m period, 3m error state by default
//	    types: [sluice.probe.heartbeat, sluice.probe.state]
//	    when: {subject: imds}
//	    healthy: {from: data.healthy}
//	    value: data.error
//
// The built-in observations map only events a Sluice probe source emitted
// itself (source /sluice/sources/ORIGIN): the same type from anywhere
// else is unmapped, so no forged heartbeat reaches Azure.
//
// # Report periods and error states
//
// The sink keeps, per observation name, WALinuxAgent's ErrorState and
// should_report, so that the agent's behaviour needs no configuration:
//
//   - A failure is reported healthy until the observation has failed for
//     the error-state duration without a success in between: 5 minutes
//     (ERROR_STATE_HOST_PLUGIN_FAILURE), 3 for InstanceMetadataHeartbeat,
//     none for GuestAgentPluginVersions (decided at once). Any success
//     resets it.
//   - An observation is reported at most once per period, 1 minute
//     (FETCH_REPORTING_PERIOD, STATUS_REPORTING_PERIOD, the heartbeat
//     cadence), none for GuestAgentPluginVersions. An event inside the
//     period updates the error state but is not sent, as in the agent;
//     the next due report carries the state it leads to.
//   - Within one Deliver batch only the newest due report of each
//     observation is sent: a sink catching up on a backlog posts the
//     current state once, not a burst of stale ones.
//
// Both are measured in event time (the time the check was made; the
// sink's clock for events without one), as the agent measures them at
// the check, so a delayed or replayed batch is judged as it happened.
// Event time never runs backwards for an observation: an event older than
// the newest one seen counts as made at the newest one's time, as the
// agent, reading its wall clock, would have seen it. So events out of
// time order never turn a failure into a success (with error_state: 0s a
// failure is always reported unhealthy).
// Period and error_state are configurable per rule. Each observation's
// state (when its failures began, its last report, the newest event time)
// is the sink's durable state, committed by the runner in the journal
// together with the sink's cursor (key "channel/NAME", up to 4,096
// observations): a restart neither forgets a failure in progress nor
// reports again inside a period, and a batch delivered again after a crash
// meets the state it met the first time. A rule's failing_since (the
// built-in heartbeat rule has it) still sets a failure's start when the
// source knows better, e.g. for failures older than the journal.
//
// The error state needs events to move it forward. A source that emits
// only state transitions gives the sink nothing to report when the
// 5 minutes are up; use heartbeats (the hostplugin probe's default), or
// let the runner hold unhealthy events back with a throttle on the route
// (it keeps the newest state and delivers it when due) and have the sink
// report what it gets as it is:
//
//	routes:
//	  - name: health-to-host
//	    from: [hostplugin]
//	    to: [host-health]
//	    throttle:
//	      period: 1m
//	      escalate: {when: 'event.data.healthy == false', after: 5m}
//	sinks:
//	  - name: host-health
//	    type: hostplugin
//	    with:
//	      observations:
//	        - name: GuestAgentPluginHeartbeat
//	          types: ["sluice.probe.*"]
//	          when: {data.kind: hostplugin}
//	          healthy: {from: data.healthy}
//	          period: 0s          # the throttle paces the reports
//	          error_state: 0s     # and has done the waiting
//
// # Answers
//
// WALinuxAgent ignores the HealthService's answer. This sink classifies
// it (Classify): 2xx is delivered; 408, 429, 5xx, an answer that never
// comes (connection refused or reset, the 10 s timeout) are transient and
// the runner retries with backoff; every other 4xx, and a 3xx (not
// followed), is permanent and the report is dead-lettered with the start
// of the answer's body. retry_statuses adds 4xx statuses to retry
// (WALinuxAgent retries 403, which the WireServer uses for throttling).
// The sink never retries or sleeps itself; a batch delivered again after
// a transient failure sends only the reports that did not go through.
//
// Each failure records its origin (StatusError.Origin, FailureOrigin, the
// "origin" metric and span attributes): "upstream" for a 502, which
// WALinuxAgent 2.7's request_failed_at_hostplugin reads as "the plugin is
// fine, something behind it failed"; "hostplugin" for other error
// statuses, and for a 502 whose body carries "[Internal error in
// HostGAPlugin]", the marker newer agents use because the plugin also
// answers 502 for its own errors (PROTOCOLS.md §2.3); "network" when no
// answer came back.
//
// # Telemetry
//
// Metrics (scope github.com/sluice-dev/sluice/sinks/hostpluginsink):
// sluice.sink.hostplugin.requests and .request.duration by status class,
// outcome class and origin; sluice.sink.hostplugin.observations by
// observation and outcome (reported with healthy, coalesced, suppressed,
// unmapped). One client span per POST. Logs: a warning when an
// observation is reported unhealthy (the agent sends a HealthObservation
// telemetry event), info when it recovers.
//
// # Tests
//
// The tests run the real WALinuxAgent from the Debian package waagent
// (testdata/healthservice_body.py and healthservice_timing.py): its
// HealthService posts the same observations over a real socket to a
// loopback server and the requests are compared byte for byte, and its
// own ErrorState and should_report code runs over the same timelines as
// the sink with fake clocks. No fake stands in for the agent.
package hostpluginsink
