#!/usr/bin/env python3
"""The station fallback covers whatever the schedule cannot play, and the
schedule resumes on time after it.

One schedule, heard on the Icecast mount:

  before the first item   nothing is scheduled: the station fallback
                          playlist (one tone file) is heard, not the safety
                          loop;
  item 2, missing media   its file is deleted from the media source before
                          playout starts, so the cache cannot get it: the
                          fallback is heard for that item, the playout logs
                          and records cache_missing, records the item as
                          ended (reason failed), and item 3 starts at its
                          time;
  item 4, corrupt media   a file of random bytes whose hash is in the
                          snapshot, so the cache accepts it but Liquidsoap
                          cannot decode it: the fallback covers it, the
                          playout reports that it did not start and records
                          it as ended (failed), and item 5 is on time;
  item 6, dead webstream  a webstream on a 127.0.0.1 port where nothing
                          listens: the fallback covers it, the playout
                          reports that it did not start (log and error
                          event), and item 7 is on time;
  item 8, late file       a file of four 2.5 s steps of different tones,
                          missing at first and put into the media source
                          1.5 s after its item started: the fallback covers
                          the start; the cache retries a file needed now
                          every 2 s, so it gets the file within about 2 s,
                          then the item is joined at the right
                          offset (each step change is heard at its
                          scheduled instant) and item 9 is on time.

The anchors (items 1, 3, 5, 7, 9) are plain tones. "On time" is measured
against item 1 in the same recording: each anchor's delay from its
scheduled start must equal item 1's within 0.3 s. An anchor's start is
where its tone's level comes within 6 dB of its plateau, not where it
starts to dominate: the fallback fades out under the start of each item.
"""
import hashlib
import os
import random
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import (IcecastListener, Station, Tap, free_port, iso_to_unix, log,  # noqa: E402
                     make_steps, make_tone, tone_onset, wait_for)

FALLBACK = 1600
ANCHORS = [440, 560, 680, 800, 920]
STEPS = [1040, 1160, 1280, 1400]
STEP_LEN = 2.5
NEVER = 1800            # the missing file's tone: must never be heard
ANCHOR_LEN = 3.0
GAP_LEN = 4.0           # missing, corrupt and webstream items
LATE_ARRIVAL = 1.5      # s after the late item's start its file appears
TOL = 0.3


def coverage(runs, t0, t1, freq):
    """Fraction of [t0, t1] covered by runs of freq (wall-clock runs)."""
    if t1 <= t0:
        return 0.0
    got = sum(max(0.0, min(b, t1) - max(a, t0)) for a, b, f, *_ in runs if f == freq)
    return got / (t1 - t0)


def first_run(runs, freq, after):
    for r in runs:
        if r[2] == freq and r[1] > after:
            return r
    return None


