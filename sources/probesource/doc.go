// Package probesource is the "probe" source: health checks of HTTP
// endpoints, TCP ports, commands and the Azure HostGAPlugin, with
// Kubernetes' threshold semantics, whose state changes become events.
//
// # Configuration
//
// One source runs one probe:
//
//	sources:
//	  - name: web
//	    type: probe
//	    with: {kind: http, url: http://127.0.0.1:8080/healthz, interval: 15s, timeout: 1s, failure_threshold: 3}
//
// or a list of probes, which is what a fleet of a thousand targets wants:
// one scheduler, one timer and shared connections instead of a thousand
// sources. Above the list go the shared settings — kind, interval,
// timeout, initial_delay, jitter, failure_threshold, success_threshold,
// heartbeat, results, severity, tls and keep_alive — which every probe
// inherits unless it sets its own; targets (url, address, command,
// endpoint) and the other fields of a kind belong to each probe:
//
//	with:
//	  interval: 10s
//	  failure_threshold: 2
//	  probes:
//	    - {name: api, kind: https, url: "https://api.internal:8443/healthz", expect_body: ok}
//	    - {name: db, kind: tcp, address: "127.0.0.1:5432", interval: 30}
//	    - {name: disk, kind: exec, command: [/usr/lib/nagios/plugins/check_disk, -w, "10%"]}
//	    - {name: hgap, kind: hostplugin}
//
// Each probe of a list needs a unique name; a single probe is named after
// its source. The name is the events' subject and the probe's key in the
// journal. A field set for a kind that does not use it (a url on a tcp
// probe) is an error, as are an invalid interval ("10x", "-1s"), a URL
// without a host and an empty command; each is a pipeline.FieldError, so
// `sluice validate` shows it at its FILE:LINE:COL. Config documents every
// field.
//
// Defaults, where they depend on the kind:
//
//	                    http, https, tcp, exec      hostplugin
//	interval            15s (DCAE)                  1m (WALinuxAgent)
//	timeout             1s (DCAE, Kubernetes)       10s, per request
//	failure_threshold   3 (Kubernetes)              1
//	success_threshold   1                           1
//	heartbeat           off                         1m
//	jitter              0 for a single probe, the interval for each probe of a list
//
// # Timing
//
// Intervals and durations take the ONAP DCAE k8s plugin's syntax,
// ^([0-9]+)(s|m|h)?$ with bare numbers as seconds (so existing blueprints'
// "30", "05s", "2m" work), or Go durations ("500ms", "1m30s"). Unlike
// the plugin's Python regular expression a trailing newline is refused,
// and numbers too large for a Go duration (about 292 years) are errors
// where Python would accept them.
//
// A probe's first check comes after initial_delay plus a random part of
// jitter; later checks stay on that phase, every interval, so that a
// thousand probes at one interval, spread once, stay spread (the kubelet
// also waits a random part of the period before a probe's first check
// after a restart). A check that overruns its interval skips the slots it
// missed; a probe never runs two checks at once. Checks run on their own
// goroutines, so a target that hangs delays only its own probe, for at
// most its timeout.
//
// # State
//
// A probe is unknown until it has been checked enough: it becomes
// unhealthy after failure_threshold consecutive failed checks, healthy
// after success_threshold consecutive successes, and a result that
// breaks a streak starts the count again, as in Kubernetes.
//
// The state lives in the journal, in the source's state under the key
// "probe/NAME" (JSON: state, since, the current streak capped at its
// threshold, when the failure streak began, the last error), written by
// the same Emit — the same journal transaction — as the events it
// explains. So a restart neither re-emits a transition (a probe that was
// healthy is still healthy, and says nothing) nor forgets a failure streak
// in progress (two of three failures before the restart, one after, make
// the transition). Only transitions and streaks in progress are written:
// a probe that stays healthy, or stays down, writes nothing. The state of
// probes no longer configured is deleted at start. If the journal refuses
// a batch (full), the probe keeps its previous state, the refusal is
// logged and counted, and the next check tries again: a transition (or a
// hostplugin probe's versions answer, read again) is delayed, never lost.
//
// # Events
//
// Every event has the probe's name as subject, the time of the check and
// JSON data (datacontenttype application/json). Events that report an
// unhealthy state or check get the probe's severity (default error);
// the others are info.
//
//	sluice.probe.state       every transition (from unknown, too)
//	sluice.probe.heartbeat   the current state, with the first check at least `heartbeat` after the last one
//	sluice.probe.result      every check, only with results: true (noisy: each is a journal write)
//	sluice.hostplugin.versions  each /versions answer of a hostplugin probe
//
// The data of state, heartbeat and result events:
//
//	probe                  the probe's name
//	kind                   http, https, tcp, exec or hostplugin
//	target                 the URL (password and query values redacted), host:port, the
//	                       command as written in the config (${...} references, not
//	                       their values) or the plugin base URL
//	from, to               the transition (state events only)
//	state                  unknown, healthy or unhealthy, after this check
//	since                  when the probe entered state
//	healthy                this check's result
//	error                  why this check failed ("" if it succeeded)
//	consecutive_failures   the current failure streak
//	consecutive_successes  the current success streak
//	failure_threshold, success_threshold
//	failing_since          when the current failure streak began (absent after a success)
//	last_error, last_error_at  the most recent failure, kept after recovery
//	latency_ms             this check's duration
//	checked_at             when this check ended
//	interval               the probe's interval
//	status_code            the HTTP status (http, https, hostplugin /health)
//	upstream_failure       a hostplugin 502: the plugin's upstream failed
//	exit_code              an exec probe's exit status, -1 if it did not exit
//	output, output_truncated  what an exec probe printed, or a tcp peer sent, up to the bound
//
// After a restart the streak counts resume from at most their thresholds
// (what is saved); failing_since stays exact.
//
// # Kinds
//
// http and https send method (GET) to url with headers (values are
// secrets) and an optional body, and expect a status in expect_status
// (default 200-399, as Kubernetes), optionally a body containing
// expect_body or matching expect_body_regex (RE2), within the first
// max_response_bytes (64KiB) of it; more is never read. Redirects are not
// followed unless follow_redirects is same_host (Kubernetes' rule) or any;
// a redirect from https to plain http is never followed (the check fails
// saying so), and a redirect to another host is sent without the
// configured headers. A user and password in a plain http URL to a host
// that is not loopback is refused unless allow_insecure_auth: true;
// headers over plain http to such a host are warned about at Provision,
// and so is, for every probe that sets it, tls.insecure_skip_verify.
// TLS verification is on; tls.ca_file replaces the system roots,
// tls.cert_file and tls.key_file present a client certificate. No proxy
// is used. Connections are kept for the next check unless keep_alive is
// false (then each check dials, as the kubelet does: slower, but a server
// that stopped accepting cannot look healthy on an old connection).
//
// tcp connects to address, writes send if set, and if expect is set reads
// until it arrives (within max_response_bytes), the peer closes or the
// timeout ends.
//
// exec runs command: a list is the argv, run without a shell; one string
// is split on white space (as the DCAE plugin splits a healthcheck
// script), or given to /bin/sh -c with shell: true. Exit status 0 is
// healthy. The command runs in its own process group, and a timeout kills
// the whole group (SIGKILL to -pgid), so a script's children die with it;
// what is left of the group when the command exits is killed too.
// stdout and stderr are captured together, up to max_output_bytes (4KiB);
// the rest is read and discarded, so a command that prints gigabytes costs
// no memory. The environment is only env plus PATH (Sluice's PATH unless
// env sets one; the program is looked up in that PATH). When Sluice runs
// as root the command runs as nobody (and its group, no supplementary
// groups) unless user and group say otherwise, and with no_new_privs, so
// that neither a setuid program nor a file capability gives it back what
// was dropped; user: root keeps root. Without root the command runs as
// Sluice, and naming another user is an error at Provision.
//
// hostplugin watches the Azure HostGAPlugin (PROTOCOLS.md §2) the way
// WALinuxAgent's monitor does, so that a route can report
// GuestAgentPluginHeartbeat and GuestAgentPluginVersions observations to
// the HealthService. Each check GETs http://ENDPOINT:32526/health with
// x-ms-version: 2015-09-01 and x-ms-containerid (container_id, when set);
// 200, 201 and 202 are healthy, anything else is not (a 502 is flagged
// upstream_failure). Before it, until the plugin lists API 2015-09-01,
// each check GETs /versions with the same headers and emits a
// sluice.hostplugin.versions event; afterwards only every
// versions_interval (default never, as the agent). Its data:
//
//	probe, kind, endpoint  the probe, "hostplugin", http://HOST:32526
//	healthy                the observation's IsHealthy, judged as get_api_versions: a
//	                       200/201/202 is healthy; another status is healthy unless it is
//	                       a 5xx other than 502 (502: the plugin's upstream failed, the
//	                       plugin did not; request_failed_at_hostplugin); a network error,
//	                       a 410 and a 400 InvalidContainerConfiguration are unhealthy
//	value                  the observation's Value: "" or, for a failed status,
//	                       read_response_error's "[HTTP Failed] [500: Internal Server Error] b'...'",
//	                       byte for byte (a 400's body shows empty, as in the agent)
//	supported              the body contains "2015-09-01" (the agent's substring test)
//	versions               the versions listed (a JSON list, or the dates in the text)
//	api_version            "2015-09-01"
//	status_code, upstream_failure, error, latency_ms, checked_at
//
// A hostplugin sink maps them: GuestAgentPluginVersions from each
// versions event (IsHealthy = healthy, Value = value, Description ""), and
// GuestAgentPluginHeartbeat from the heartbeats (one a minute by default)
// of a hostplugin probe, where WALinuxAgent's 5-minute error state is
// IsHealthy = not (failing_since is set and checked_at - failing_since
// >= 5m). The probe itself does not smooth (failure_threshold 1), so that
// the sink or a route throttle owns the error-state policy.
//
// Where the probe differs from WALinuxAgent, on purpose: the agent retries
// 5xx, 403 and 429 answers within one call (6 attempts over about 30 s, 25
// when throttled) and then reports an HttpError (unhealthy, empty Value);
// the probe reports each answer as it gets it and lets the interval be the
// retry, so a persistent 502 reads as healthy with upstream_failure. The
// agent sends no x-ms-version on /health and /versions; the probe sends it
// on both, as the issue asked. Each check uses a new connection, like the
// agent's "Connection: close".
//
// # Testing
//
// Every kind is tested against real peers on loopback: flapping, slow,
// resetting and garbage-speaking HTTP servers, a closed port, TLS with a
// CA made in the test (and mutual TLS), TCP peers that greet, echo, hang
// and flood, and shell scripts that succeed, fail, hang with children and
// print hundreds of megabytes. The HostGAPlugin itself runs only on Azure
// hosts, so its tests use a fake built from PROTOCOLS.md §2.4 (the
// endpoints and headers of WALinuxAgent's hostplugin.py); the judgement of
// its /versions answers is compared with the installed WALinuxAgent's own
// restutil (Debian's waagent package) on the same loopback answers.
//
// # Telemetry
//
// Metrics (scope github.com/sluice-dev/sluice/sources/probesource):
// sluice.source.probe.checks (by probe, kind, result),
// sluice.source.probe.check.duration (by kind, result),
// sluice.source.probe.transitions (by probe, to), sluice.source.probe.state
// (a gauge per probe: 1 healthy, 0 unhealthy, -1 unknown) and
// sluice.source.probe.emit.failures. A span "probe.check" per check.
// Transitions are logged at info (warn when unhealthy), failed checks at
// debug. Header values, env values and URL passwords are never logged or
// put in events.
package probesource
