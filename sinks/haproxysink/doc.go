// Package haproxysink applies OpenStack Libra load-balancer requests
// (sluice.lb.request events from the lbworker source, see internal/libra)
// to a real HAProxy 2.6: the worker's HAProxy driver, done right.
//
// # Rendering
//
// Every UPDATE rebuilds the whole file from the request's load balancers,
// in Libra's structure so that names mean what they meant: global
// (maxconn, user, group, log, the stats socket), defaults (dontlognull,
// redispatch, maxconn, timeouts), and per load balancer a frontend
// "<protocol>-in" (bind_address:port, timeout client, httplog or tcplog)
// and a backend "<protocol>-servers" (balance roundrobin or leastconn,
// timeout connect and server in ms, retries) with servers "id-<node id>"
// (backup, weight, check). HTTP backends insert the SERVERID cookie and
// forward the client address; TCP backends keep client-IP stickiness
// (stick-table type ip size 200k expire 30m); GALERA is TCP without
// stickiness, one primary and backups, which HAProxy sends to the first
// healthy backup only: a single writer. Without a monitor a server gets
// "check inter 30s" (HAProxy's rise 2 fall 3); with one, "check inter
// <delay>s rise <attempts> fall <attempts>", "timeout check <timeout>s"
// and, for type http, "option httpchk GET <path>". testdata/*.golden are
// the rendered files; each passes `haproxy -c` on Debian's 2.6 without a
// warning.
//
// # Libra's driver bugs, fixed
//
//  1. "stats socket ... mode operator" is fatal on 2.6 (mode is the octal
//     permission): rendered "mode 660 level operator".
//  2. GALERA was rendered as tcp-in/tcp-servers and clashed with a TCP
//     load balancer; it is galera-in/galera-servers now (METRICS reports
//     it as galera, not tcp).
//  3. Option values were pasted with "ms" appended ("30s" became
//     "30sms"); they are validated integers now (internal/libra).
//  4. STATS split the server name on every "-", so node ids with hyphens
//     (UUIDs) failed; only the "id-" prefix is stripped now, and the
//     protocol filter works (Libra's "next" for "continue").
//  5. "option httpclose" in a backend no longer means closing the client
//     side on 2.6; the backend says what it does: "option
//     http-server-close". The cookie is "insert indirect nocache", as the
//     manual advises.
//  6. The backup copy was never restored and success was judged by a pid
//     file (which -Ws leaves behind); now the new file is checked first,
//     renamed over the old one atomically, the master reloads, and "show
//     proc" must show the reload and a new worker; otherwise the previous
//     file is put back and reloaded.
//  7. Stale stats socket after a stop made the next SUSPEND, UPDATE or
//     DELETE fail; HAProxy is never stopped now (see below), and a socket
//     that refuses connections means "not running".
//  8. "daemon" is left out (ignored under systemd, unwanted for a supervised
//     master in the foreground); defaults maxconn equals the global one
//     (Libra's 50000 was above its global 4096); values are never
//     interpolated unvalidated, so no request can inject configuration.
//  9. Fixed /tmp paths collided between jobs; the temporary file is a
//     unique name beside the target, so the rename is atomic.
//
// # Applying
//
// The file is written to a temporary file in config_path's directory,
// checked with `binary -c -f` (a rejection is a permanent error carrying
// HAProxy's own message, ErrConfigRejected: the live file is untouched; a
// check that does not finish within reload.timeout or is killed is
// transient, ErrCheckTimeout, never taken for a rejection),
// then "show proc" on the master socket must answer (otherwise
// ErrNotRunning, transient: nothing changed, retried), the file is renamed
// over config_path, HAProxy is reloaded ("reload" on the master socket, or
// reload.command such as systemctl reload haproxy) and the master must
// report one more reload and a new worker within reload.timeout. A failed
// reload (a port in use) restores and reloads the previous file and is
// permanent (ErrReloadFailed; transient when the master does not confirm
// the reload within reload.timeout). A request whose rendered file is already
// live (same hash in the sink state and on disk) does nothing, so a
// redelivered request is not reloaded twice.
//
// # SUSPEND, ENABLE, DELETE
//
// SUSPEND serves the base file (no frontends: nothing listens) and keeps
// the load balancers in the sink state; ENABLE serves them again; an
// UPDATE while suspended is checked with haproxy -c and stored, not
// served. DELETE forgets the load balancers and serves the base file;
// STATS and METRICS then record {"status":"DELETED"}, as Libra answered.
// HAProxy's master keeps running throughout, so there is no stale socket
// or pid file to trip over (Libra stopped and started the service).
//
// # STATS and METRICS
//
// Read from the stats socket ("show stat -1 4 -1" and "-1 2 -1", parsed by
// column name): node statuses (UP only when HAProxy says exactly UP, else
// DOWN, as Libra, with HAProxy's own text in detail) and each backend's
// bytes out, logged and kept in the sink state (keys stats and metrics).
// The requester gets them through the lbworker source's reply_after: the
// sink attaches a result (pipeline.SetResult) in Libra's shape, STATS
// nodes [{"id","status"}], METRICS utc_start (the previous METRICS, or
// the sink's start), utc_end (now, "YYYY-MM-DD HH:MM:SS" UTC) and
// loadBalancers [{"protocol","bytes_out"}] (HAProxy's bout counter, which
// a reload resets); after DELETE both are FAIL "Load balancer has been
// deleted" with status DELETED, as Libra answered. ARCHIVE (uploading
// the log to Swift) is not done by this sink: its result is FAIL saying
// so. A rejected configuration or failed reload is a permanent error, so
// with reply_after the requester gets FAIL with HAProxy's message.
//
// # State
//
// Settings.State holds config_hash (SHA-256 of the live file), suspended,
// deleted, load_balancers (the last UPDATE's, for ENABLE) and the last
// stats and metrics, committed with the sink's cursor.
//
// # Defaults
//
// Debian 12's package and systemd unit: /etc/haproxy/haproxy.cfg,
// /usr/sbin/haproxy, master socket /run/haproxy-master.sock (the unit's
// -S), stats socket /run/haproxy/admin.sock, user and group haproxy, log
// /dev/log local0, bind 0.0.0.0. The sink owns config_path: it writes the
// base file at Start when none exists. Metrics: sluice.sink.haproxy.requests
// (action, outcome); each request has a span haproxy.apply.
package haproxysink
