#!/usr/bin/env python3
"""Listener statistics from a real Icecast server: onair messages samples
its status document every second into listener_counts.

An ffmpeg source streams to /live.mp3; two listeners connect, then one
leaves. The counts stored must go 2, then 1, under the output
"icecast:127.0.0.1:<port>/live.mp3"; a second messages process started
over the same database adds no duplicate sample.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import (ONAIR, IcecastListener, Station, Tap, log, spawn, stop,  # noqa: E402
                     wait_for)


def main():
    tap = Tap()
    st = Station("listeners")
    messages = source = None
    try:
        d = st.dir
        db_path = os.path.join(d, "onair.db")
        st.start_nats()
        st.start_icecast("main")
        source = spawn(["ffmpeg", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
                        "sine=frequency=440:sample_rate=44100", "-ac", "2", "-c:a", "libmp3lame",
                        "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3",
                        "icecast://source:e2e-source@127.0.0.1:%d/live.mp3" % st.icecast_port],
                       os.path.join(d, "source.log"))
        wait_for("the source at Icecast", lambda: st.mount_up("/live.mp3"), 20)
        status = "http://127.0.0.1:%d/status-json.xsl" % st.icecast_port
        env = dict(os.environ, ONAIR_DATABASE_URL="sqlite://" + db_path,
                   ONAIR_NATS_URL=st.nats_url, ONAIR_MESSAGES_PUBLISH="false",
                   ONAIR_MESSAGES_ICECAST_STATUS=status,
                   ONAIR_MESSAGES_LISTENERS_INTERVAL="1")
        mlog = os.path.join(d, "messages.log")
        messages = spawn([ONAIR, "messages"], mlog, env=env)
        output = "icecast:127.0.0.1:%d/live.mp3" % st.icecast_port

        def counts():
            try:
                db = sqlite3.connect(db_path)
                rows = db.execute("SELECT at, listeners FROM listener_counts WHERE output = ?"
                                  " ORDER BY at", (output,)).fetchall()
                db.close()
                return rows
            except sqlite3.Error:
                return []

        a = IcecastListener(st.icecast_url())
        b = IcecastListener(st.icecast_url())
        def settles(pred, timeout):
            end = time.time() + timeout
            while time.time() < end and not pred():
                time.sleep(0.2)
            return pred()

        tap.ok(settles(lambda: any(c == 2 for _, c in counts()), 30),
               "two listeners are counted", counts())
        b.stop()
        tap.ok(settles(lambda: bool(counts()) and counts()[-1][1] == 1, 30),
               "one listener is counted after the other leaves", counts())
        rows = counts()
        log("samples:", rows)
        ats = [r[0] for r in rows]
        tap.ok(all(t % 1000000 == 0 for t in ats), "samples are taken on whole seconds", ats)
        tap.ok(len(ats) == len(set(ats)), "one sample per instant", ats)
        # A second process over the same database stores nothing twice.
        other = spawn([ONAIR, "messages"], mlog, env=env)
        time.sleep(3)
        stop(other)
        rows = counts()
        ats = [r[0] for r in rows]
        tap.ok(len(ats) == len(set(ats)), "still one sample per instant with two samplers",
               rows)
        a.stop()
        stop(messages, signal.SIGTERM)
        with open(mlog, errors="replace") as f:
            text = f.read()
        tap.ok("[messages] stopped" in text, "onair messages stops cleanly", text[-1500:])
    finally:
        stop(messages)
        stop(source)
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
