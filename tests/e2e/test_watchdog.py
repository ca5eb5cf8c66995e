#!/usr/bin/env python3
"""The dead-air watchdog acts on what is really sent, and sound comes back.

One playout, one Icecast server, a listener that reconnects. The watchdog
is set to act after 3 s of silence or of an output fault, and to give each
action 4 s. Four faults, made for real, in one schedule:

1. a scheduled file of digital silence: after 3 s the watchdog puts the
   station fallback (a 550 Hz file) on air; the schedule comes back with
   its next item, on time;
2. a silence item (silence the schedule asks for): no alarm, silence heard;
3. Icecast refusing the source (restarted with another source password):
   the watchdog restarts the outputs, then Liquidsoap; once Icecast takes
   the source again, the item is heard again;
4. a stuck Liquidsoap (SIGSTOP: no HLS segment, Icecast drops the source):
   the watchdog restarts the outputs, then Liquidsoap, and the item is
   heard again.

Each action must be in the playout's events (dead_air, with its cause) at
the right moment, and each claim about sound is checked in the audio the
listener recorded.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import (IcecastListener, Station, Tap, free_port, iso_to_unix,  # noqa: E402
                     log, make_tone, metric_value, scrape_metrics, wait_for)

FREQS = [440, 550, 660, 770, 880]
SILENCE_S, OUTPUT_S, ESCALATE_S = 3, 3, 4
WATCHDOG_ENV = {
    "ONAIR_WATCHDOG_SILENCE_S": str(SILENCE_S),
    "ONAIR_WATCHDOG_OUTPUT_S": str(OUTPUT_S),
    "ONAIR_WATCHDOG_ESCALATE_S": str(ESCALATE_S),
}


def make_silence(path, seconds):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "anullsrc=r=44100:cl=stereo", "-t", str(seconds), "-b:a", "128k", path],
                   check=True)
    return path


def dead_air(st, since=0.0):
    """(at, action, cause) of the playout's dead_air events after since."""
    out = []
    for e in st.events("a"):
        if e.get("event") == "dead_air" and iso_to_unix(e["at"]) >= since:
            out.append((iso_to_unix(e["at"]), e["action"], e["cause"]))
    return out


def output_actions(st, since, what, timeout):
    """Wait for the watchdog to restart Liquidsoap after since; log what it
    did meanwhile and return the actions taken for an output fault."""
    try:
        wait_for("the watchdog to restart Liquidsoap",
                 lambda: any(a == "restart_liquidsoap" for _t, a, _c in dead_air(st, since)),
                 timeout)
    except TimeoutError as e:
        log(str(e))
    ev = dead_air(st, since)
    log("while %s (s after):" % what, " ".join("%+.2f %s/%s" % (t - since, a, c)
                                               for t, a, c in ev))
    return [a for _t, a, c in ev if c == "output"]


def wait_heard(listener, t):
    """Wait (up to 30 s) until a connection opened after t has received 4 s."""
    try:
        wait_for("the listener to hear 4 s after %.2f" % t,
                 lambda: received_since(listener, t) > 4, 30)
    except TimeoutError as e:
        log(str(e))


def received_since(listener, t):
    """Seconds of stream (by wall clock) a connection opened after t has
    received."""
    best = 0.0
    for c in list(listener.connections):
        if c.first_byte and c.first_byte >= t and c.reads:
            best = max(best, c.reads[-1][0] - c.first_byte)
    return best


def heard_for(runs, freq, t):
    """A run of freq heard for more than 2 s after instant t (it may have
    begun before), or None."""
    for a, b, f, _lv, _c in runs:
        if f == freq and b - max(a, t) > 2:
            return a, b
    return None


def heard(runs, freq, after, before=None):
    """The first run of freq (at least 0.5 s long) that starts after `after`
    (and before `before`), or None."""
    for a, b, f, _lv, _c in runs:
        if f == freq and b - a >= 0.5 and a >= after and (before is None or a < before):
            return a, b
    return None


