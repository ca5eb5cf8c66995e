#!/usr/bin/env python3
"""From an edit in the web API to the new schedule at playout.

Each sample is the time from the API's answer to an edit of a show
instance (placing a file, then removing it, in turn) until the playout
instance logs the new schedule revision: `onair messages` hears of the
change, waits for the edits to settle (150 ms quiet, 600 ms at most),
compiles the window, publishes it; playout takes it.

Baseline, same run: the same playout taking a snapshot put straight into
the queue's key (the transport and playout's own checks, nothing of the
create block). Prints p50, p99 and max of both and the ratio of the
medians.

Usage: bench/edit_to_air.py [N]     (default 50 edits)
Needs a build in build/, nats-server, icecast2, liquidsoap and ffmpeg.
"""
import datetime
import json
import os
import re
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("ONAIR_BUILD_ROOT", os.path.join(HERE, "..", "build"))
os.environ.setdefault("ONAIR_SOURCE_ROOT", os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from apilib import Api, wait_analysed  # noqa: E402
from station import ONAIR, Station, make_tone, spawn, stop  # noqa: E402

V1 = "/api/v1"
US = 1000000


class LogWatch:
    """The schedule revisions a playout logs, read as the log grows."""

    def __init__(self, path):
        self.f = open(path, errors="replace")
        self.seen = []   # (unix time, revision)

    def poll(self):
        for line in self.f.readlines():
            m = re.match(r"^(\S+) INFO .*schedule revision (\d+) from", line)
            if m:
                t = datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
                self.seen.append((t.timestamp(), int(m.group(2))))

    def wait_above(self, revision, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            self.poll()
            for t, r in self.seen:
                if r > revision:
                    return t, r
            time.sleep(0.002)
        raise RuntimeError("no revision above %d within %d s" % (revision, timeout))


def kv_put(port, data):
    """Put data into the schedule key (a JetStream KV put is a publish on
    its subject), with a reply subject so the server acknowledges it."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _ack 1\r\n')
        s.sendall(b"PUB $KV.onair_schedule.snapshot _ack %d\r\n" % len(data) + data + b"\r\n")
        while not f.readline().startswith(b"MSG"):
            pass


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    api = Api("sqlite", "edit-bench", env={"ONAIR_LOG_LEVEL": "warn"})
    st = Station("edit-bench")
    st.nats_port = api.nats_port
    procs = []
    try:
        procs.append(spawn([ONAIR, "worker"], os.path.join(st.dir, "worker.log"), env=api.env))
        api.add_user("pm", "program_manager")
        pm = api.client()
        pm.login("pm")
        data = open(make_tone(os.path.join(st.dir, "t.mp3"), 440, 3), "rb").read()
        fid = pm.post(V1 + "/files?filename=t.mp3", raw=data).json["file"]["id"]
        wait_analysed(pm, [fid])
        show = pm.post(V1 + "/shows", {"name": "Bench"}).json["id"]
        start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
        pm.post(V1 + "/shows/%d/recurrences" % show, {
            "frequency": "weekly", "weekdays": 127, "start_date": start.date().isoformat(),
            "start_time": start.strftime("%H:00"), "duration_us": 3600 * US,
            "timezone": "UTC"})
        frm = start.strftime("%Y-%m-%dT00:00:00Z")
        to = (start + datetime.timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
        inst = pm.get(V1 + "/instances?from=%s&to=%s" % (frm, to)).json["items"][0]

        st.start_icecast()
        st.start_playout("a", extra_env={"ONAIR_LOG_LEVEL": "info"})
        st.wait_on_air("a")
        watch = LogWatch(st.playouts["a"]["log"])

        # Baseline: snapshots put straight into the key.
        snap = st.snapshot([os.path.join(st.dir, "t.mp3")], time.time() + 3600)
        base = []
        revision = 1000
        for _ in range(n):
            revision += 1
            snap["revision"] = revision
            body = json.dumps(snap).encode()
            t0 = time.time()
            kv_put(api.nats_port, body)
            t, _ = watch.wait_above(revision - 1)
            base.append(t - t0)
            time.sleep(0.05)

        # Edits through the API, compiled and published by onair messages.
        procs.append(spawn([ONAIR, "messages"], os.path.join(st.dir, "messages.log"),
                           env=api.env))
        watch.wait_above(revision, 30)
        time.sleep(1)
        watch.poll()
        revision = max(r for _, r in watch.seen)
        edits = []
        version = pm.get(V1 + "/instances/%d" % inst["id"]).json["version"]
        placed = None
        for i in range(n):
            if placed is None:
                r = pm.post(V1 + "/instances/%d/items" % inst["id"],
                            {"version": version, "file_id": fid})
                placed = r.json["item_ids"][0]
            else:
                r = pm.delete(V1 + "/schedule-items/%d?version=%d" % (placed, version))
                placed = None
            t0 = time.time()
            if r.status not in (201, 204):
                raise RuntimeError("edit %d: %s" % (i, r))
            version = r.json["version"] if r.status == 201 else version + 1
            t, revision = watch.wait_above(revision)
            edits.append(t - t0)
            time.sleep(0.05)

        ms = lambda x: x * 1000  # noqa: E731
        for name, xs in (("key put -> playout (baseline)", base),
                         ("API edit -> playout", edits)):
            print("%-31s n=%d  p50 %.1f ms  p99 %.1f ms  max %.1f ms" % (
                name, len(xs), ms(pct(xs, 50)), ms(pct(xs, 99)), ms(max(xs))))
        print("ratio of medians (edit / baseline): %.1f" % (pct(edits, 50) / pct(base, 50)))
    finally:
        for p in procs:
            stop(p)
        st.close()
        api.close()


if __name__ == "__main__":
    main()
