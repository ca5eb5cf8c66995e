#!/usr/bin/env python3
"""A Liquidsoap killed in the middle of a long item is restarted and the
item is rejoined at its wall-clock position.

The schedule: a 4 s tone (440 Hz), a 40 s tone (550 Hz), then two 4 s
tones (660, 770 Hz). Twelve seconds into the long tone Liquidsoap is
killed with SIGKILL (its pid from state_dir/liquidsoap.pid). Playout must
notice, start a new Liquidsoap (another pid) and join the 550 Hz item
late, at the offset the schedule says it has reached. An Icecast listener
that reconnects whenever the mount goes away (Icecast drops its listeners
when the source disconnects) places what it hears in wall-clock time.

It must find: the stream back on air, playing 550 Hz again, a few seconds
after the kill (the figure is printed); that tone ending at the item's
scheduled end (within 0.5 s, measured against the next tone's start in the
same connection, with no gap and no overlap between them); the 660 and
770 Hz items starting on time (their delay from the schedule within 0.5 s
of the delay of the first item, heard before the kill, and within 0.35 s
of each other).
"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import (IcecastListener, Station, Tap, iso_to_unix, log,  # noqa: E402
                     make_tone, wait_for)

FREQS = [440, 550, 660, 770]
LENGTHS = [4.0, 40.0, 4.0, 4.0]
KILL_INTO_LONG_ITEM = 12.0
BACK_WITHIN = 10.0


def fmt_runs(runs):
    return " ".join("[%.2f-%.2f %d c%d]" % (a, b, f, c) for a, b, f, _, c in runs)


def main():
    tap = Tap()
    st = Station("liq-restart")
    try:
        files = [make_tone(os.path.join(st.dir, "t%d.mp3" % f), f, n + 1)
                 for f, n in zip(FREQS, LENGTHS)]
        st.start_nats()
        st.start_icecast()
        start = time.time() + 14
        snap = st.snapshot(["%s,cue_out=%s" % (f, n) for f, n in zip(files, LENGTHS)], start)
        st.publish(snap)
        st.start_playout("a")
        st.wait_on_air("a")
        ice = IcecastListener(st.icecast_url(), reconnect=True)
        sched = [iso_to_unix(it["start"]) for it in snap["items"]]
        ends = [iso_to_unix(it["end"]) for it in snap["items"]]

        kill_at = sched[1] + KILL_INTO_LONG_ITEM
        time.sleep(max(0, kill_at - time.time()))
        old_pid = st.liquidsoap_pid("a")
        killed_at = time.time()
        st.kill_liquidsoap("a", signal.SIGKILL)
        log("Liquidsoap pid %s killed %.2f s into the 40 s item" % (old_pid, killed_at - sched[1]))

        try:
            wait_for("a new Liquidsoap", lambda: st.liquidsoap_pid("a") not in (None, old_pid), 15)
        except TimeoutError:
            pass
        new_pid = st.liquidsoap_pid("a")
        tap.ok(old_pid and new_pid and new_pid != old_pid,
               "playout starts a new Liquidsoap", "old %s new %s" % (old_pid, new_pid))
        wait_for("the last item to end", lambda: time.time() > ends[-1] + 5, ends[-1] - time.time() + 30)
        ice.stop()

        text = st.playout_log("a")
        tap.ok("Liquidsoap died; restarting it" in text, "playout logs the death of Liquidsoap")
        tap.ok("item 2 joined late" in text, "the long item is joined late after the restart")
        m = re.search(r"item 3 started, ([+-][0-9.]+) s from its time", text)
        log("item 3 start error inside the new Liquidsoap: %s s" % (m.group(1) if m else "?"))

        runs = ice.wallclock_runs(FREQS)
        log("connections: %d; runs (wall clock - schedule start): %s" % (
            len(ice.connections), fmt_runs([(a - start, b - start, f, lv, c)
                                            for a, b, f, lv, c in runs])))
        before = [r for r in runs if r[4] == 0]
        after = [r for r in runs if r[4] > 0]
        tap.ok(len(ice.connections) >= 2, "the listener reconnects after the restart",
               "%d connection(s)" % len(ice.connections))

        # Before the kill: 440 then 550, and the stream's delay.
        first = [r for r in before if r[2] == 440]
        delay0 = first[0][0] - sched[0] if first else None
        if delay0 is not None:
            log("stream delay before the kill (first item): %+.3f s" % delay0)
        tap.ok([r[2] for r in before if r[2] in FREQS][:2] == [440, 550],
               "before the kill the listener hears 440 then 550 Hz", fmt_runs(before))

        # After: the stream returns, 550 first, then 660 and 770.
        heard = [r for r in after if r[2] in FREQS]
        tap.ok([r[2] for r in heard] == [550, 660, 770],
               "after the restart the listener hears 550 (again), 660, 770 Hz",
               fmt_runs(after))
        if after:
            log("stream back (any audio) %.2f s after the kill" % (after[0][0] - killed_at))
        if [r[2] for r in heard] == [550, 660, 770]:
            back = heard[0][0] - killed_at
            log("550 Hz back on air %.2f s after the kill" % back)
            tap.ok(back < BACK_WITHIN, "the same tone is back on air within %d s" % BACK_WITHIN,
                   "%.2f s" % back)
            r550, r660, r770 = heard
            # Within one connection: the rejoined tone ends where the next starts.
            same_conn = r550[4] == r660[4]
            between = [r for r in after if r550[1] <= r[0] < r660[0]]
            log("rejoined 550 Hz ends %+.3f s from the 660 Hz start (same connection: %s)" % (
                r550[1] - r660[0], same_conn))
            tap.ok(same_conn and abs(r550[1] - r660[0]) < 0.5 and not between,
                   "the rejoined item ends at its scheduled end, no gap, no overlap",
                   "550 ends %.3f, 660 starts %.3f, between %s" % (r550[1], r660[0],
                                                                     fmt_runs(between)))
            delays = [r660[0] - sched[2], r770[0] - sched[3]]
            log("stream delay after the restart (items 3, 4): %s s" % " ".join(
                "%+.3f" % d for d in delays))
            tap.ok(abs(delays[1] - delays[0]) < 0.35 and abs(r660[1] - r660[0] - 4.0) < 0.3,
                   "the next items start on time relative to each other", delays)
            tap.ok(delay0 is not None and abs(delays[0] - delay0) < 0.5,
                   "the next item starts on time: same delay as before the kill (0.5 s)",
                   "before %s after %s" % (delay0, delays[0]))
            # The rejoined part: from its return to the scheduled end.
            log("550 Hz heard before the kill %.2f s, after %.2f s (item 40 s)" % (
                sum(b - a for a, b, f, _, _ in before if f == 550), r550[1] - r550[0]))
        else:
            for what in ("the same tone is back on air within %d s" % BACK_WITHIN,
                         "the rejoined item ends at its scheduled end, no gap, no overlap",
                         "the next items start on time relative to each other",
                         "the next item starts on time: same delay as before the kill (0.5 s)"):
                tap.ok(False, what, "tones missing after the restart")
    finally:
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
