#!/usr/bin/env python3
"""A snapshot of tones plays in order, on time, on Icecast and on HLS.

Five 4-second items of distinct tones are scheduled back to back. A
listener on the Icecast mount and one following the HLS playlist must
each hear the five tones in order, each for its length; on Icecast each
must start at its scheduled time (give or take the stream's constant
delay). The start error of each item, as Liquidsoap reports it and as the
listener hears it, is printed.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import (HlsListener, IcecastListener, Station, Tap, iso_to_unix, log,  # noqa: E402
                     make_tone, wait_for)

FREQS = [440, 550, 660, 770, 880]
LENGTH = 4.0


def main():
    tap = Tap()
    st = Station("order")
    try:
        files = [make_tone(os.path.join(st.dir, "t%d.mp3" % f), f, LENGTH + 1) for f in FREQS]
        st.start_nats()
        st.start_icecast()
        start = time.time() + 14
        snap = st.snapshot(["%s,cue_out=%s" % (f, LENGTH) for f in files], start)
        st.publish(snap)
        st.start_playout("a")
        st.wait_on_air("a")
        ice = IcecastListener(st.icecast_url())
        hls = HlsListener(st.hls_url("a"))
        end = start + LENGTH * len(FREQS)
        wait_for("the last item to end", lambda: time.time() > end + 8, end - time.time() + 30)
        ice.stop()
        hls.stop()

        sched = [iso_to_unix(it["start"]) for it in snap["items"]]
        # What Liquidsoap reported.
        errs = [float(m) for m in re.findall(r"item \d+ started, ([+-][0-9.]+) s from its time",
                                             st.playout_log("a"))]
        tap.ok(len(errs) == len(FREQS), "every item reported started by Liquidsoap",
               "%d of %d" % (len(errs), len(FREQS)))
        if errs:
            log("start error inside Liquidsoap (s):", " ".join("%+.3f" % e for e in errs))

        # What an Icecast listener heard.
        runs = [r for r in ice.runs(FREQS) if r[2] in FREQS]
        heard = [r[2] for r in runs]
        tap.ok(heard == FREQS, "Icecast listener hears the tones in order",
               "heard %s" % heard)
        if heard == FREQS and ice.first_byte:
            obs = [ice.first_byte + r[0] for r in runs]
            delays = [o - s for o, s in zip(obs, sched)]
            log("Icecast: heard at scheduled time + (s):", " ".join("%+.3f" % d for d in delays))
            spread = max(delays) - min(delays)
            tap.ok(spread < 0.35, "every item starts on time relative to the others",
                   "delays %s" % delays)
            tap.ok(-0.5 < delays[0] < 4, "the stream's delay is plausible", delays[0])
            lengths = [r[1] - r[0] for r in runs[:-1]]
            tap.ok(all(abs(l - LENGTH) < 0.3 for l in lengths), "each tone lasts its length",
                   lengths)

        # What an HLS listener heard.
        runs = [r for r in hls.runs(FREQS) if r[2] in FREQS]
        heard = [r[2] for r in runs]
        tap.ok(heard == FREQS, "HLS listener hears the tones in order", "heard %s" % heard)
        lengths = [r[1] - r[0] for r in runs[1:-1]]
        tap.ok(heard == FREQS and all(abs(l - LENGTH) < 0.3 for l in lengths),
               "each tone lasts its length on HLS", lengths)
    finally:
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
