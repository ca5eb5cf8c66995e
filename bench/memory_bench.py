#!/usr/bin/env python3
"""Memory of every process of a running station, before and after work.

Starts the station `make run` starts (scripts/run-station.sh, on free ports
in a temporary directory), waits until it is on air, and reads the
resident memory (VmRSS) of each process: the api, worker, messages and
playout roles, NATS, Icecast and Liquidsoap. Then it works the station
for MINUTES (default 10): a compressed hour of a busy station, with
ten Icecast listeners and one HLS listener throughout, uploads (a new
file every 10 s, which the worker analyses), library, schedule, status
and now-playing reads (about 8 requests a second), and a playlist made and
deleted every 5 s; messages compiles and publishes the schedule on its
timer meanwhile, and playout takes each revision in. At
the end it reads the memory again and prints, for each process, the
memory at the start (the baseline), at the end, its peak (VmHWM), and the
ratio end / start. Nothing fails on a figure.

    bench/memory_bench.py [MINUTES]

Needs a build in build/ (or ONAIR_BUILD_ROOT) and the packages of
`make run`.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("ONAIR_BUILD_ROOT", os.path.join(HERE, "..", "build"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
from station import HlsListener, IcecastListener, wait_for  # noqa: E402
from test_run_station import RunStation  # noqa: E402
from apilib import Client  # noqa: E402

ROLES = ["api", "worker", "messages", "playout", "nats", "icecast"]


def memory(pid):
    """(VmRSS, VmHWM) of pid in MiB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return (int(fields["VmRSS"].split()[0]) / 1024.0,
                int(fields["VmHWM"].split()[0]) / 1024.0)
    except (OSError, KeyError, ValueError):
        return None


def processes(st):
    pids = {}
    for role in ROLES:
        p = st.pids(role)
        if p:
            pids[role] = p[-1]
    liq = st.liquidsoap_pid()
    if liq:
        pids["liquidsoap"] = liq
    return pids


class Port:
    """What apilib's Client wants of an Api: its port, and a recorder."""

    def __init__(self, port):
        self.port = port

    def record(self, *args):
        pass


def secret(st, name):
    with open(os.path.join(st.state, "secrets")) as f:
        for line in f:
            if line.startswith(name + "="):
                return line.strip().split("=", 1)[1]
    return None


def tone(path, freq):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=%d:duration=20" % freq, "-ac", "2", "-b:a", "128k", path],
                   check=True)


def work(st, minutes, counts, stop):
    """The busy station: uploads, reads, playlist edits, status."""
    c = Client(Port(st.ports["api"]))
    r = c.login("admin", secret(st, "admin_password"))
    if r.status != 200:
        raise SystemExit("cannot log in: %s" % r)
    tmp = os.path.join(st.d, "uploads")
    os.makedirs(tmp, exist_ok=True)
    end = time.time() + minutes * 60
    next_upload = next_edit = 0.0
    n = 0
    while time.time() < end and not stop.is_set():
        now = time.time()
        if now >= next_upload:
            path = os.path.join(tmp, "t%d.mp3" % n)
            tone(path, 200 + (n * 37) % 1500)
            with open(path, "rb") as f:
                r = c.post("/api/v1/files?filename=t%d.mp3" % n, raw=f.read(),
                           headers={"Content-Type": "audio/mpeg"})
            counts["uploads"] += r.status in (200, 201)
            os.unlink(path)
            n += 1
            next_upload = now + 10
        if now >= next_edit:
            r = c.post("/api/v1/playlists", {"name": "bench %d" % n})
            if r.status == 201:
                c.delete("/api/v1/playlists/%d" % r.json["id"])
                counts["edits"] += 1
            next_edit = now + 5
        for path in ("/api/v1/files?limit=50", "/api/v1/schedule", "/api/v1/status",
                     "/api/v1/public/now-playing"):
            counts["reads"] += c.get(path).status == 200
        time.sleep(0.4)


def main():
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    d = tempfile.mkdtemp(prefix="onair-memory-")
    os.chmod(d, 0o755)
    st = RunStation(d)
    listeners = []
    try:
        wait_for("the station on air", lambda: "is on air" in st.text() or
                 st.proc.poll() is not None, 240)
        if st.proc.poll() is not None:
            raise SystemExit(st.text()[-2000:])
        wait_for("playout on the schedule", lambda: "on air: schedule" in st.role_log("playout"),
                 60)
        time.sleep(10)
        pids = processes(st)
        start = {name: memory(pid) for name, pid in pids.items()}
        listeners = [IcecastListener("http://127.0.0.1:%d/live.mp3" % st.ports["icecast"])
                     for _ in range(10)]
        listeners.append(HlsListener("http://127.0.0.1:%d/hls/live.m3u8" % st.ports["hls"]))
        counts = {"uploads": 0, "edits": 0, "reads": 0}
        stop = threading.Event()
        t0 = time.time()
        work(st, minutes, counts, stop)
        took = time.time() - t0
        now_pids = processes(st)
        end = {name: memory(pid) for name, pid in now_pids.items()}
        print("memory_bench: %.1f min of work: %d uploads, %d playlist edits, %d reads, "
              "10 Icecast + 1 HLS listeners" % (took / 60, counts["uploads"], counts["edits"],
                                                counts["reads"]))
        print("%-11s %10s %10s %10s %8s" % ("process", "start MiB", "end MiB", "peak MiB",
                                             "end/start"))
        for name in ROLES + ["liquidsoap"]:
            a, b = start.get(name), end.get(name)
            same = pids.get(name) == now_pids.get(name)
            if not a or not b:
                print("%-11s %10s" % (name, "gone"))
                continue
            print("%-11s %10.1f %10.1f %10.1f %8.2f%s" % (
                name, a[0], b[0], b[1], b[0] / a[0], "" if same else "  (restarted meanwhile)"))
        ours = sum(end[n][0] for n in ("api", "worker", "messages", "playout") if end.get(n))
        theirs = sum(end[n][0] for n in ("liquidsoap", "icecast", "nats") if end.get(n))
        print("onair's four roles: %.1f MiB; Liquidsoap, Icecast and NATS: %.1f MiB (ratio %.2f)"
              % (ours, theirs, ours / theirs if theirs else 0))
        print(json.dumps({"start": start, "end": end, "counts": counts}))
    finally:
        for lst in listeners:
            lst.stop()
        if st.proc.poll() is None:
            st.interrupt()
            try:
                st.proc.wait(20)
            except subprocess.TimeoutExpired:
                pass
        st.close()


if __name__ == "__main__":
    main()
