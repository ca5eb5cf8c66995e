#!/usr/bin/env python3
"""Several `onair messages`: exactly one leads (publishes the schedule), the
lead moves within 3 s of its holder dying, and a leader that was frozen
past its lease steps down without publishing.

One nats-server, one SQLite database. A starts and leads; B starts and
follows. A is killed (SIGKILL): B leads within 3 s. C starts and follows.
B is frozen (SIGSTOP) past the lease: C leads. B is continued (SIGCONT):
it steps down and publishes nothing. Each instance's metrics say whether
it leads; every revision of the schedule is published once.
"""
import datetime
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from station import (ONAIR, Tap, free_port, log, metric_value, scrape_metrics,  # noqa: E402
                     remove_test_dir, spawn, stop, wait_for, wait_tcp)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def stamp(line):
    t = datetime.datetime.strptime(line.split()[0][:26], "%Y-%m-%dT%H:%M:%S.%f")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def first(path, pattern, after=0.0):
    """The time of the first log line matching pattern after `after`, or None."""
    for line in read(path).splitlines():
        if re.search(pattern, line):
            try:
                t = stamp(line)
            except ValueError:
                continue
            if t >= after:
                return t
    return None


def main():
    tap = Tap()
    d = tempfile.mkdtemp(prefix="onair-leader-")
    procs = {}
    try:
        port = free_port()
        nats = spawn(["nats-server", "-a", "127.0.0.1", "-p", str(port), "-js", "-sd",
                      os.path.join(d, "nats")], os.path.join(d, "nats.log"))
        procs["nats"] = nats
        wait_tcp(port)
        env = dict(os.environ, ONAIR_NATS_URL="nats://127.0.0.1:%d" % port,
                   ONAIR_DATABASE_URL="sqlite://" + os.path.join(d, "onair.db"),
                   ONAIR_STORAGE_PATH=os.path.join(d, "media"), ONAIR_LOG_LEVEL="info")
        os.makedirs(env["ONAIR_STORAGE_PATH"])
        subprocess.run([ONAIR, "migrate"], env=env, check=True, capture_output=True)
        mports = {}

        def start(name):
            mports[name] = free_port()
            procs[name] = spawn([ONAIR, "messages"], os.path.join(d, name + ".log"),
                                env=dict(env, ONAIR_METRICS_PORT=str(mports[name])))

        def logf(name):
            return os.path.join(d, name + ".log")

        def leads(name):
            f = scrape_metrics("http://127.0.0.1:%d/metrics" % mports[name])
            return metric_value(f, "onair_messages_leader")

        start("a")
        wait_for("a to lead", lambda: first(logf("a"), r"\[leader\] leading"), 30)
        start("b")
        wait_for("b running", lambda: first(logf("b"), r"running; schedule"), 30)
        wait_for("b's metrics", lambda: leads("b") is not None, 10)
        t_b = time.time()
        wait_for("a lease or two", lambda: time.time() > t_b + 3, 10)
        tap.ok(leads("a") == 1 and leads("b") == 0 and not first(logf("b"), r"leading:"),
               "one instance leads, the other follows", (leads("a"), leads("b")))
        tap.ok(first(logf("a"), r"published schedule revision") is not None and
               first(logf("b"), r"published schedule revision") is None,
               "only the leader publishes the schedule")

        killed = time.time()
        stop(procs.pop("a"), signal.SIGKILL)
        took = None
        try:
            t = wait_for("b to lead", lambda: first(logf("b"), r"\[leader\] leading"), 15)
            took = t - killed
        except TimeoutError:
            pass
        log("the lead moved %s s after the leader died" % ("%.2f" % took if took else "never"))
        tap.ok(took is not None and took < 3, "the lead moves within 3 s of the leader dying",
               took)

        start("c")
        wait_for("c running", lambda: first(logf("c"), r"running; schedule"), 30)
        wait_for("c's metrics", lambda: leads("c") is not None, 10)
        tap.ok(leads("b") == 1 and leads("c") == 0, "a newcomer follows the leader",
               (leads("b"), leads("c")))
        frozen = time.time()
        os.killpg(procs["b"].pid, signal.SIGSTOP)
        try:
            wait_for("c to lead", lambda: first(logf("c"), r"\[leader\] leading"), 15)
        finally:
            os.killpg(procs["b"].pid, signal.SIGCONT)
        thawed = time.time()
        wait_for("b to step down", lambda: first(logf("b"), r"no longer leading", frozen), 10)
        wait_for("b's next ticks", lambda: time.time() > thawed + 2, 5)
        tap.ok(first(logf("b"), r"published schedule revision", frozen) is None and
               leads("b") == 0 and leads("c") == 1,
               "a leader frozen past its lease steps down and publishes nothing",
               (leads("b"), leads("c")))
        revs = []
        for name in ("a", "b", "c"):
            revs += re.findall(r"published schedule revision (\d+)", read(logf(name)))
        tap.ok(revs and len(revs) == len(set(revs)), "each revision is published once", revs)
        for name in ("b", "c"):
            stop(procs[name])
            tap.ok(procs.pop(name).returncode == 0, "%s stops cleanly" % name)
    except Exception:  # noqa: BLE001 - reported as a failed check
        import traceback
        tap.ok(False, "the test ran to the end", traceback.format_exc())
    finally:
        for p in procs.values():
            try:
                os.killpg(p.pid, signal.SIGCONT)
            except (ProcessLookupError, PermissionError):
                pass
            stop(p)
        remove_test_dir(d)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