def main():
    tap = Tap()
    st = Station("fallback")
    try:
        d = st.dir
        anchor_files = [make_tone(os.path.join(d, "a%d.mp3" % f), f, ANCHOR_LEN + 1)
                        for f in ANCHORS]
        fallback_file = make_tone(os.path.join(d, "fallback.mp3"), FALLBACK, 20)
        missing_file = make_tone(os.path.join(d, "missing.mp3"), NEVER, GAP_LEN + 1)
        # Stands in for the corrupt file while the snapshot is made (the
        # snapshot tool probes durations); its media is replaced below.
        placeholder = make_tone(os.path.join(d, "placeholder.mp3"), NEVER, GAP_LEN + 1)
        steps_file = make_steps(os.path.join(d, "steps.mp3"), [(f, STEP_LEN) for f in STEPS])
        dead_url = "http://127.0.0.1:%d/stream" % free_port()

        st.start_nats()
        st.start_icecast()
        start = time.time() + 16
        a = ["%s,cue_out=%s" % (f, ANCHOR_LEN) for f in anchor_files]
        items = [
            a[0],
            "%s,cue_out=%s,title=missing" % (missing_file, GAP_LEN),
            a[1],
            "%s,cue_out=%s,title=corrupt" % (placeholder, GAP_LEN),
            a[2],
            "-,kind=webstream,url=%s,length=%s,title=dead webstream" % (dead_url, GAP_LEN),
            a[3],
            "%s,title=late" % steps_file,
            a[4],
        ]
        snap = st.snapshot(items, start, fallback=[fallback_file])
        it = snap["items"]
        sched = [iso_to_unix(x["start"]) for x in it]
        ends = [iso_to_unix(x["end"]) for x in it]

        def src_path(item):
            return os.path.join(st.media_src, item["media"]["hash"].split(":", 1)[1])

        # Item 2: the media source does not have the file.
        os.unlink(src_path(it[1]))
        # Item 4: random bytes, with their own hash and size in the snapshot.
        garbage = random.Random(4).randbytes(60000)
        digest = hashlib.sha256(garbage).hexdigest()
        it[3]["media"] = dict(it[3]["media"], id=900, hash="sha256:" + digest,
                              size=len(garbage))
        with open(os.path.join(st.media_src, digest), "wb") as f:
            f.write(garbage)
        # Item 8: the file is kept aside until its item has started.
        late_src = src_path(it[7])
        late_aside = os.path.join(d, "late-file")
        shutil.move(late_src, late_aside)

        st.publish(snap)
        st.start_playout("a")
        st.wait_on_air("a")
        ice = IcecastListener(st.icecast_url())

        arrival = sched[7] + LATE_ARRIVAL
        wait_for("the late item's file to be due", lambda: time.time() >= arrival,
                 arrival - time.time() + 30)
        tmp = late_src + ".tmp"
        shutil.copyfile(late_aside, tmp)
        os.rename(tmp, late_src)  # appears whole
        arrived = time.time()
        log("late file put in place %.2f s after its item started" % (arrived - sched[7]))
        wait_for("the last item to end", lambda: time.time() > ends[-1] + 4,
                 ends[-1] - time.time() + 30)
        ice.stop()
        ice.save(os.path.join(d, "heard-a.mp3"))

        freqs = ANCHORS + STEPS + [FALLBACK, NEVER]
        runs = ice.wallclock_runs(freqs)
        rows = ice.levels(freqs)
        t0 = ice.first_byte
        plog = st.playout_log("a")
        events = st.events("a")

        # The anchors: heard, and each at its time relative to the first.
        anchor_idx = [0, 2, 4, 6, 8]
        heard = {}
        for k, f in zip(anchor_idx, ANCHORS):
            r = first_run(runs, f, sched[k] - 5)
            if r is not None:
                onset = t0 + tone_onset(rows, f, r[0] - t0, r[1] - t0)
                log("item %d (%d Hz) begins %.3f s before it dominates" %
                    (k + 1, f, r[0] - onset))
                r = (onset,) + tuple(r[1:])
            heard[k] = r
        missing = [f for k, f in zip(anchor_idx, ANCHORS) if heard[k] is None]
        tap.ok(not missing, "every anchor tone is heard", "not heard: %s" % missing)
        if missing:
            log("listened from %.2f to %.2f: %s" % (sched[0], ends[-1], ice.summary()))
            st.diagnose("a")
        if heard[0] is None:
            raise RuntimeError("no reference: item 1 was not heard")
        delay = heard[0][0] - sched[0]
        log("stream delay (item 1 heard after its scheduled start): %+.3f s" % delay)

        # (a) Nothing scheduled: the fallback playlist, not the safety loop.
        cov = coverage(runs, sched[0] + delay - 5, sched[0] + delay - TOL, FALLBACK)
        log("before the first item: fallback heard %.0f%% of the last 5 s" % (100 * cov))
        tap.ok(cov > 0.9, "nothing scheduled: the station fallback is heard", "%.2f" % cov)
        tap.ok(re.search(r"on air: fallback", plog) is not None,
               "playout reports the fallback on air")

        def gap_check(k, what):
            cov = coverage(runs, sched[k] + delay + TOL, ends[k] + delay - TOL, FALLBACK)
            log("%s (item %d): fallback heard %.0f%% of the item" % (what, k + 1, 100 * cov))
            tap.ok(cov > 0.9, "%s: the fallback covers item %d" % (what, k + 1), "%.2f" % cov)

        def on_time(k):
            r = heard.get(k)
            if r is None:
                tap.ok(False, "item %d starts on time" % (k + 1), "not heard")
                return
            err = (r[0] - sched[k]) - delay
            log("item %d heard %+.3f s from its time (relative to item 1)" % (k + 1, err))
            tap.ok(abs(err) < TOL, "item %d starts on time after the fallback" % (k + 1),
                   "%+.3f s" % err)

        # (b) Missing media.
        gap_check(1, "missing media")
        tap.ok(coverage(runs, sched[0], ends[-1] + delay, NEVER) == 0,
               "the missing file is never heard")
        tap.ok(re.search(r"item %d: media \d+ is not in the cache" % it[1]["id"], plog),
               "playout logs the missing media")
        tap.ok(any(e.get("event") == "cache_missing" and e.get("media_id") == it[1]["media"]["id"]
                   for e in events), "a cache_missing event is recorded for it")
        tap.ok(any(e.get("event") == "item_ended" and e.get("item_id") == it[1]["id"] and
                   e.get("reason") == "failed" for e in events),
               "the missing item is recorded as ended, reason failed")
        on_time(2)

        # (c) Corrupt media.
        gap_check(3, "corrupt media")
        tap.ok(re.search(r"item %d did not start 3 s after its time" % it[3]["id"], plog),
               "playout logs that the corrupt item did not start")
        tap.ok(any(e.get("event") == "item_ended" and e.get("item_id") == it[3]["id"] and
                   e.get("reason") == "failed" for e in events),
               "the corrupt item is recorded as ended, reason failed")
        on_time(4)

        # (d) Dead webstream.
        gap_check(5, "dead webstream")
        tap.ok(re.search(r"webstream item %d did not start 3 s after its time" % it[5]["id"],
                         plog), "playout logs that the dead webstream did not start")
        tap.ok(any(e.get("event") == "error" and "webstream" in e.get("message", "")
                   for e in events), "an error event is recorded for the dead webstream")
        tap.ok(not re.search(r"webstream item %d (started|joined)" % it[5]["id"], plog),
               "the dead webstream is not reported started")
        on_time(6)

        # Late file: fallback first, then joined at the right offset.
        step_runs = [r for r in runs if r[2] in STEPS and sched[7] - 1 < r[0] < ends[7] + 1]
        tap.ok(coverage(runs, sched[7] + delay + TOL, sched[7] + delay + LATE_ARRIVAL,
                        FALLBACK) > 0.9, "late file: the fallback covers the item's start")
        tap.ok(re.search(r"item %d joined late" % it[7]["id"], plog) is not None,
               "late file: playout joins the item when its file arrives")
        if step_runs:
            join = step_runs[0]
            k = STEPS.index(join[2])
            join_after = join[0] - delay - sched[7]
            log("late file: joined %.2f s into its item, at step %d (%d Hz)" %
                (join_after, k + 1, join[2]))
            tap.ok(sched[7] + k * STEP_LEN - TOL <= join[0] - delay <=
                   sched[7] + (k + 1) * STEP_LEN + TOL,
                   "late file: the first step heard is the one due at that time",
                   "step %d heard from %.2f s into the item" % (k + 1, join_after))
            # Every step change after the join, at its scheduled instant.
            errs = []
            for prev, nxt in zip(step_runs, step_runs[1:]):
                if nxt[2] in STEPS and STEPS.index(nxt[2]) > 0:
                    due = sched[7] + STEPS.index(nxt[2]) * STEP_LEN
                    errs.append(nxt[0] - delay - due)
            log("late file: step changes from their time (s):",
                " ".join("%+.3f" % e for e in errs))
            tap.ok(errs and all(abs(e) < TOL for e in errs),
                   "late file: joined at the right offset (step changes on time)", errs)
            order = [STEPS.index(r[2]) for r in step_runs]
            tap.ok(order == list(range(order[0], len(STEPS))),
                   "late file: the steps follow in order to the end", order)
        else:
            tap.ok(False, "late file: the item is heard once its file arrives",
                   "no step tone heard")
        on_time(8)
    finally:
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
