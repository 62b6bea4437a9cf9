#!/usr/bin/python3
"""Test harness for the kvp sink: the real cloud-init, driven from Go tests.

Every mode uses the installed cloud-init's HyperVKvpReportingHandler
(Debian package cloud-init, 22.4):

  kvp_decode.py decode POOL
      Reads POOL with the handler's own _iterate_kvps (under flock, as
      cloud-init does; it raises on an undecodable record) and prints one
      JSON object: {"records": [{"key", "value", "json_ok"}],
      "events": [{"key", "slices", "name", "type", "ts", ["result"], "msg"}],
      "partial": BYTES}. Slices are reassembled as cloud-init's tooling
      does: the raw text between '"msg":"' and the final '"}' of each slice,
      joined in msg_i order and JSON-decoded once.

  kvp_decode.py encode POOL
      Reads JSON lines from stdin, {"prefix", "incarnation", "uuid",
      "type", "name", "ts_us", ["result"], "msg"}, encodes each with the
      handler's _encode_event (uuid4 replaced by the given uuid) and appends
      them with its _append_kvp_item (flock, as cloud-init does).

  kvp_decode.py write POOL COUNT TAG
      Publishes COUNT events through a real handler (its publisher thread,
      as cloud-init does at boot), some long enough to be sliced, some not
      ASCII, then flushes. Prints the events as JSON lines
      {"name", "type", "msg"}.

  kvp_decode.py lock POOL flock|fcntl
      Takes cloud-init's flock, or hv_kvp_daemon's kind of lock (a POSIX
      record lock, F_SETLKW F_WRLCK on the whole file), prints "locked",
      and holds it until stdin is closed.
"""
import fcntl
import json
import os
import sys
import time
import types

try:
    import cloudinit  # noqa: F401
except ImportError:  # a python3 other than Debian's: use Debian's copy
    sys.path.append("/usr/lib/python3/dist-packages")

from cloudinit.reporting import events  # noqa: E402
from cloudinit.reporting import handlers  # noqa: E402

H = handlers.HyperVKvpReportingHandler


def bare_handler(path):
    """A handler without __init__: no truncation, no publisher thread."""
    h = object.__new__(H)
    h._kvp_file_path = path
    return h


def decode(path):
    h = bare_handler(path)
    records = []
    groups = {}
    order = []
    for item in h._iterate_kvps(0):
        k, v = item["key"], item["value"]
        try:
            json.loads(v)
            ok = True
        except ValueError:
            ok = False
        records.append({"key": k, "value": v, "json_ok": ok})
        start = v.find('"msg":"')
        if start < 0 or not v.endswith('"}'):
            continue
        meta = json.loads(v[:start] + '"msg":""}')
        raw = v[start + 7: -2]
        if "msg_i" in meta:
            base, _, n = k.rpartition("|")
            if base not in groups:
                groups[base] = (meta, [])
                order.append(base)
            groups[base][1].append((int(n), raw))
        else:
            groups[k] = (meta, [(None, raw)])
            order.append(k)
    out = []
    for base in order:
        meta, parts = groups[base]
        parts.sort(key=lambda p: -1 if p[0] is None else p[0])
        sliced = parts[0][0] is not None
        if sliced and [p[0] for p in parts] != list(range(len(parts))):
            raise SystemExit("event %s: slices %s" % (base, [p[0] for p in parts]))
        ev = {"key": base, "slices": len(parts) if sliced else 0,
              "name": meta["name"], "type": meta["type"], "ts": meta["ts"],
              "msg": json.loads('"' + "".join(p[1] for p in parts) + '"')}
        if "result" in meta:
            ev["result"] = meta["result"]
        out.append(ev)
    size = os.path.getsize(path)
    json.dump({"records": records, "events": out,
               "partial": size % H.HV_KVP_RECORD_SIZE}, sys.stdout)
    sys.stdout.write("\n")


def encode(path):
    h = bare_handler(path)
    current = [None]
    handlers.uuid = types.SimpleNamespace(uuid4=lambda: current[0])
    data = []
    for line in sys.stdin:
        if not line.strip():
            continue
        e = json.loads(line)
        h.event_key_prefix = "%s|%d" % (e["prefix"], e["incarnation"])
        current[0] = e["uuid"]
        ev = events.ReportingEvent(e["type"], e["name"], e["msg"],
                                   timestamp=e["ts_us"] / 1e6)
        if "result" in e:
            ev.result = e["result"]
        data += h._encode_event(ev)
    h._append_kvp_item(data)


def write(path, count, tag):
    h = H(kvp_file_path=path)
    for i in range(count):
        kind = i % 4
        if kind == 0:
            msg = "short %s %d" % (tag, i)
        elif kind == 1:
            msg = ("long %s %d " % (tag, i)) + "0123456789" * 150
        elif kind == 2:
            msg = "non-ASCII %s %d: h\u00e9llo w\u00f6rld \u2603 \U0001F600 \"q\"" % (tag, i)
        else:
            msg = ("mixed %s %d " % (tag, i)) + "\u00e9\"\\\n" * 400
        name = "%s/%d" % (tag, i)
        h.publish_event(events.ReportingEvent("diagnostic", name, msg))
        sys.stdout.write(json.dumps({"name": name, "type": "diagnostic", "msg": msg}) + "\n")
        if i % 8 == 7:
            time.sleep(0.002)  # let the publisher thread append a batch
    h.flush()


def lock(path, kind):
    with open(path, "ab") as f:
        if kind == "flock":
            fcntl.flock(f, fcntl.LOCK_EX)
        else:
            fcntl.lockf(f, fcntl.LOCK_EX)
        sys.stdout.write("locked\n")
        sys.stdout.flush()
        sys.stdin.read()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    mode, path = argv[1], argv[2]
    if mode == "decode":
        decode(path)
    elif mode == "encode":
        encode(path)
    elif mode == "write":
        write(path, int(argv[3]), argv[4])
    elif mode == "lock":
        lock(path, argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
