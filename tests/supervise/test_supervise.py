#!/usr/bin/env python3
"""onair-supervise keeping real processes running.

One supervisor runs a list of small programs that each behave as a role
can: one that runs until stopped, one that crashes now and then, one that
exits 0, one with a configuration error (exit 2), one that cannot be run,
one that ignores SIGTERM, and one that opens a port late (ready=tcp: the
one after it must wait). The test waits on the supervisor's log and on the
processes themselves, then stops it with SIGINT as a terminal's Ctrl-C
would (to its whole process group) and checks that nothing is left.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from station import Tap, free_port, log, running  # noqa: E402



class Supervisor:
    def __init__(self, exe, d, lines, *opts):
        self.d = d
        self.procfile = os.path.join(d, "procs")
        with open(self.procfile, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log_path = os.path.join(d, "supervise.log")
        self.logf = open(self.log_path, "wb")
        # A session of its own, as a shell gives a foreground job: the test
        # then signals the whole group as a terminal would.
        self.proc = subprocess.Popen([exe, "--log-dir", os.path.join(d, "logs")] + list(opts)
                                     + [self.procfile], stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, count=1, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            found = re.findall(pattern, self.text(), re.M)
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return re.findall(pattern, self.text(), re.M)

    def pid_of(self, name):
        """The pid of the current run of name, from the log."""
        found = re.findall(r"(?:started|restarted) %s \(pid (\d+)" % name, self.text())
        return int(found[-1]) if found else None


def main():
    exe = sys.argv[1]
    tap = Tap()
    d = tempfile.mkdtemp(prefix="onair-supervise-")
    late_port = free_port()
    marker = os.path.join(d, "after-ready")
    server = ("import socket,time; time.sleep(1.5); s=socket.socket(); "
              "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
              "s.bind(('127.0.0.1', %d)); s.listen(); time.sleep(1000)" % late_port)
    lines = [
        "# each kind of process",
        "steady -- sleep 1000",
        "late ready=tcp:%d -- %s -c \"%s\"" % (late_port, sys.executable, server),
        "after -- sh -c 'touch %s; exec sleep 1000'" % marker,
        "crashy -- sh -c 'sleep 0.3; kill -9 $$'",
        "clean -- sh -c 'exit 0'",
        "config -- sh -c 'echo \"settings.ini:3: unknown setting\" >&2; exit 2'",
        "missing -- /nonexistent/onair-role",
        "stubborn -- sh -c 'trap \"\" TERM; while :; do sleep 0.2; done'",
    ]
    sv = Supervisor(exe, d, lines, "--backoff", "0.2,0.8", "--grace", "3", "--healthy", "2")
    try:
        # Order and readiness: "after" starts only once "late" accepts.
        found = sv.wait_log(r"late is ready \(port %d\)" % late_port)
        tap.ok(found, "the supervisor waits for a process's port (ready=tcp:)", sv.text())
        text = sv.text()
        ready_at = text.find("late is ready")
        after_at = text.find("started after ")
        tap.ok(0 <= ready_at < after_at, "the next process starts after it is ready",
               text[:2000])

        # A crash is restarted, with its signal named and a growing delay.
        restarts = sv.wait_log(r"crashy \(pid \d+\) killed by signal SIGKILL after [0-9.]+ s;"
                               r" restarting it in ([0-9.]+) s", 4)
        delays = [float(x) for x in restarts]
        log("crashy's restart delays:", delays)
        tap.ok(len(delays) >= 4, "a process killed by a signal is restarted, the signal named",
               sv.text()[-2000:])
        tap.ok(delays[:4] == [0.2, 0.4, 0.8, 0.8],
               "the delay doubles from the first to the longest", delays)

        tap.ok(sv.wait_log(r"clean \(pid \d+\) exited with status 0 after [0-9.]+ s; it is"
                           r" not restarted"),
               "a process that exits 0 is not restarted")
        tap.ok(sv.wait_log(r"ERROR \[supervise\] config \(pid \d+\) exited with status 2 .*"
                           r"a usage or configuration error; not restarting it \(see \S+/logs/"
                           r"config\.log\)"),
               "a configuration error is said and not restarted into a loop", sv.text())
        with open(os.path.join(d, "logs", "config.log")) as f:
            tap.ok("settings.ini:3: unknown setting" in f.read(),
                   "the process's own message is in its log")
        tap.ok(sv.wait_log(r"missing \(pid \d+\) exited with status 127 .*the program cannot"
                           r" be run"),
               "a program that cannot be run is said and not restarted")
        text = sv.text()
        tap.ok(len(re.findall(r"started (clean|config|missing) ", text)) == 3 and
               not re.search(r"restarted (clean|config|missing) ", text),
               "those three ran once each")

        # Killing a steady process from outside: it is restarted.
        old = sv.pid_of("steady")
        os.kill(old, signal.SIGKILL)
        tap.ok(sv.wait_log(r"restarted steady \(pid \d+"),
               "a steady process killed from outside is restarted", sv.text()[-1500:])
        new = sv.pid_of("steady")
        tap.ok(new != old and running(new), "the new steady process runs (pid %s)" % new)

        # Health resets the delay: steady runs 2 s (--healthy 2), dies, and
        # is back after the first delay again.
        old = new
        deadline = time.time() + 10
        while time.time() < deadline and not re.search(
                r"restarted steady \(pid \d+, restart 1\)", sv.text()):
            time.sleep(0.05)
        time.sleep(2.2)   # a healthy run, by the supervisor's own measure (--healthy 2)
        os.kill(old, signal.SIGKILL)
        found = sv.wait_log(r"steady \(pid %d\) killed by signal SIGKILL after ([0-9.]+) s;"
                            r" restarting it in ([0-9.]+) s" % old)
        tap.ok(found and float(found[0][0]) >= 2 and found[0][1] == "0.2",
               "after a healthy run the delay is back to the first", found)

        # Ctrl-C: SIGINT to the foreground group (the supervisor; every
        # process runs in its own group and is stopped by it).
        sv.wait_log(r"restarted steady \(pid \d+, restart 2\)")
        pids = {name: sv.pid_of(name) for name in ("steady", "late", "after", "stubborn")}
        log("pids before Ctrl-C:", pids)
        t0 = time.time()
        os.killpg(sv.proc.pid, signal.SIGINT)
        try:
            code = sv.proc.wait(15)
        except subprocess.TimeoutExpired:
            code = None
        took = time.time() - t0
        log("the supervisor stopped %.2f s after SIGINT (exit %s)" % (took, code))
        tap.ok(code == 0, "the supervisor exits 0 after Ctrl-C", sv.text()[-1500:])
        tap.ok(took < 10, "everything stopped within 10 s (%.1f s)" % took)
        left = [n for n, p in pids.items() if p and running(p)]
        tap.ok(not left, "no process is left", left)
        tap.ok(re.search(r"stubborn \(pid \d+\) stopped: killed by signal SIGKILL", sv.text()),
               "a process that ignores SIGTERM is killed after the grace", sv.text()[-800:])
        tap.ok(re.search(r"steady \(pid \d+\) stopped: killed by signal SIGTERM", sv.text()),
               "the others stop on SIGTERM")
        tap.ok(not re.search(r"restarted \S+ \(pid \d+\)", sv.text().split("SIGINT: stopping")[-1]),
               "nothing is restarted while stopping")
        # The port of "late" is free again.
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", late_port))
                freed = True
            except OSError:
                freed = False
        tap.ok(freed, "the stopped process's port is free")
    finally:
        if sv.proc.poll() is None:
            os.killpg(sv.proc.pid, signal.SIGKILL)
        subprocess.run(["rm", "-rf", d])

    # Bad input: the process list is checked before anything starts.
    d = tempfile.mkdtemp(prefix="onair-supervise-")
    try:
        bad = os.path.join(d, "procs")
        with open(bad, "w") as f:
            f.write("ok -- true\nNot-A-Name -- true\n")
        r = subprocess.run([exe, bad], capture_output=True, text=True, timeout=10)
        tap.ok(r.returncode == 2 and "procs: line 2: 'Not-A-Name' is not a name" in r.stderr,
               "a bad process list is refused with its line (exit 2)", r.stderr)
        r = subprocess.run([exe, os.path.join(d, "none")], capture_output=True, text=True,
                           timeout=10)
        tap.ok(r.returncode == 2 and "cannot read" in r.stderr, "a missing list is refused",
               r.stderr)
        r = subprocess.run([exe, "--backoff", "5,1", bad], capture_output=True, text=True,
                           timeout=10)
        tap.ok(r.returncode == 2 and "bad value '5,1'" in r.stderr,
               "a backoff whose longest delay is shorter than its first is refused", r.stderr)
    finally:
        subprocess.run(["rm", "-rf", d])
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
