#!/usr/bin/env python3
"""Commands to playout travel over the queue and act on what is heard.

`onair playout status` gets a reply from the instance with its schedule
revision and source; `skip` ends the scheduled tone at once (the
fallback tone takes over until the next item's time); `source schedule
off` silences the schedule in favour of the fallback, `on` brings it back
at its wall-clock position; a command to an unknown instance gets no
answer.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import ONAIR, IcecastListener, Station, Tap, log, make_tone, wait_for  # noqa: E402

SCHED, NEXT, FALLBACK = 440, 660, 880


def command(st, *args):
    env = dict(os.environ, ONAIR_NATS_URL=st.nats_url)
    p = subprocess.run([ONAIR, "playout"] + list(args), env=env, capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def main():
    tap = Tap()
    st = Station("commands")
    try:
        long_tone = make_tone(os.path.join(st.dir, "long.mp3"), SCHED, 40)
        next_tone = make_tone(os.path.join(st.dir, "next.mp3"), NEXT, 20)
        fb = make_tone(os.path.join(st.dir, "fallback.mp3"), FALLBACK, 30)
        st.start_nats()
        st.start_icecast()
        start = time.time() + 12
        snap = st.snapshot([long_tone + ",cue_out=30", next_tone + ",cue_out=15"], start,
                           fallback=[fb])
        st.publish(snap)
        st.start_playout("a")
        st.wait_on_air("a")
        wait_for("the first item", lambda: "item 1 started" in st.playout_log("a"), 40)
        # The source change is reported just after the item's start.
        wait_for("the schedule on air", lambda: "on air: schedule" in st.playout_log("a"), 10)

        rc, out = command(st, "status")
        tap.ok(rc == 0 and "a: ok" in out and "revision %d" % snap["revision"] in out
               and "source schedule" in out, "status answers with revision and source", out)
        rc, out = command(st, "status", "--instance", "nobody")
        tap.ok(rc != 0 and "no playout instance answered" in out,
               "a command for an unknown instance gets no answer", out)

        ice = IcecastListener(st.icecast_url())
        time.sleep(4)
        t_skip = time.time()
        rc, out = command(st, "skip")
        tap.ok(rc == 0, "skip is accepted", out)
        time.sleep(5)
        # The schedule source is switched off during the next item and back on.
        wait_for("the next item", lambda: time.time() > start + 31, 40)
        t_off = time.time()
        rc, out = command(st, "source", "schedule", "off")
        tap.ok(rc == 0, "source schedule off is accepted", out)
        time.sleep(4)
        t_on = time.time()  # when the command leaves; the reply comes later
        rc, out = command(st, "source", "schedule", "on")
        tap.ok(rc == 0, "source schedule on is accepted", out)
        time.sleep(4)
        ice.stop()
        runs = ice.runs([SCHED, NEXT, FALLBACK])
        log("heard:", " ".join("%.1f-%.1f:%d" % (a, b, f) for a, b, f, _ in runs))

        def at(wall):
            rel = wall - ice.first_byte
            for a, b, f, _ in runs:
                if a <= rel < b:
                    return f
            return None

        tap.ok(at(t_skip - 1) == SCHED, "the scheduled tone plays before the skip")
        tap.ok(at(t_skip + 3) == FALLBACK, "after the skip the fallback plays",
               at(t_skip + 3))
        tap.ok(at(start + 31) == NEXT, "the next item starts at its time after a skip",
               at(start + 31))
        tap.ok(at(t_on - 1.5) == FALLBACK and at(t_off + 2) == FALLBACK,
               "with the schedule off the fallback plays", (at(t_off + 2), at(t_on - 1.5)))
        tap.ok(at(t_on + 2.5) == NEXT, "with the schedule on again the item is back",
               at(t_on + 2.5))
    finally:
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