def main():
    tap = Tap()
    st = Station("watchdog")
    try:
        d = st.dir
        tone = {f: make_tone(os.path.join(d, "t%d.mp3" % f), f, 120 if f == 880 else 30)
                for f in FREQS}
        quiet = make_silence(os.path.join(d, "silence.mp3"), 16)
        st.start_nats()
        st.start_icecast()
        start = time.time() + 14
        snap = st.snapshot([
            "%s,cue_out=4" % tone[440],                    # [0, 4)
            "%s" % quiet,                                  # [4, 20): digital silence
            "%s,cue_out=6" % tone[660],                    # [20, 26)
            "-,kind=silence,length=8",                     # [26, 34): intended
            "%s,cue_out=6" % tone[770],                    # [34, 40)
            "%s,cue_out=110" % tone[880],                  # [40, 150)
        ], start, fallback=[tone[550]])
        st.publish(snap)
        mport = free_port()
        st.start_playout("a", extra_env=dict(WATCHDOG_ENV, ONAIR_METRICS_PORT=str(mport)))
        st.wait_on_air("a")
        ice = IcecastListener(st.icecast_url(), reconnect=True)

        # 1 and 2: the silent file, then the silence item.
        wait_for("the 770 Hz item to end", lambda: time.time() > start + 41, start + 60 - time.time())
        runs = ice.wallclock_runs(FREQS)
        ev = dead_air(st)
        log("dead_air events (s from start):",
            " ".join("%+.2f %s/%s" % (t - start, a, c) for t, a, c in ev))
        fb = [t for t, a, c in ev if a == "fallback" and c == "silence"]
        tap.ok(len(fb) == 1 and start + 4 + SILENCE_S - 0.5 <= fb[0] <= start + 4 + SILENCE_S + 2,
               "after %d s of a silent file the watchdog puts the fallback on air" % SILENCE_S,
               "fallback at %s" % ["%+.2f" % (t - start) for t in fb])
        h = heard(runs, 550, start + 4, start + 20)
        tap.ok(h is not None and h[0] <= start + 4 + SILENCE_S + 2.5,
               "the fallback (550 Hz) is heard during the silent file",
               "550 Hz from %s" % ("%+.2f" % (h[0] - start) if h else None))
        h = heard(runs, 660, start + 19)
        tap.ok(h is not None and abs(h[0] - (start + 20)) < 0.6,
               "the schedule is back with its next item, on time",
               "660 Hz from %s" % ("%+.2f" % (h[0] - start) if h else None))
        tap.ok(not [1 for t, a, c in ev if start + 21 <= t < start + 40 and a != "recovered"],
               "intended silence (a silence item) raises no alarm",
               [(round(t - start, 2), a) for t, a, c in ev])
        quiet_runs = [(a, b) for a, b, f, lv, _c in runs
                      if f == 0 and lv < -40 and a < start + 34 and b > start + 26]
        longest = max((b - a for a, b in quiet_runs), default=0)
        tap.ok(longest > 6, "the silence item is heard as silence",
               "longest quiet run %.2f s" % longest)
        h = heard(runs, 770, start + 33)
        tap.ok(h is not None and abs(h[0] - (start + 34)) < 0.6,
               "the item after the silence plays on time",
               "770 Hz from %s" % ("%+.2f" % (h[0] - start) if h else None))

        # 3: Icecast refuses the source.
        wait_for("the 880 Hz item", lambda: time.time() > start + 44, 30)
        refused_at = time.time()
        port = st.stop_icecast()
        st.start_icecast(port=port, source_password="not-the-one")
        acts = output_actions(st, refused_at, "Icecast refuses",
                              OUTPUT_S + 3 * ESCALATE_S + 15)
        tap.ok(acts[:2] == ["restart_output", "restart_liquidsoap"],
               "Icecast refusing the source: the outputs are restarted, then Liquidsoap", acts)
        restored_at = time.time()
        port = st.stop_icecast()
        st.start_icecast(port=port)
        wait_for("dead air over", lambda: any(a == "recovered"
                                              for _t, a, _c in dead_air(st, restored_at)), 30)
        wait_heard(ice, restored_at)
        runs = ice.wallclock_runs(FREQS)
        h = heard_for(runs, 880, restored_at)
        tap.ok(h is not None,
               "once Icecast takes the source again, the item is heard",
               "880 Hz %s" % ("%+.2f..%+.2f" % (h[0] - restored_at, h[1] - restored_at)
                              if h else "not heard; " + ice.summary()))

        # 4: a stuck Liquidsoap.
        pid = st.liquidsoap_pid("a")
        stuck_at = time.time()
        os.kill(pid, signal.SIGSTOP)
        try:
            acts = output_actions(st, stuck_at, "Liquidsoap is stuck", 60)
        finally:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        tap.ok(acts[:2] == ["restart_output", "restart_liquidsoap"],
               "a stuck Liquidsoap: the outputs are restarted, then Liquidsoap", acts)
        try:
            wait_for("the stuck Liquidsoap to go", lambda: not os.path.exists("/proc/%d" % pid)
                     or st.liquidsoap_pid("a") not in (None, pid), 15)
            gone = True
        except TimeoutError:
            gone = False
        tap.ok(gone, "the stuck Liquidsoap is replaced")
        wait_for("dead air over", lambda: any(a == "recovered"
                                              for _t, a, _c in dead_air(st, stuck_at)), 30)
        recovered = [t for t, a, _c in dead_air(st, stuck_at) if a == "recovered"][0]
        wait_heard(ice, recovered - 1)
        ice.stop()
        runs = ice.wallclock_runs(FREQS)
        h = heard_for(runs, 880, recovered)
        tap.ok(h is not None,
               "after the restart the item is heard again",
               "880 Hz %s; recovered at %+.2f; runs after: %s; %s" % (
                   "%+.2f..%+.2f" % (h[0] - stuck_at, h[1] - stuck_at) if h else "not heard",
                   recovered - stuck_at,
                   ["%+.1f..%+.1f:%d" % (a - stuck_at, b - stuck_at, fq)
                    for a, b, fq, _lv, _c in runs if b > recovered - 2],
                   ice.summary()))

        # What the metrics say of it all, read as Prometheus reads them.
        f = scrape_metrics("http://127.0.0.1:%d/metrics" % mport)
        got = {
            "fallback": metric_value(f, "onair_playout_dead_air_actions_total",
                                     action="fallback", cause="silence"),
            "restarts_by_watchdog": metric_value(f, "onair_playout_dead_air_actions_total",
                                                 action="restart_liquidsoap", cause="output"),
            "liquidsoap_restarts": metric_value(f, "onair_playout_liquidsoap_restarts_total"),
            "fallback_s": metric_value(f, "onair_playout_source_seconds_total",
                                       source="fallback"),
            "silence_s": metric_value(f, "onair_playout_silence_seconds_total"),
        }
        tap.ok(got["fallback"] == 1 and got["restarts_by_watchdog"] >= 2 and
               got["liquidsoap_restarts"] >= 2 and got["fallback_s"] > 8 and
               got["silence_s"] > 3,
               "the metrics count the watchdog's actions, the Liquidsoap restarts, the "
               "seconds on the fallback and of silence", got)
        if tap.failed:
            st.diagnose("a", 40)
    finally:
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
