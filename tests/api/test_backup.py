#!/usr/bin/env python3
"""`onair backup` of a station that is being written to, and `onair restore`.

The station (onair api on SQLite or PostgreSQL, with its media store) gets
a library by upload; then a writer keeps making playlists and uploading
files through the API while `onair backup DIR` runs. The backup is
restored into an empty database and an empty media store, and compared
with the station once the writer has stopped:

- every table: each restored row is a row of the station (nothing made
  up, nothing half-written), and the rows missing are only the writer's
  latest ones: its playlists restored are exactly its first K, K at least
  as many as were made before the backup began;
- every file row restored has its media in the new store, and the bytes
  hash to the row's content_hash;
- a restore into a database that is not empty is refused and changes
  nothing; a backup whose media file was altered is refused before
  anything is written.
Usage: test_backup.py sqlite|postgres
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from apilib import ONAIR, Api, pg_bindir  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from station import Tap, log  # noqa: E402

V1 = "/api/v1"
# Tables the API changes in place while it serves (a login's session is
# touched on every request): compared by key only.
TOUCHED = {"sessions": 1, "users": 1, "api_tokens": 1}


def wav(seconds, freq):
    """A small WAV file of a tone (distinct bytes for each call)."""
    return subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                           "sine=frequency=%d:duration=%s" % (freq, seconds), "-ac", "1",
                           "-ar", "8000", "-f", "wav", "-"], capture_output=True,
                          check=True).stdout


class Db:
    """Reads every table of a database, by URL (SQLite or PostgreSQL)."""

    def __init__(self, url):
        self.url = url

    def query(self, sql):
        if self.url.startswith("sqlite://"):
            import sqlite3
            with sqlite3.connect(self.url[len("sqlite://"):]) as c:
                return [tuple("" if v is None else str(v) for v in row)
                        for row in c.execute(sql).fetchall()]
        out = subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-q", "-A", "-t",
                              "-F", "\x1f", "-d", self.url, "-c", sql], capture_output=True,
                             text=True, check=True).stdout
        return [tuple(line.split("\x1f")) for line in out.splitlines() if line]

    def tables(self):
        if self.url.startswith("sqlite://"):
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table'"
                              " AND name NOT LIKE 'sqlite_%'")
        else:
            rows = self.query("SELECT table_name FROM information_schema.tables"
                              " WHERE table_schema = current_schema()")
        return sorted(r[0] for r in rows)

    def rows(self, table, key_only=False):
        rows = self.query("SELECT * FROM %s" % table)
        return {r[:1] for r in rows} if key_only else set(rows)


def onair(env, *args):
    return subprocess.run([ONAIR] + list(args), env=env, capture_output=True, text=True)


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    tap = Tap()
    api = Api(backend, name="backup")
    try:
        api.add_user("admin", "admin")
        c = api.client()
        c.login("admin")
        for i in range(4):
            r = c.post(V1 + "/files?filename=lib%d.wav" % i, raw=wav(1, 300 + 50 * i),
                       headers={"Content-Type": "audio/wav"})
            if r.status != 201:
                tap.ok(False, "the library is uploaded", r)
        made = []
        stop = threading.Event()

        def writer():
            w = api.client()
            w.login("admin")
            n = 0
            while not stop.is_set():
                r = w.post(V1 + "/playlists", {"name": "w-%05d" % n})
                if r.status == 201:
                    made.append((time.time(), "w-%05d" % n))
                if n % 5 == 0:
                    w.post(V1 + "/files?filename=w%d.wav" % n, raw=wav(0.5, 1000 + n),
                           headers={"Content-Type": "audio/wav"})
                n += 1
        t = threading.Thread(target=writer)
        t.start()
        while len(made) < 20:
            time.sleep(0.05)
        out = os.path.join(api.dir, "backup")
        began = time.time()
        before = len(made)
        r = onair(api.env, "backup", out)
        after = len(made)
        log(r.stdout.strip())
        time.sleep(0.5)
        stop.set()
        t.join(30)
        tap.ok(r.returncode == 0, "onair backup while the station is written to",
               r.stdout + r.stderr)
        with open(os.path.join(out, "manifest.json")) as f:
            manifest = json.load(f)
        log("writer: %d playlists before the backup began, %d when it ended, %d in all" % (
            before, after, len(made)))

        # An empty target: a new database and media store.
        target = os.path.join(api.dir, "restored")
        os.makedirs(target)
        if backend == "postgres":
            subprocess.run([os.path.join(pg_bindir(), "createdb"), "-h", "127.0.0.1", "-p",
                            str(api.pg.port), "-U", "postgres", "restored"], check=True)
            url = "postgresql://postgres@127.0.0.1:%d/restored" % api.pg.port
        else:
            url = "sqlite://" + os.path.join(target, "onair.db")
        env = dict(api.env, ONAIR_DATABASE_URL=url,
                   ONAIR_STORAGE_PATH=os.path.join(target, "media"))

        # A damaged backup is refused before anything is written.
        bad = os.path.join(api.dir, "backup-bad")
        shutil.copytree(out, bad, copy_function=shutil.copy)
        victim = os.path.join(bad, "media", manifest["media"][0]["key"])
        with open(victim, "r+b") as f:
            f.seek(100)
            f.write(b"\xff\x00\xff")
        r = onair(env, "restore", bad)
        src, dst = Db(api.db_url), Db(url)
        tap.ok(r.returncode != 0 and "does not match" in r.stderr and not dst.tables(),
               "a backup with an altered media file is refused, nothing written", r.stderr)

        r = onair(env, "restore", out)
        log(r.stdout.strip())
        tap.ok(r.returncode == 0, "onair restore into an empty database and store",
               r.stdout + r.stderr)

        tables = src.tables()
        tap.ok(dst.tables() == tables, "the restored database has every table",
               sorted(set(tables) ^ set(dst.tables())))
        extra = {}
        for table in tables:
            key_only = table in TOUCHED
            a, b = src.rows(table, key_only), dst.rows(table, key_only)
            if not b <= a:
                extra[table] = sorted(b - a)[:3]
        tap.ok(not extra, "every restored row is a row of the station", extra)

        names = sorted(r[0] for r in dst.query("SELECT name FROM playlists")
                       if r[0].startswith("w-"))
        want = ["w-%05d" % i for i in range(len(names))]
        log("restored %d of the writer's %d playlists" % (len(names), len(made)))
        tap.ok(names == want and before <= len(names) <= after,
               "the restored playlists are the writer's first K, K between %d and %d" %
               (before, after), "%d restored, a prefix: %s" % (len(names), names == want))

        files = dst.query("SELECT storage_key, content_hash FROM files")
        bad_media = []
        for key, content_hash in files:
            p = os.path.join(target, "media", key)
            try:
                with open(p, "rb") as f:
                    h = "sha256:" + hashlib.sha256(f.read()).hexdigest()
            except OSError as e:
                h = str(e)
            if h != content_hash:
                bad_media.append((key, h))
        log("%d files restored, %d media files in the manifest" % (len(files),
                                                                    len(manifest["media"])))
        tap.ok(files and not bad_media and not manifest["missing"],
               "every restored file has its media, with its SHA-256", bad_media[:3])

        count = len(dst.query("SELECT id FROM playlists"))
        r = onair(env, "restore", out)
        tap.ok(r.returncode != 0 and "not empty" in r.stderr and
               len(dst.query("SELECT id FROM playlists")) == count,
               "a restore into a database that is not empty is refused", r.stderr)
        r = onair(api.env, "backup", out)
        tap.ok(r.returncode != 0 and "holds a backup" in r.stderr,
               "a backup into a directory holding one is refused", r.stderr)
    finally:
        api.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
