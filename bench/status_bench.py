#!/usr/bin/env python3
"""Event-to-browser latency of the live status: a playout event published
on NATS until the server-sent event that carries it reaches a client of
GET /api/v1/status/stream, against (baseline, same run) the same event
reaching a plain NATS subscriber. Prints p50, p99 and max of both and the
ratio of the medians.
Usage: bench/status_bench.py [N]     (default 200 events)
Needs a build in build/ and nats-server.
"""
import datetime
import http.client
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("ONAIR_BUILD_ROOT", os.path.join(HERE, "..", "build"))
os.environ.setdefault("ONAIR_SOURCE_ROOT", os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
from apilib import Api  # noqa: E402


def nats(port):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    f.readline()
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
    return s, f


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    api = Api("sqlite", "status-bench", env={"ONAIR_LOG_LEVEL": "warn"})
    try:
        api.add_user("g", "guest")
        c = api.client()
        c.login("g")
        sent = {}
        sse_lat, nats_lat = [], []
        # Baseline: a plain NATS subscriber of the same subject.
        sub, subf = nats(api.nats_port)
        sub.sendall(b"SUB onair.events.bench 1\r\nPING\r\n")
        while not subf.readline().startswith(b"PONG"):
            pass

        def read_nats():
            while len(nats_lat) < n:
                line = subf.readline()
                if line.startswith(b"MSG"):
                    data = subf.read(int(line.split()[-1]) + 2)
                    seq = json.loads(data)["seq"]
                    nats_lat.append(time.monotonic() - sent[seq])
                elif line.startswith(b"PING"):
                    sub.sendall(b"PONG\r\n")
        conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
        conn.request("GET", "/api/v1/status/stream", headers={"Cookie": c.cookie})
        resp = conn.getresponse()
        got = threading.Event()
        state = {"want": None}

        def read_sse():
            while True:
                line = resp.fp.readline()
                if not line:
                    return
                if line.startswith(b"data: "):
                    doc = json.loads(line[6:])
                    for i in doc["instances"]:
                        if i["instance"] == "bench" and i["snapshot_revision"] == state["want"]:
                            sse_lat.append(time.monotonic() - sent[state["want"]])
                            got.set()
        threading.Thread(target=read_nats, daemon=True).start()
        threading.Thread(target=read_sse, daemon=True).start()
        pub, _ = nats(api.nats_port)
        time.sleep(0.5)
        for seq in range(1, n + 1):
            at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            ev = json.dumps({"type": "event", "version": 1, "instance": "bench", "seq": seq,
                             "at": at, "event": "heartbeat", "source": "schedule",
                             "snapshot_revision": seq}).encode()
            got.clear()
            state["want"] = seq
            sent[seq] = time.monotonic()
            pub.sendall(b"PUB onair.events.bench %d\r\n" % len(ev) + ev + b"\r\n")
            got.wait(5)
            time.sleep(0.01)
        time.sleep(0.5)
        ms = lambda x: x * 1000  # noqa: E731
        for name, xs in (("NATS subscriber (baseline)", nats_lat), ("SSE client", sse_lat)):
            print("%-28s n=%d  p50 %.2f ms  p99 %.2f ms  max %.2f ms" % (
                name, len(xs), ms(pct(xs, 50)), ms(pct(xs, 99)), ms(max(xs))))
        print("ratio of medians (SSE / NATS): %.1f" % (pct(sse_lat, 50) / pct(nats_lat, 50)))
    finally:
        api.close()


if __name__ == "__main__":
    main()
