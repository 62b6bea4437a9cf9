#!/usr/bin/python3
"""Reads a HostGAPlugin /versions URL with the installed WALinuxAgent's
restutil, as HostPluginProtocol.get_api_versions does, and prints how the
agent judges it: {"healthy": bool, "value": str, "supported": bool} — the
GuestAgentPluginVersions observation's IsHealthy and Value.

One attempt (max_retry=1): the agent's retries of 5xx, 403 and 429 are
not part of what the probe source reproduces (see doc.go).

Usage: walinuxagent_versions.py URL CONTAINER_ID
"""
import json
import sys

from azurelinuxagent.common.exception import HttpError
from azurelinuxagent.common.future import ustr
from azurelinuxagent.common.utils import restutil
from azurelinuxagent.common.utils.textutil import remove_bom

url, container_id = sys.argv[1], sys.argv[2]
out = {"healthy": False, "value": "", "supported": False}
try:
    resp = restutil.http_get(url, {"x-ms-containerid": container_id}, max_retry=1, use_proxy=False)
    if restutil.request_failed(resp):
        out["value"] = restutil.read_response_error(resp)
        out["healthy"] = not restutil.request_failed_at_hostplugin(resp)
    else:
        body = ustr(remove_bom(resp.read()), encoding="utf-8")
        out["healthy"] = True
        out["supported"] = "2015-09-01" in body
except HttpError as e:
    out["http_error"] = str(e)
print(json.dumps(out))
