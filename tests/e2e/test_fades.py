#!/usr/bin/env python3
"""Fades, crossfades, cue points and gain are heard where the snapshot puts
them.

One schedule, heard on the Icecast mount, measured per 50 ms window with
the level of each tone:

  A  440 Hz, 6 s, fade_out 2 s
  B  660 Hz, 6 s, crossfade 2 s, fade_in 2 s: it starts 2 s before A ends,
     so for those 2 s both are heard, A falling from full level to nothing
     while B rises from nothing to full level (Liquidsoap's fades are
     linear in amplitude, so each is half way, -6 dB, in the middle);
  C  a file of four 1 s steps (760, 880, 1000, 1120 Hz) with cue_in 1 and
     cue_out 3: exactly the second and third steps are heard, 2 s in all;
  D  1240 Hz at gain 0, then E (1360 Hz) to separate, then
  F  the same 1240 Hz file at gain -12 dB: heard 12 dB lower (within
     1.5 dB).

Fade start and end instants are found by fitting a straight line to each
tone's amplitude (relative to its plateau) across the overlap; they must
fall within 0.3 s of the scheduled instants, taken relative to A's start
in the same recording.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import (IcecastListener, Station, Tap, iso_to_unix, log,  # noqa: E402
                     make_steps, make_tone, tone_onset, wait_for)

FA, FB = 440, 660
STEPS = [760, 880, 1000, 1120]
FD, FE = 1240, 1360
FREQS = [FA, FB] + STEPS + [FD, FE]
TOL = 0.3


def level_at(rows, freq, t, span=0.1):
    """Mean level of freq (dB) over windows starting in [t - span, t + span]."""
    v = [lv[freq] for w, _, lv in rows if t - span <= w <= t + span]
    return sum(v) / len(v) if v else -120.0


def plateau(rows, freq, t0, t1):
    v = sorted(lv[freq] for w, _, lv in rows if t0 <= w < t1)
    return v[len(v) // 2] if v else -120.0


def fit_fade(rows, freq, ref_db, t0, t1):
    """Straight line through the amplitude of freq (1 = ref_db) over the
    windows in [t0, t1) where it is between 0.1 and 0.9: returns the
    instants where the line is at 0 and at 1, and the number of points."""
    pts = []
    for w, _, lv in rows:
        if t0 <= w < t1:
            a = 10 ** ((lv[freq] - ref_db) / 20)
            if 0.1 < a < 0.9:
                pts.append((w + 0.025, a))  # the window's middle
    if len(pts) < 5:
        return None, None, len(pts)
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
    slope = sxy / sxx
    if slope == 0:
        return None, None, n
    at0 = mx + (0 - my) / slope
    at1 = mx + (1 - my) / slope
    return at0, at1, n


def main():
    tap = Tap()
    st = Station("fades")
    try:
        d = st.dir
        fa = make_tone(os.path.join(d, "a440.mp3"), FA, 7)
        fb = make_tone(os.path.join(d, "b660.mp3"), FB, 7)
        fc = make_steps(os.path.join(d, "steps.mp3"), [(f, 1) for f in STEPS])
        fd = make_tone(os.path.join(d, "d1240.mp3"), FD, 4)
        fe = make_tone(os.path.join(d, "e1360.mp3"), FE, 3)
        st.start_nats()
        st.start_icecast()
        start = time.time() + 14
        snap = st.snapshot([
            "%s,cue_out=6,fade_out=2,title=A" % fa,
            "%s,cue_out=6,crossfade=2,fade_in=2,title=B" % fb,
            "%s,cue_in=1,cue_out=3,title=C" % fc,
            "%s,cue_out=3,title=D" % fd,
            "%s,cue_out=2,title=E" % fe,
            "%s,cue_out=3,gain=-12,title=F" % fd,
        ], start)
        items = snap["items"]
        sched = [iso_to_unix(x["start"]) for x in items]
        ends = [iso_to_unix(x["end"]) for x in items]
        tap.ok(abs(sched[1] - (ends[0] - 2)) < 1e-3, "B is scheduled 2 s before A ends")
        st.publish(snap)
        st.start_playout("a")
        st.wait_on_air("a")
        ice = IcecastListener(st.icecast_url())
        wait_for("the last item to end", lambda: time.time() > ends[-1] + 3,
                 ends[-1] - time.time() + 30)
        ice.stop()
        ice.save(os.path.join(d, "heard-a.mp3"))

        t0 = ice.first_byte
        rows = ice.levels(FREQS)
        runs = ice.runs(FREQS)

        def rel(t):
            """A scheduled instant as seconds into the recording (before the
            stream delay is added)."""
            return t - t0

        # The stream delay, from A's start (after the safety loop).
        ra = [r for r in runs if r[2] == FA]
        if not ra:
            tap.ok(False, "A is heard", runs)
            return tap.done()
        a_on = tone_onset(rows, FA, ra[0][0], ra[0][1])
        delay = a_on - rel(sched[0])
        log("stream delay (A heard after its scheduled start): %+.3f s" % delay)

        def at(k, off=0.0, end=False):
            """Where item k's start (or end) + off is in the recording."""
            return rel(ends[k] if end else sched[k]) + delay + off

        # --- crossfade A -> B with A's fade-out and B's fade-in
        la = plateau(rows, FA, at(0, 0.5), at(0, 3.5))
        lb = plateau(rows, FB, at(1, 2.5), at(1, 5.5))
        log("plateaus: A %.1f dB, B %.1f dB" % (la, lb))
        xs, xe = at(1), at(0, end=True)  # the overlap
        q = [xs + f * (xe - xs) for f in (0.25, 0.5, 0.75)]
        a_lv = [level_at(rows, FA, t) - la for t in q]
        b_lv = [level_at(rows, FB, t) - lb for t in q]
        log("overlap at 1/4, 1/2, 3/4: A %s dB, B %s dB (from plateau)" %
            (" ".join("%.1f" % x for x in a_lv), " ".join("%.1f" % x for x in b_lv)))
        tap.ok(-10 < a_lv[1] < -3 and -10 < b_lv[1] < -3,
               "in the middle of the crossfade both tones are heard, each about half way",
               "A %.1f dB, B %.1f dB" % (a_lv[1], b_lv[1]))
        tap.ok(a_lv[0] > a_lv[1] + 2 > a_lv[2] + 4, "A's level falls across the overlap", a_lv)
        tap.ok(b_lv[0] < b_lv[1] - 2 < b_lv[2] - 4, "B's level rises across the overlap", b_lv)
        before = level_at(rows, FB, xs - 0.4, 0.15)
        tap.ok(before < lb - 30, "B is not heard before its start", "%.1f dB" % (before - lb))
        after = level_at(rows, FA, xe + 0.4, 0.15)
        tap.ok(after < la - 30, "A is not heard after its end", "%.1f dB" % (after - la))

        a_zero, a_full, na = fit_fade(rows, FA, la, xs - 1, xe + 1)
        b_zero, b_full, nb = fit_fade(rows, FB, lb, xs - 1, xe + 1)
        if None in (a_full, a_zero, b_zero, b_full):
            tap.ok(False, "the fades can be measured", "points: A %d, B %d" % (na, nb))
        else:
            errs = {"A's fade-out begins": a_full - xs, "A's fade-out ends": a_zero - xe,
                    "B's fade-in begins": b_zero - xs, "B's fade-in ends": b_full - xe}
            for what, e in errs.items():
                log("%s %+.3f s from its scheduled instant" % (what, e))
            tap.ok(all(abs(e) < TOL for e in errs.values()),
                   "fades begin and end at the scheduled instants (linear fit)",
                   "; ".join("%s %+.3f" % kv for kv in errs.items()))

        # --- cue points: only the 2nd and 3rd steps, 2 s in all
        cue = [r for r in runs if r[2] in STEPS]
        heard = [r[2] for r in cue]
        tap.ok(heard == STEPS[1:3], "cue_in 1 / cue_out 3: exactly steps 2 and 3 are heard",
               "heard %s" % heard)
        if heard == STEPS[1:3]:
            lens = [r[1] - r[0] for r in cue]
            total = cue[-1][1] - cue[0][0]
            log("cue item: steps heard for %s s, %.3f s in all" %
                (" + ".join("%.3f" % x for x in lens), total))
            tap.ok(abs(total - 2.0) < 0.15 and all(abs(x - 1.0) < 0.15 for x in lens),
                   "the cued item plays exactly 2 s, 1 s of each step", lens)
            err = cue[0][0] - at(2)
            log("cue item starts %+.3f s from its time" % err)
            tap.ok(abs(err) < TOL, "the cued item starts on time", err)

        # --- gain: the same file at 0 and at -12 dB
        ld = plateau(rows, FD, at(3, 0.3), at(3, 2.7))
        lf = plateau(rows, FD, at(5, 0.3), at(5, 2.7))
        log("gain 0: %.2f dB, gain -12: %.2f dB, difference %.2f dB" % (ld, lf, ld - lf))
        tap.ok(abs((ld - lf) - 12) <= 1.5, "gain -12 is heard 12 dB lower (within 1.5 dB)",
               "%.2f dB" % (ld - lf))
    finally:
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
