#!/usr/bin/env python3
"""Podcasts end to end, in separate processes over a real NATS: onair
messages queues the poll of a podcast that is due, onair worker polls the
feed (served here over loopback HTTP), queues the newest episode, downloads
it into the media store, analyses it and files it in the library under the
episode's title.
"""
import functools
import http.server
import os
import sqlite3
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from station import ONAIR, Station, Tap, log, make_tone, spawn, stop, wait_for  # noqa: E402

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Loopback Radio Hour</title><link>http://127.0.0.1/</link>
<description>A test feed</description>
<item><title>Episode 1 - the old one</title><guid>ep-1</guid>
 <pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate>
 <enclosure url="ep1.mp3" length="%d" type="audio/mpeg"/></item>
<item><title>Episode 2 - the newest</title><guid>ep-2</guid>
 <pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate>
 <enclosure url="/media/ep2.mp3" length="%d" type="audio/mpeg"/></item>
<item><title>No audio here</title><guid>ep-3</guid>
 <pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>
"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    tap = Tap()
    st = Station("podcast")
    procs = []
    server = None
    try:
        d = st.dir
        www = os.path.join(d, "www")
        os.makedirs(os.path.join(www, "media"))
        ep1 = make_tone(os.path.join(www, "ep1.mp3"), 440, 3)
        ep2 = make_tone(os.path.join(www, "media", "ep2.mp3"), 660, 4)
        with open(os.path.join(www, "feed.xml"), "w") as f:
            f.write(FEED % (os.path.getsize(ep1), os.path.getsize(ep2)))
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=www))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        feed_url = "http://127.0.0.1:%d/feed.xml" % server.server_address[1]

        st.start_nats()
        db_path = os.path.join(d, "onair.db")
        env = dict(os.environ, ONAIR_DATABASE_URL="sqlite://" + db_path,
                   ONAIR_STORAGE_PATH=os.path.join(d, "media"), ONAIR_NATS_URL=st.nats_url,
                   ONAIR_MESSAGES_PUBLISH="false", ONAIR_WORKER_PARALLELISM="1")
        subprocess.run([ONAIR, "migrate"], env=env, check=True, capture_output=True)
        db = sqlite3.connect(db_path, isolation_level=None)
        db.execute("INSERT INTO podcasts (url, auto_ingest, created_at, updated_at)"
                   " VALUES (?, 1, 0, 0)", (feed_url,))
        log_path = os.path.join(d, "onair.log")
        procs.append(spawn([ONAIR, "worker"], log_path, env=env))
        procs.append(spawn([ONAIR, "messages"], log_path, env=env))

        def episode(guid):
            return db.execute("SELECT import_status, file_id, title FROM podcast_episodes"
                              " WHERE guid = ?", (guid,)).fetchone()

        wait_for("the feed polled", lambda: episode("ep-1") is not None, 60)
        row = db.execute("SELECT title, last_error, etag IS NOT NULL OR last_modified IS NOT NULL"
                         " FROM podcasts").fetchone()
        log("podcast:", row)
        tap.ok(row[0] == "Loopback Radio Hour" and row[1] is None,
               "the podcast took its title from the feed", row)
        tap.ok(db.execute("SELECT COUNT(*) FROM podcast_episodes").fetchone()[0] == 2,
               "the two episodes with audio are known, the one without is skipped")
        wait_for("the newest episode imported",
                 lambda: (episode("ep-2") or ("",))[0] in ("imported", "failed"), 90)
        ep = episode("ep-2")
        log("episode 2:", ep)
        tap.ok(ep[0] == "imported" and ep[1], "the newest episode is imported", ep)
        f = db.execute("SELECT import_status, title, album, duration_us, content_hash"
                       " FROM files WHERE id = ?", (ep[1],)).fetchone() if ep[1] else None
        log("its file:", f)
        tap.ok(f is not None and f[0] == "ready", "its file is analysed and ready", f)
        tap.ok(f is not None and f[1] == "Episode 2 - the newest" and
               f[2] == "Loopback Radio Hour",
               "titled after the episode, filed under the podcast", f)
        tap.ok(f is not None and abs(f[3] / 1e6 - 4.0) < 0.1, "with its decoded length (4 s)", f)
        tap.ok(episode("ep-1")[0] == "new", "the older episode waits to be picked",
               episode("ep-1"))
        stored = [os.path.join(r, n) for r, _, ns in os.walk(os.path.join(d, "media"))
                  for n in ns if not r.endswith("tmp")]
        tap.ok(any(n.endswith(f[4][7:] + ".mp3") for n in stored) if f else False,
               "the bytes are in the media store under their hash", stored)
        for p in procs:
            stop(p)
        with open(log_path, errors="replace") as fh:
            text = fh.read()
        tap.ok(text.count("] stopped") >= 1 and "ERROR" not in text,
               "both processes ran without errors and stopped", text[-2000:])
    finally:
        for p in procs:
            stop(p)
        if server:
            server.shutdown()
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
