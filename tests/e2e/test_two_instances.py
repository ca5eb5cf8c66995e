#!/usr/bin/env python3
"""Two playout instances fed the same snapshot play the same thing at the
same time.

Instances "a" and "b" watch the same schedule in the queue; each feeds its
own Icecast server (same mount, so two servers). The schedule has tones of
different lengths, a gap (the safety loop fills it) and a crossfade, so
there are changes of every kind: safety to item, item to item, item to
gap, gap to item, and a mix. One listener per server records; every
instant where the heard tone changes is placed in wall-clock time (the
listener's first byte is the moment its first sample was live) and the two
timelines must list the same changes, each at the same instant within
0.25 s. The start instants Liquidsoap reports in each instance are compared
as well.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import (IcecastListener, Station, Tap, iso_to_unix, log,  # noqa: E402
                     make_tone, wait_for)

FREQS = [440, 550, 660, 770, 880]
AGREE = 0.25


def changes(listener):
    """(from freq, to freq, wall-clock instant) for each change of tone. A
    short stretch where no tone dominates (in a crossfade) is not a change."""
    runs = []
    for r in listener.runs(FREQS):
        if r[2] == 0 and r[1] - r[0] < 0.4 and runs:
            continue
        if runs and runs[-1][2] == r[2]:
            runs[-1] = (runs[-1][0], r[1], r[2], r[3])
            continue
        runs.append(r)
    t0 = listener.first_byte
    return [(a[2], b[2], t0 + b[0]) for a, b in zip(runs, runs[1:])]


def reported_starts(log_text):
    """item id: instant Liquidsoap reported it started (from the playout log)."""
    out = {}
    for line in log_text.splitlines():
        m = re.search(r"^(\S+) INFO .*item (\d+) started, ([+-][0-9.]+) s from its time", line)
        if m:
            out[int(m.group(2))] = float(m.group(3))
    return out


def main():
    tap = Tap()
    st = Station("two")
    try:
        d = st.dir
        files = {f: make_tone(os.path.join(d, "t%d.mp3" % f), f, 5) for f in FREQS}
        st.start_nats()
        st.start_icecast("main")
        st.start_icecast("b")
        start = time.time() + 16
        snap = st.snapshot([
            "%s,cue_out=3" % files[440],
            "%s,cue_out=2.5" % files[550],
            "%s,cue_out=3,at=7.5" % files[660],          # after a 2 s gap
            "%s,cue_out=2" % files[770],
            "%s,cue_out=3,crossfade=1,fade_in=1" % files[880],
        ], start)
        ends = [iso_to_unix(x["end"]) for x in snap["items"]]
        st.publish(snap)
        st.start_playout("a", icecast="main")
        st.start_playout("b", icecast="b")
        st.wait_on_air("a")
        st.wait_on_air("b")
        ice = {"a": IcecastListener(st.icecast_url(server="main")),
               "b": IcecastListener(st.icecast_url(server="b"))}
        wait_for("the last item to end", lambda: time.time() > ends[-1] + 4,
                 ends[-1] - time.time() + 30)
        for name, listener in ice.items():
            listener.stop()
            listener.save(os.path.join(d, "heard-%s.mp3" % name))

        ch = {name: changes(listener) for name, listener in ice.items()}
        for name in ch:
            log("instance %s hears: %s" % (name, " ".join(
                "%d>%d" % (a, b) for a, b, _ in ch[name])))
        seq_a = [(a, b) for a, b, _ in ch["a"]]
        seq_b = [(a, b) for a, b, _ in ch["b"]]
        expected = [(0, 440), (440, 550), (550, 0), (0, 660), (660, 770), (770, 880),
                    (880, 0)]
        for name, seq in (("a", seq_a), ("b", seq_b)):
            tap.ok(seq == expected, "instance %s plays the schedule" % name, seq)
            if seq != expected:
                log("listener %s (items from %.2f to %.2f): %s" % (
                    name, start, ends[-1], ice[name].summary()))
                st.diagnose(name)
        if seq_a == seq_b:
            diffs = [tb - ta for (_, _, ta), (_, _, tb) in zip(ch["a"], ch["b"])]
            log("b - a at each change (s):", " ".join("%+.3f" % x for x in diffs))
            tap.ok(all(abs(x) < AGREE for x in diffs),
                   "both instances change tone at the same instants (within %.2f s)" % AGREE,
                   diffs)
        else:
            tap.ok(False, "both instances hear the same changes", "a %s\nb %s" % (seq_a, seq_b))

        # What each Liquidsoap reported.
        rep = {name: reported_starts(st.playout_log(name)) for name in ("a", "b")}
        ids = [x["id"] for x in snap["items"]]
        both = [i for i in ids if i in rep["a"] and i in rep["b"]]
        tap.ok(len(both) == len(ids), "both instances report every item started",
               "a %s, b %s" % (sorted(rep["a"]), sorted(rep["b"])))
        if both:
            log("reported start errors a (s):", " ".join("%+.3f" % rep["a"][i] for i in both))
            log("reported start errors b (s):", " ".join("%+.3f" % rep["b"][i] for i in both))
            worst = max(abs(rep["a"][i] - rep["b"][i]) for i in both)
            tap.ok(worst < AGREE, "the reported starts agree (within %.2f s)" % AGREE,
                   "worst %.3f s" % worst)
    finally:
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
