#!/usr/bin/python3
"""Run the INSTALLED WALinuxAgent's health-signal logic (Debian package
waagent) on a timeline with a fake clock, and print what it reports.

Used by the hostpluginsink timing test. The agent's own code decides
whether and what to report at every step:

  heartbeat  ga/monitor.py SendHostPluginHeartbeat._operation (the /health
             result feeds an ErrorState of 5 min; reported every call)
  imds       ga/monitor.py SendImdsHeartbeat._operation (ErrorState of
             3 min; reported every call)
  status     HostPluginProtocol.report_status_health (should_report with
             a 1 min period and an ErrorState of 5 min)
  artifact   HostPluginProtocol.report_fetch_health for the
             /extensionArtifact URI (the same rules)

Replaced: datetime.utcnow in errorstate.py, hostplugin.py and monitor.py
(the fake clock), the /health and IMDS calls (the step's result), and
restutil.http_post, which records the body HealthService posts instead of
sending it (the byte comparison of requests on the wire is
healthservice_body.py's job), and add_event.

Usage
  healthservice_timing.py < SPEC

SPEC: {"signal": "heartbeat", "steps": [{"at": SECONDS, "ok": BOOL,
       "response": TEXT, "source": TEXT}, ...],
       "error_state": SECONDS, "period": SECONDS}

"error_state" and "period", optional, replace the status and artifact
signals' ErrorState duration and reporting period (5 min and 1 min).

Output: a JSON list with, for each step, the body posted at that step or
null when nothing was posted.
"""
import datetime as real_datetime
import json
import sys
import types

try:
    import azurelinuxagent  # noqa: F401
except ImportError:  # a python3 other than Debian's: use Debian's package
    sys.path.append("/usr/lib/python3/dist-packages")

import azurelinuxagent.common.errorstate as errorstate
import azurelinuxagent.common.event as agent_event
import azurelinuxagent.common.protocol.hostplugin as hostplugin
import azurelinuxagent.common.protocol.healthservice as healthservice
import azurelinuxagent.ga.monitor as monitor
from azurelinuxagent.common.protocol.healthservice import HealthService
from azurelinuxagent.common.protocol.hostplugin import HostPluginProtocol

EPOCH = real_datetime.datetime(2025, 1, 2, 3, 4, 5)
NOW = [EPOCH]


class FakeDatetime(real_datetime.datetime):
    @classmethod
    def utcnow(cls):
        return NOW[0]


fake_module = types.SimpleNamespace(datetime=FakeDatetime, timedelta=real_datetime.timedelta)
errorstate.datetime = FakeDatetime
hostplugin.datetime = fake_module
monitor.datetime = fake_module

posted = []


def fake_http_post(url, data, headers=None, **_kw):
    posted.append(data)


healthservice.restutil.http_post = fake_http_post
agent_event.add_event = lambda *a, **kw: None
monitor.add_event = lambda *a, **kw: None

STEP = {}


class FakeHostPlugin(object):
    def ensure_initialized(self):
        return True

    def get_health(self):
        return STEP["ok"]


class FakeClient(object):
    def get_host_plugin(self):
        return FakeHostPlugin()


class FakeProtocol(object):
    client = FakeClient()

    def update_host_plugin_from_goal_state(self):
        pass


class FakeProtocolUtil(object):
    def get_wireserver_endpoint(self):
        return "168.63.129.16"


class FakeImds(object):
    def validate(self):
        return STEP["ok"], STEP.get("response", "")


def main():
    spec = json.load(sys.stdin)
    hs = HealthService("168.63.129.16")
    signal = spec["signal"]
    if signal == "heartbeat":
        op = monitor.SendHostPluginHeartbeat(FakeProtocol(), hs)
        run = op._operation
    elif signal == "imds":
        op = monitor.SendImdsHeartbeat(FakeProtocolUtil(), hs)
        op.imds_client = FakeImds()
        run = op._operation
    elif signal in ("status", "artifact"):
        hp = HostPluginProtocol("168.63.129.16", "container", "role.config.name")
        hp.health_service = hs
        if "error_state" in spec:
            es = real_datetime.timedelta(seconds=spec["error_state"])
            hp.status_error_state = errorstate.ErrorState(min_timedelta=es)
            hp.fetch_error_state = errorstate.ErrorState(min_timedelta=es)
        if "period" in spec:
            period = real_datetime.timedelta(seconds=spec["period"])
            HostPluginProtocol.STATUS_REPORTING_PERIOD = period
            HostPluginProtocol.FETCH_REPORTING_PERIOD = period
        artifact_uri = hostplugin.URI_FORMAT_GET_EXTENSION_ARTIFACT.format("168.63.129.16", hostplugin.HOST_PLUGIN_PORT)
        if signal == "status":
            def run():
                hp.report_status_health(is_healthy=STEP["ok"], response=STEP.get("response", ""))
        else:
            def run():
                hp.report_fetch_health(artifact_uri, is_healthy=STEP["ok"],
                                       source=STEP.get("source", ""), response=STEP.get("response", ""))
    else:
        print("unknown signal %r" % signal, file=sys.stderr)
        return 2
    out = []
    for step in spec["steps"]:
        STEP.clear()
        STEP.update(step)
        NOW[0] = EPOCH + real_datetime.timedelta(seconds=step["at"])
        before = len(posted)
        run()
        new = posted[before:]
        if len(new) > 1:
            print("more than one post in a step", file=sys.stderr)
            return 1
        out.append(new[0] if new else None)
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
