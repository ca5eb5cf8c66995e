#!/usr/bin/env python3
"""The schedule plays on unchanged when the create block dies.

Six 4-second items of distinct tones are scheduled back to back; playout
downloads their media over HTTP (a file server standing in for the web
API). While the second one plays, nats-server is killed with SIGKILL and
the media server is shut down: with them goes everything of the create
block playout talks to (it never talks to the database). For the rest of the
window an Icecast listener must hear exactly what it would have heard
without the kill: the six tones in order, no gap or safety tone between
them, each starting on time relative to the others (within 0.35 s) and
lasting its length.

The events playout records during the outage (item starts and ends) are
kept in its journal (status.json "events_pending" grows); when NATS
comes back they reach the ONAIR_EVENTS stream: "events_pending" returns
to 0 and the stream holds every event the playout numbered, each once.
"""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import (IcecastListener, Station, Tap, iso_to_unix, log,  # noqa: E402
                     make_tone, wait_for)

FREQS = [440, 550, 660, 770, 880, 990]
LENGTH = 4.0


def events_seq(st, name="a"):
    """The last event number the playout gave (its events.seq file)."""
    with open(os.path.join(st.playouts[name]["state"], "events.seq")) as f:
        return int(f.read().strip())


def main():
    tap = Tap()
    st = Station("queue-down")
    try:
        files = [make_tone(os.path.join(st.dir, "t%d.mp3" % f), f, LENGTH + 1) for f in FREQS]
        st.start_nats()
        st.start_icecast()
        st.start_media_server()
        start = time.time() + 14
        snap = st.snapshot(["%s,cue_out=%s" % (f, LENGTH) for f in files], start)
        st.publish(snap)
        st.start_playout("a")
        st.wait_on_air("a")
        tap.ok(st.media_server.requests >= len(FREQS), "the media came over HTTP",
               "%d requests" % st.media_server.requests)
        ice = IcecastListener(st.icecast_url())
        sched = [iso_to_unix(it["start"]) for it in snap["items"]]
        end = start + LENGTH * len(FREQS)

        # Kill NATS in the middle of the second item.
        kill_at = sched[1] + LENGTH / 2
        time.sleep(max(0, kill_at - time.time()))
        st.stop_nats(signal.SIGKILL)
        st.stop_media_server()
        log("NATS and the media server killed %.2f s into item 2" % (time.time() - sched[1]))
        pending_max = 0
        while time.time() < end + 6:
            pending_max = max(pending_max, st.status("a").get("events_pending", 0))
            time.sleep(0.5)
        ice.stop()
        log("events waiting in the journal during the outage: up to %d" % pending_max)

        # Liquidsoap's own view of the starts.
        errs = [float(m) for m in re.findall(r"item \d+ started, ([+-][0-9.]+) s from its time",
                                             st.playout_log("a"))]
        tap.ok(len(errs) == len(FREQS), "every item reported started by Liquidsoap",
               "%d of %d" % (len(errs), len(FREQS)))
        if errs:
            log("start error inside Liquidsoap (s):", " ".join("%+.3f" % e for e in errs))

        # What an Icecast listener heard, from the first tone to the last.
        runs = ice.runs(FREQS)
        tones = [i for i, r in enumerate(runs) if r[2] in FREQS]
        window = runs[tones[0]:tones[-1] + 1] if tones else []
        heard = [r[2] for r in window]
        tap.ok(heard == FREQS, "Icecast listener hears the six tones in order, nothing between",
               "heard %s" % [(round(a, 2), round(b, 2), f) for a, b, f, _ in window])
        if heard == FREQS and ice.first_byte:
            delays = [ice.first_byte + r[0] - s for r, s in zip(window, sched)]
            log("Icecast: heard at scheduled time + (s):", " ".join("%+.3f" % d for d in delays))
            spread = max(delays) - min(delays)
            log("spread of the start delays: %.3f s" % spread)
            tap.ok(spread < 0.35, "every item starts on time relative to the others",
                   "delays %s" % delays)
            lengths = [r[1] - r[0] for r in window[:-1]]
            log("tone lengths (s):", " ".join("%.2f" % x for x in lengths))
            tap.ok(all(abs(x - LENGTH) < 0.3 for x in lengths), "each tone lasts its length",
                   lengths)
        else:
            tap.ok(False, "every item starts on time relative to the others", "tones missing")
            tap.ok(False, "each tone lasts its length", "tones missing")

        tap.ok(pending_max > 0, "events are journaled while NATS is down",
               "events_pending stayed 0")

        # NATS comes back: the journal drains into the stream.
        back = time.time()
        st.start_nats()
        try:
            wait_for("events_pending back to 0",
                     lambda: st.status("a").get("events_pending") == 0 and
                     st.status("a").get("written_at") and
                     iso_to_unix(st.status("a")["written_at"]) > back + 1, 40)
            drained = time.time() - back
            log("journal drained %.1f s after NATS restarted" % drained)
            tap.ok(True, "the journaled events are sent when NATS is back")
        except TimeoutError as e:
            tap.ok(False, "the journaled events are sent when NATS is back",
                   "%s; status %s" % (e, json.dumps(st.status("a"))))
        # A heartbeat may be numbered between two reads: compare until they agree.
        info, seq, deadline = {}, -1, time.time() + 10
        while time.time() < deadline:
            seq = events_seq(st)
            info = st.stream_info("ONAIR_EVENTS")
            if info.get("state", {}).get("messages") == seq:
                break
            time.sleep(0.5)
        state = info.get("state", {})
        log("ONAIR_EVENTS holds %s messages (seq %s..%s); playout numbered %d events" % (
            state.get("messages"), state.get("first_seq"), state.get("last_seq"), seq))
        tap.ok(state.get("messages") == seq,
               "the stream holds every event the playout recorded, each once",
               json.dumps(info)[:600])
    finally:
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
