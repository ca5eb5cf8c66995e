#!/usr/bin/env python3
"""`make run`'s station keeps playing while each of its processes is killed.

scripts/run-station.sh (what `make run` calls) starts the whole station
under onair-supervise, on free ports and in a directory of its own. One
Icecast listener (reconnecting when the mount goes) listens throughout.
Each role is then killed with SIGKILL in turn: api, worker, messages,
NATS, playout, Liquidsoap (playout's child, which playout restarts, not the
supervisor) and Icecast. After each kill the test waits for the role to be
back (a new process, and that process's own sign that it works: the api
answers /health, the worker and messages say they run, the others
reconnect to NATS, playout's Liquidsoap is on air again), then for the
stream to have played on for a few seconds.

What the listener heard is placed in wall-clock time and the longest
silence (no data, no connection, or audio below -50 dBFS) after each kill
is printed. Killing a create-block role, NATS or playout must not be heard
at all: the listener keeps its connection and never goes a second without
sound. Killing Liquidsoap or Icecast drops the listener (Icecast loses the
source or stops); the stream must be back within BACK_WITHIN seconds, as in
the restarts test.

Last, SIGINT to the whole process group, as Ctrl-C in a terminal: every
process stops within 10 s (the supervisor's limit is 8 s, then SIGKILL),
none is left, and no control socket or pid file stays in the state
directory.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from station import (BUILD, SOURCE, IcecastListener, Tap, decode_to_pcm, free_port,  # noqa: E402
                     log, running, wait_for, window_levels)

BACK_WITHIN = 10.0   # s, Liquidsoap or Icecast killed: the stream is back
QUIET_MAX = 1.0      # s, any other role killed: the longest silence allowed
SILENT_DB = -50.0
PLAY_ON = 3.0        # s of stream after a role is back, before the next kill
ROLES = ["api", "worker", "messages", "nats", "playout", "liquidsoap", "icecast"]
HEARD_ROLES = ("liquidsoap", "icecast")



class RunStation:
    def __init__(self, d):
        self.d = d
        self.state = os.path.join(d, "run")
        self.ports = {k: free_port() for k in ("nats", "icecast", "harbor", "hls", "api")}
        env = dict(os.environ, ONAIR_RUN_DIR=self.state)
        for k, v in self.ports.items():
            env["ONAIR_RUN_%s_PORT" % k.upper()] = str(v)
        self.out_path = os.path.join(d, "run-station.out")
        self.out = open(self.out_path, "wb")
        # Its own session, as a terminal's foreground job: SIGINT goes to the
        # group, as Ctrl-C would send it.
        self.proc = subprocess.Popen(["bash", os.path.join(SOURCE, "scripts", "run-station.sh"),
                                      os.path.abspath(BUILD)], stdout=self.out,
                                     stderr=subprocess.STDOUT, env=env, cwd=SOURCE,
                                     start_new_session=True)
        self.pgid = self.proc.pid
        self.started_at = time.time()

    def text(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def role_log(self, name):
        try:
            with open(os.path.join(self.state, "logs", name + ".log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def pids(self, name):
        """Every pid the supervisor started for name, oldest first."""
        return [int(p) for p in re.findall(r"started %s \(pid (\d+)[,)]" % name, self.text())]

    def liquidsoap_pid(self):
        """The pid in playout's liquidsoap.pid when that process runs this
        station's script (a pid reused by another test's process is not
        ours to kill)."""
        try:
            with open(os.path.join(self.state, "playout", "liquidsoap.pid")) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError):
            return None
        script = os.path.join(self.state, "playout", "onair.liq").encode()
        return pid if script in argv and running(pid) else None

    def health(self):
        try:
            url = "http://127.0.0.1:%d/api/v1/health" % self.ports["api"]
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def interrupt(self):
        os.killpg(self.pgid, signal.SIGINT)

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait(10)
        lp = self.liquidsoap_pid()
        if lp:
            os.kill(lp, signal.SIGKILL)
        self.out.close()


def silences(ice):
    """Silent stretches as (wall start, wall end): no connection, no data, or
    audio below SILENT_DB. A connection's audio is placed by its reads: the
    byte offset of a window is mapped to the time the read holding it came
    in (the burst Icecast sends on connect is placed at the first byte)."""
    out = []
    conns = [c for c in ice.connections if c.reads]
    for prev, nxt in zip(conns, conns[1:]):
        out.append((prev.reads[-1][0], nxt.first_byte))
    for c in conns:
        for a, b in zip(c.reads, c.reads[1:]):
            out.append((a[0], b[0]))
        pcm = decode_to_pcm(bytes(c.data), "mp3")
        secs = len(pcm) / 2 / 8000.0
        if secs <= 0:
            continue
        rate = len(c.data) / secs  # bytes of MP3 per second of audio

        def wall(t, reads=c.reads, rate=rate):
            want = t * rate
            for when, got in reads:
                if got >= want:
                    return when
            return reads[-1][0]
        quiet_from = None
        rows = window_levels(pcm, window_ms=100)
        for t, level, _ in rows + [(secs, 0.0, None)]:
            if level < SILENT_DB:
                if quiet_from is None:
                    quiet_from = t
            elif quiet_from is not None:
                out.append((wall(quiet_from), wall(t)))
                quiet_from = None
    return out


def longest_silence(spans, t0, t1):
    return max([min(b, t1) - max(a, t0) for a, b in spans if b > t0 and a < t1] + [0.0])


def check_status(tap, st):
    """`onair status` on the running station: healthy; with the worker
    stopped (SIGSTOP: alive, but answering nothing), a warning that names
    it; with playout stopped, critical. Each process is let go again."""
    def status():
        env = dict(os.environ, ONAIR_NATS_URL="nats://127.0.0.1:%d" % st.ports["nats"],
                   ONAIR_DATABASE_URL="sqlite://%s/onair.db" % st.state)
        onair = os.path.join(BUILD, "src", "onair", "onair")
        r = subprocess.run([onair, "status", "--json"], capture_output=True, text=True, env=env,
                           timeout=60)
        try:
            doc = json.loads(r.stdout)
        except ValueError:
            doc = {}
        screen = subprocess.run([onair, "status"], capture_output=True, text=True, env=env,
                                timeout=60)
        return r.returncode, doc, screen

    code, doc, screen = status()
    log(screen.stdout)
    roles = sorted({r.get("role") for r in doc.get("roles", [])})
    p = (doc.get("playouts") or [{}])[0]
    # A slow start (ASan) plays the safety loop until the first item is
    # ready: that is reported, and is the only problem allowed here.
    others = [x["text"] for x in doc.get("problems", [])
              if not x["text"].endswith("s on the safety source in the last hour")]
    safety_s = max(list((doc.get("dead_air_s") or {}).values()) + [0])
    tap.ok(code in (0, 1) and not others and (code == 0) == (safety_s < 5) and
           safety_s <= time.time() - st.started_at and screen.returncode == code and
           screen.stdout.startswith("onair status: %s" % ("OK" if code == 0 else "WARNING")),
           "onair status: healthy (but for the start-up on the safety source), exit %d" % code,
           screen.stdout + screen.stderr)
    tap.ok(roles == ["api", "messages", "playout", "worker"], "onair status: every role answers",
           roles)
    tap.ok(p.get("source") == "schedule" and p.get("outputs") and
           all(o.get("up") for o in p["outputs"]) and (p.get("on_air") or {}).get("title"),
           "onair status: on the schedule, the item's title, every output up", p)
    tap.ok(doc.get("database", {}).get("ok") and doc.get("nats", {}).get("ok") and
           "tasks_waiting" in doc.get("queue", {}),
           "onair status: database and NATS reachable, the queue's backlog", doc)

    for role, want_code, want in (("worker", 1, "no worker answers"),
                                  ("playout", 2, "no playout answers")):
        pid = st.pids(role)[-1]
        os.kill(pid, signal.SIGSTOP)
        try:
            code, doc, screen = status()
        finally:
            os.kill(pid, signal.SIGCONT)
        texts = [x.get("text") for x in doc.get("problems", [])]
        log(screen.stdout)
        tap.ok(code == want_code and want in texts and screen.returncode == want_code and
               ("%s DOWN" % role) in " ".join(screen.stdout.split()),
               "onair status with the %s stopped: exit %d, '%s'" % (role, want_code, want),
               "exit %d, %s" % (code, texts))


def main():
    tap = Tap()
    d = tempfile.mkdtemp(prefix="onair-run-station-")
    os.chmod(d, 0o755)  # Icecast runs as icecast2 under root: it reads its config here
    st = RunStation(d)
    ice = None
    try:
        wait_for("the station on air", lambda: "is on air" in st.text() or
                 "is not up" in st.text() or st.proc.poll() is not None, 240)
        tap.ok(st.proc.poll() is None and "is on air" in st.text(),
               "scripts/run-station.sh starts the station", st.text()[-2000:])
        if st.proc.poll() is not None:
            return tap.done()
        wait_for("playout on air", lambda: "on air: schedule" in st.role_log("playout") or
                 st.proc.poll() is not None, 60)
        ice = IcecastListener("http://127.0.0.1:%d/live.mp3" % st.ports["icecast"],
                              reconnect=True)

        def played_on(since, seconds):
            """The current connection has brought `seconds` of audio since
            `since` (at the stream's 128 kbps)."""
            c = ice.connections[-1] if ice.connections else None
            if c is None or c.ended:
                return False
            before = [n for when, n in c.reads if when <= since]
            start = before[-1] if before else 0
            return len(c.data) - start >= seconds * 16000

        t = time.time()
        try:
            wait_for("the stream", lambda: played_on(t, PLAY_ON), 60)
        except TimeoutError:
            log("listened: %s" % ice.summary())
            log(st.role_log("playout")[-3000:])
            raise
        check_status(tap, st)

        kills = []
        for role in ROLES:
            if role == "liquidsoap":
                pid = st.liquidsoap_pid()
            else:
                pids = st.pids(role)
                pid = pids[-1] if pids else None
            if not pid or not running(pid):
                tap.ok(False, "%s: running before the kill" % role, "pid %s" % pid)
                continue
            marks = {r: len(st.role_log(r)) for r in ("api", "worker", "messages", "playout")}
            killed_at = time.time()
            os.kill(pid, signal.SIGKILL)
            if role == "liquidsoap":
                def back():
                    p = st.liquidsoap_pid()
                    return p is not None and p != pid
            else:
                def back():
                    p = st.pids(role)
                    return len(p) > 0 and p[-1] != pid and running(p[-1])
            try:
                wait_for("%s restarted" % role, back, 60)
                ok = True
            except TimeoutError as e:
                ok = False
                log(str(e))
            tap.ok(ok, "%s: killed, started again" % role)

            def new_log(r):
                return st.role_log(r)[marks[r]:]
            works = {
                "api": st.health,
                "worker": lambda: "[worker] running" in new_log("worker"),
                "messages": lambda: "[messages] running" in new_log("messages"),
                "nats": lambda: all("connected to" in new_log(r)
                                    for r in ("api", "worker", "messages", "playout")),
                "playout": lambda: "on air: schedule" in new_log("playout"),
                "liquidsoap": lambda: "on air: schedule" in new_log("playout"),
                "icecast": lambda: "output icecast:/live.mp3 is up" in new_log("playout"),
            }[role]
            try:
                wait_for("%s working" % role, works, 60)
                ok = True
            except TimeoutError:
                ok = False
            tap.ok(ok, "%s: back at work" % role)
            recovered = time.time()
            try:
                wait_for("the stream after %s" % role, lambda: played_on(recovered, PLAY_ON), 60)
            except TimeoutError as e:
                log(str(e))
            kills.append((role, killed_at, time.time()))

        stopped_at = time.time()
        ice.stop()
        spans = silences(ice)
        log("listened: %s" % ice.summary())
        for role, t0, t1 in kills:
            quiet = longest_silence(spans, t0, t1)
            conns = [c for c in ice.connections if c.first_byte and t0 < c.first_byte < t1]
            log("%s killed: longest silence %.2f s, %d new connection(s)" %
                (role, quiet, len(conns)))
            if role in HEARD_ROLES:
                tap.ok(quiet < BACK_WITHIN, "%s killed: the stream is back within %d s" %
                       (role, BACK_WITHIN), "%.2f s" % quiet)
            else:
                tap.ok(quiet < QUIET_MAX and not conns,
                       "%s killed: the listener hears no gap and stays connected" % role,
                       "silence %.2f s, %d reconnection(s)" % (quiet, len(conns)))
        whole = longest_silence(spans, kills[0][1] - PLAY_ON, stopped_at) if kills else 0
        log("longest silence over the whole run: %.2f s" % whole)

        # Ctrl-C.
        seen = [p for r in ROLES if r != "liquidsoap" for p in st.pids(r)]
        liq = st.liquidsoap_pid()
        t0 = time.time()
        st.interrupt()
        try:
            st.proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        took = time.time() - t0
        log("Ctrl-C: the station stopped in %.2f s" % took)
        tap.ok(st.proc.poll() is not None and took < 10,
               "Ctrl-C stops the station within 10 s", "%.2f s" % took)
        left = [p for p in seen + ([liq] if liq else []) if running(p)]
        tap.ok(not left, "no process is left", left)
        stale = [n for n in ("liquidsoap.sock", "liquidsoap.pid")
                 if os.path.exists(os.path.join(st.state, "playout", n))]
        tap.ok(not stale, "no control socket or pid file is left", stale)
    finally:
        if ice is not None:
            ice.stop()
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
