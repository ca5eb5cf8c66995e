#!/usr/bin/env python3
"""The web API under load, measured with wrk on loopback against the same
server's smallest response (GET /api/v1/health) in the same run:

  - a schedule window read (GET /api/v1/schedule, 24 hours, ~360 items);
  - a library search over 100,000 tracks (GET /api/v1/files?q=...&sort=title);
  - a file download (GET /api/v1/files/{id}/content, 64 MiB) against `cat`
    of the same file to /dev/null.

Prints requests per second and latency (p50, p99) of each, and the ratios.
Usage: bench/api_bench.py [--seconds N] [--connections N] [--threads N]
Needs a build in build/, wrk, nats-server and ffmpeg. SQLite.
"""
import argparse
import datetime
import os
import re
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("ONAIR_BUILD_ROOT", os.path.join(HERE, "..", "build"))
os.environ.setdefault("ONAIR_SOURCE_ROOT", os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
from apilib import Api  # noqa: E402

US = 1000000


def fill(db_path, day_start):
    """100,000 ready tracks, and a show of 24 hours full of 4-minute items."""
    c = sqlite3.connect(db_path)
    rows = []
    for i in range(100000):
        rows.append(("sha256:%064x" % i, 5000000, "audio/mpeg", "aa/bb/%064x.mp3" % i,
                     "Title %d %s" % (i, ["love", "night", "road", "fire", "rain"][i % 5]),
                     "Artist %d" % (i % 6000), "Album %d" % (i % 9000),
                     ["rock", "jazz", "pop", "soul"][i % 4], 1950 + i % 75,
                     (120 + i % 360) * US))
    c.executemany("INSERT INTO files (content_hash, size, mime, storage_key, title, artist,"
                  " album, genre, year, duration_us, import_status, created_at, updated_at)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ready', 0, 0)", rows)
    c.execute("INSERT INTO shows (name, created_at, updated_at) VALUES ('Bench', 0, 0)")
    c.execute("INSERT INTO show_instances (show_id, starts_at, ends_at, created_at, updated_at)"
              " VALUES (1, ?, ?, 0, 0)", (day_start, day_start + 86400 * US))
    items = []
    t = day_start
    for pos in range(360):
        items.append((1, pos, t, t + 240 * US, 1 + pos * 7, 0, 240 * US))
        t += 240 * US
    c.executemany("INSERT INTO schedule_items (instance_id, position, starts_at, ends_at, kind,"
                  " file_id, cue_in_us, cue_out_us) VALUES (?, ?, ?, ?, 'file', ?, ?, ?)",
                  items)
    c.commit()
    c.close()


def wrk(url, token, seconds, connections, threads):
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds,
                          "--latency", "-H", "Authorization: Bearer " + token, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    mult = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[transfer.group(2)]

    def pct(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, out)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "bytes_s": float(transfer.group(1)) * mult,
            "errors": int(errors.group(1)) if errors else 0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    api = Api("sqlite", "bench", env={"ONAIR_API_MAX_UPLOAD_MB": "128",
                                      "ONAIR_LOG_LEVEL": "warn"})
    try:
        day = datetime.datetime(2030, 1, 7, tzinfo=datetime.timezone.utc)
        day_us = int(day.timestamp()) * US
        fill(api.db_url[len("sqlite://"):], day_us)
        api.add_user("bench", "admin")
        c = api.client()
        c.login("bench")
        token = c.post("/api/v1/tokens", {"name": "bench"}).json["token"]
        big = os.path.join(api.dir, "big.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(64 << 20))
        with open(big, "rb") as f:
            r = api.client(token).post("/api/v1/files?filename=big.bin", raw=f.read())
        fid = r.json["file"]["id"]
        base = "http://127.0.0.1:%d/api/v1" % api.port
        targets = [
            ("smallest response (health)", base + "/health"),
            ("schedule window, 24 h", base + "/schedule?from=2030-01-07T00:00:00Z"
             "&to=2030-01-08T00:00:00Z"),
            ("library search, 100,000 tracks", base + "/files?q=night&sort=title&limit=50"),
        ]
        results = {}
        for name, url in targets:
            wrk(url, token, 2, a.connections, a.threads)    # warm up
            results[name] = wrk(url, token, a.seconds, a.connections, a.threads)
        dl = wrk(base + "/files/%d/content" % fid, token, a.seconds, 4, a.threads)
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < 3:
            subprocess.run(["cat", big], stdout=subprocess.DEVNULL, check=True)
            n += 1
        cat_bytes_s = n * (64 << 20) / (time.monotonic() - t0)

        print("%-34s %10s %9s %9s %8s" % ("", "req/s", "p50 ms", "p99 ms", "errors"))
        for name, r in results.items():
            print("%-34s %10.0f %9.2f %9.2f %8d" % (name, r["rps"], r["p50"], r["p99"],
                                                    r["errors"]))
        h = results[targets[0][0]]["rps"]
        for name, _ in targets[1:]:
            print("ratio %-28s %.2f of the smallest response's rate" %
                  (name, results[name]["rps"] / h))
        print("download: %.0f MiB/s through the API, cat: %.0f MiB/s, ratio %.2f" %
              (dl["bytes_s"] / (1 << 20), cat_bytes_s / (1 << 20), dl["bytes_s"] / cat_bytes_s))
    finally:
        api.close()


if __name__ == "__main__":
    main()
