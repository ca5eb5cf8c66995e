#!/usr/bin/env python3
"""Benchmark: how close to its scheduled time does each item start?

Schedules N short items (default 100 items of 2 s, alternating tones)
back to back, plays them through the real chain (NATS, onair-playout,
Liquidsoap, Icecast) and prints:

  - the start error of each item as Liquidsoap reports it (p50, p99, max),
    and its ratio to one Liquidsoap frame (40 ms), the limit of the design;
  - the start error as an Icecast listener hears it, relative to the first
    item (the stream's constant delay removed);
  - CPU time and peak memory of onair-playout next to Liquidsoap's over the
    same run (the ratio is the figure: playout should cost a small part of
    what the mixing engine costs).

Usage: bench/playout_timing.py [N] [SECONDS_PER_ITEM]   (needs a build in build/)
"""
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("ONAIR_BUILD_ROOT", os.path.join(HERE, "..", "build"))
os.environ.setdefault("ONAIR_SOURCE_ROOT", os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from station import IcecastListener, Station, iso_to_unix, make_tone, wait_for  # noqa: E402

FRAME = 0.040
TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_rss(pid):
    """(CPU seconds, peak RSS MiB) of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    peak = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return cpu, peak


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    length = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    freqs = [500, 800]
    st = Station("bench")
    try:
        tones = [make_tone(os.path.join(st.dir, "t%d.mp3" % f), f, length + 1) for f in freqs]
        st.start_nats()
        st.start_icecast()
        start = time.time() + 20
        snap = st.snapshot(["%s,cue_out=%s" % (tones[i % 2], length) for i in range(n)], start)
        st.publish(snap)
        st.start_playout("a")
        st.wait_on_air("a")
        ice = IcecastListener(st.icecast_url())
        playout_pid = st.playouts["a"]["proc"].pid
        liq_pid = int(open(os.path.join(st.playouts["a"]["state"], "liquidsoap.pid")).read())
        wait_for("the run to start", lambda: time.time() > start, 60)
        p0, l0 = proc_cpu_rss(playout_pid)[0], proc_cpu_rss(liq_pid)[0]
        end = start + n * length
        wait_for("the run to end", lambda: time.time() > end + 3, n * length + 60)
        p1, p_rss = proc_cpu_rss(playout_pid)
        l1, l_rss = proc_cpu_rss(liq_pid)
        ice.stop()

        errs = [float(m) for m in re.findall(r"item \d+ started, ([+-][0-9.]+) s from its time",
                                             st.playout_log("a"))]
        print("items scheduled: %d of %.1f s" % (n, length))
        print("items reported started on time: %d" % len(errs))
        if errs:
            ms = [e * 1000 for e in errs]
            print("start error inside Liquidsoap: p50 %+.1f ms, p99 %+.1f ms, max %+.1f ms "
                  "(|max| / frame = %.2f)" % (pct(ms, 50), pct(ms, 99), max(ms, key=abs),
                                              max(abs(x) for x in errs) / FRAME))
        runs = [r for r in ice.runs(freqs) if r[2] in freqs and r[1] - r[0] > length / 2]
        sched = [iso_to_unix(it["start"]) for it in snap["items"]]
        if ice.first_byte and runs:
            heard = [ice.first_byte + r[0] for r in runs]
            # Match each heard run to the nearest scheduled start.
            offs = []
            for h in heard:
                s = min(sched, key=lambda x: abs(x - h))
                offs.append(h - s)
            base = statistics.median(offs)
            rel = [(o - base) * 1000 for o in offs]
            print("heard on Icecast: %d items, stream delay %.0f ms; relative start error "
                  "p50 %+.0f ms, p99 %+.0f ms, max %+.0f ms (50 ms analysis windows)" %
                  (len(runs), base * 1000, pct(rel, 50), pct(rel, 99), max(rel, key=abs)))
        pc, lc = p1 - p0, l1 - l0
        span = n * length
        print("CPU over %.0f s: onair-playout %.2f s (%.1f%%), Liquidsoap %.2f s (%.1f%%); "
              "ratio %.3f" % (span, pc, 100 * pc / span, lc, 100 * lc / span,
                              pc / lc if lc else float("nan")))
        print("peak memory: onair-playout %.1f MiB, Liquidsoap %.1f MiB; ratio %.3f" %
              (p_rss, l_rss, p_rss / l_rss if l_rss else float("nan")))
    finally:
        st.close()


if __name__ == "__main__":
    main()
