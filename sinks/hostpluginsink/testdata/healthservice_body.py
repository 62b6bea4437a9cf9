#!/usr/bin/python3
"""Send HealthService reports with the INSTALLED WALinuxAgent (Debian
package waagent), to a capture server instead of the WireServer.

Used by the hostpluginsink tests to obtain the exact request WALinuxAgent
sends for given observations. Everything in the agent runs unmodified:
HealthService and Observation (truncation, json.dumps), restutil.http_post
and http_request (retries), _http_request (the Connection and User-Agent
headers) and Python's http.client (request line, Host, Accept-Encoding,
Content-Length). Only three things are replaced:

  * the TCP connection: http.client.HTTPConnection.connect dials the
    capture address given with --connect, so the request keeps
    "Host: <endpoint>" and goes over a real socket to a real server;
  * time.sleep, so that retries against a failing capture server are
    instant;
  * add_event (agent telemetry for unhealthy observations), which would
    write under /var/lib/waagent.

Usage
  healthservice_body.py --connect HOST:PORT [--endpoint IP] [--source S] < SPEC

SPEC is a JSON list on stdin; each element makes one POST, like the
agent's report_* methods:

  {"method": "report_host_plugin_heartbeat", "kwargs": {"is_healthy": true}}
      calls that public method of HealthService;
  {"name": N, "is_healthy": B, "description": D, "value": V}
      queues one observation with _observe() and posts it with _report(),
      which is what every report_* method does, for any name;
  {"batch": [{"name": ...}, ...]}
      queues several (fewer than MAX_OBSERVATIONS) and posts them in one
      body.

On success it prints the agent's version and User-Agent as JSON on stdout
and exits 0. Requests go out in the order of SPEC.
"""
import json
import socket
import sys

try:
    import azurelinuxagent  # noqa: F401
except ImportError:  # a python3 other than Debian's: use Debian's package
    sys.path.append("/usr/lib/python3/dist-packages")

import azurelinuxagent.common.event as agent_event
from azurelinuxagent.common.protocol.healthservice import HealthService
from azurelinuxagent.common.utils import restutil
from azurelinuxagent.common.version import AGENT_VERSION


def main(argv):
    args = list(argv[1:])
    connect = None
    endpoint = "168.63.129.16"
    source = None
    while args:
        a = args.pop(0)
        if a == "--connect":
            connect = args.pop(0)
        elif a == "--endpoint":
            endpoint = args.pop(0)
        elif a == "--source":
            source = args.pop(0)
        else:
            print("unknown argument %r\n%s" % (a, __doc__), file=sys.stderr)
            return 2
    if connect is None:
        print("--connect is required\n" + __doc__, file=sys.stderr)
        return 2
    host, port = connect.rsplit(":", 1)
    capture = (host, int(port))

    base = restutil.httpclient.HTTPConnection

    class CaptureConnection(base):
        """Dials the capture server; the request itself is unchanged."""

        def connect(self):
            self.sock = socket.create_connection(capture, self.timeout)

    restutil.httpclient.HTTPConnection = CaptureConnection
    restutil.time.sleep = lambda seconds: None
    agent_event.add_event = lambda *a, **kw: None

    spec = json.load(sys.stdin)
    hs = HealthService(endpoint)
    if source is not None:
        hs.source = source
    for item in spec:
        if "method" in item:
            getattr(hs, item["method"])(**item.get("kwargs", {}))
            continue
        for o in item.get("batch", [item]):
            hs._observe(name=o["name"], is_healthy=o["is_healthy"],
                        value=o.get("value", ""),
                        description=o.get("description", ""))
        hs._report()
    json.dump({"agent_version": AGENT_VERSION,
               "user_agent": restutil.HTTP_USER_AGENT}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
