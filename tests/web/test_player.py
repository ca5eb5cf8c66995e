#!/usr/bin/env python3
"""The embeddable player page in a real browser, listening to what it plays.

A station on loopback: nats-server, Icecast, `onair messages` and one
playout instance (Liquidsoap), and `onair api` on the same SQLite database
with public.stream_url set to that Icecast mount. The database schedules a
show whose item on air is a 440 Hz tone titled "Tone 440" (next: "Tone
550"); onair messages compiles and publishes it, so the playout plays what
the API says is on air. Headless Chromium (Debian's chromium, driven by
playwright-core from tests/web/node_modules) loads /player, presses play
with the keyboard and reads the <audio> element through a Web Audio
analyser: the dominant frequency must be 440 Hz within one FFT bin. See
player_check.mjs for every check made in the browser. Then the API is
stopped (the page must say it is reconnecting and play on) and started
again with api.public=false, where /player is 404.

Then onair api runs with public.hls_url only (the playout's HLS server, on
another origin): the page must play HLS through hls.js (served from
/vendor/hls.light.min.js; the browser is shown as one without HLS of its
own), and the analyser must hear 440 Hz again.

Screenshots (desktop, phone width, phone width dark) are written to
<build>/screenshots/player-*.png; the output names them.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from station import (BUILD, ONAIR, Station, Tap, free_port, log, make_tone,  # noqa: E402
                     spawn, stop, wait_for, wait_tcp)
from test_compiled_schedule import add_file  # noqa: E402

US = 1000000
TITLE = "Tone 440"
STATION = "Player Test FM"
SHOW = "Sine Time"
CHECK = os.path.join(HERE, "player_check.mjs")


def chromium_path():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def descendants(pid):
    """The processes below pid (Playwright starts Chromium in a process
    group of its own)."""
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(p))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(proc):
    """Kill proc and the processes below it, and reap proc."""
    for pid in [proc.pid] + descendants(proc.pid):
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    proc.wait()


def browser_session(tap, node, seconds, stop_api):
    """Read node's checks as TAP lines for at most seconds; on "STOP-API"
    call stop_api() and tell node."""
    deadline = time.time() + seconds
    for line in node.stdout:
        line = line.rstrip("\n")
        if line.startswith("CHECK "):
            c = json.loads(line[6:])
            tap.ok(c["ok"], c["what"], json.dumps(c["detail"], indent=1)
                   if not isinstance(c["detail"], str) else c["detail"])
        elif line == "STOP-API" and stop_api:
            stop_api()
            node.stdin.write("stopped\n")
            node.stdin.flush()
        elif line.startswith("#"):
            print(line, flush=True)
        elif line.strip():
            print("# node: " + line, flush=True)
        if time.time() > deadline:
            break
    try:
        code = node.wait(max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        code = None
        kill_tree(node)
    tap.ok(code == 0, "the browser session ended cleanly (exit %s)" % code)


def main():
    tap = Tap()
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        tap.ok(False, "playwright-core is installed",
               "tests/web/node_modules is missing: run `npm ci` in tests/web")
        return tap.done()
    browser = chromium_path()
    if not browser:
        tap.ok(False, "chromium is installed", "scripts/install-deps.sh test installs it")
        return tap.done()
    st = Station("player")
    messages = api = node = None
    try:
        d = st.dir
        db_path = os.path.join(d, "onair.db")
        env = dict(os.environ, ONAIR_DATABASE_URL="sqlite://" + db_path,
                   ONAIR_STORAGE_PATH=os.path.join(d, "media"), ONAIR_MESSAGES_INTERVAL="1",
                   ONAIR_LOG_LEVEL="info")
        subprocess.run([ONAIR, "migrate"], env=env, check=True, capture_output=True)

        # The schedule: a show on air from a minute ago; in it "Tone 440",
        # which started a moment ago and lasts 3 minutes, then "Tone 550".
        db = sqlite3.connect(db_path, isolation_level=None)
        db.execute("UPDATE station_settings SET name = ? WHERE id = 1", (STATION,))
        f440 = add_file(db, st.media_src, make_tone(os.path.join(d, "t440.mp3"), 440, 180),
                        440)
        f550 = add_file(db, st.media_src, make_tone(os.path.join(d, "t550.mp3"), 550, 30),
                        550)
        db.execute("UPDATE files SET title = ?, artist = 'The Sines' WHERE id = ?",
                   (TITLE, f440))
        db.execute("UPDATE files SET title = 'Tone 550', artist = 'The Sines' WHERE id = ?",
                   (f550,))
        show = db.execute("INSERT INTO shows (name, created_at, updated_at) VALUES (?, 0, 0)",
                          (SHOW,)).lastrowid
        t0 = int((time.time() - 2) * US)
        inst = db.execute("INSERT INTO show_instances (show_id, starts_at, ends_at,"
                          " created_at, updated_at) VALUES (?, ?, ?, 0, 0)",
                          (show, t0 - 60 * US, t0 + 600 * US)).lastrowid
        for pos, (fid, a, b) in enumerate(((f440, t0, t0 + 180 * US),
                                           (f550, t0 + 180 * US, t0 + 210 * US))):
            db.execute("INSERT INTO schedule_items (instance_id, position, starts_at, ends_at,"
                       " kind, file_id, cue_in_us, cue_out_us)"
                       " VALUES (?, ?, ?, ?, 'file', ?, 0, ?)",
                       (inst, pos, a, b, fid, b - a))
        db.close()

        st.start_nats()
        st.start_icecast(cors=True)
        env["ONAIR_NATS_URL"] = st.nats_url
        messages = spawn([ONAIR, "messages"], os.path.join(d, "messages.log"), env=env)
        st.start_playout("a")
        st.wait_on_air("a")
        wait_for("the tone on air",
                 lambda: re.search(r"item \d+ (started|joined late)", st.playout_log("a")), 30)

        api_port = free_port()
        api_env = dict(env, ONAIR_API_LISTEN="127.0.0.1:%d" % api_port,
                       ONAIR_PUBLIC_STREAM_URL=st.icecast_url(),
                       ONAIR_PUBLIC_HLS_URL=st.hls_url("a"))
        api = spawn([ONAIR, "api"], os.path.join(d, "api.log"), env=api_env)
        wait_tcp(api_port, 30)
        base = "http://127.0.0.1:%d" % api_port
        with urllib.request.urlopen(base + "/api/v1/public/now-playing", timeout=10) as r:
            np = json.loads(r.read())
        item = (np.get("now") or {}).get("item") or {}
        tap.ok(item.get("title") == TITLE and np.get("streams", {}).get("icecast") ==
               st.icecast_url(), "now-playing has %s on air and the Icecast URL" % TITLE, np)

        shots = os.path.join(BUILD, "screenshots")
        conf = os.path.join(d, "player.json")
        with open(conf, "w") as f:
            json.dump({"base": base, "icecast": "http://127.0.0.1:%d" % st.icecast_port,
                       "title": TITLE, "station": STATION, "freq": 440,
                       "screenshots": shots, "chromium": browser}, f)
        node = subprocess.Popen(["node", CHECK, conf], cwd=HERE, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)

        def stop_api():
            nonlocal api
            stop(api)
            tap.ok(api.returncode == 0, "onair api stops cleanly on SIGTERM (exit %s)" %
                   api.returncode)
            api = None
        browser_session(tap, node, 150, stop_api)
        log("screenshots in", shots)

        # Switched off: /player is 404.
        api = spawn([ONAIR, "api"], os.path.join(d, "api.log"),
                    env=dict(api_env, ONAIR_API_PUBLIC="false"))
        wait_tcp(api_port, 30)
        status = http_status(base + "/player")
        tap.ok(status == 404, "with api.public=false /player is 404", status)
        stop(api)
        tap.ok(api.returncode == 0, "onair api stops cleanly on SIGTERM (exit %s)" %
               api.returncode)
        api = None

        # HLS only (no Icecast URL): the page plays the playout's HLS, through
        # hls.js where the browser does not play HLS itself.
        hls_env = dict(api_env)
        del hls_env["ONAIR_PUBLIC_STREAM_URL"]
        api = spawn([ONAIR, "api"], os.path.join(d, "api.log"), env=hls_env)
        wait_tcp(api_port, 30)
        hls_origin = "http://127.0.0.1:%d" % st.playouts["a"]["hls_port"]
        with urllib.request.urlopen(base + "/player", timeout=10) as r:
            csp = r.headers.get("Content-Security-Policy") or ""
        directives = {p.split()[0]: p.split()[1:] for p in csp.split("; ") if p.split()}
        script = directives.get("script-src", [])
        tap.ok(len(script) == 2 and script[0] == "'self'" and script[1].startswith("'sha256-") and
               directives.get("connect-src") == ["'self'", hls_origin] and
               directives.get("media-src") == [hls_origin, "blob:"] and
               directives.get("default-src") == ["'none'"] and "'unsafe-inline'" not in csp and
               "'unsafe-eval'" not in csp,
               "HLS only: /player's CSP allows scripts from its origin (hls.js), connections "
               "to the HLS origin and blob: media, nothing else more", csp)
        with urllib.request.urlopen(base + "/vendor/hls.light.min.js", timeout=10) as r:
            body = r.read()
            tap.ok(r.status == 200 and
                   (r.headers.get("Content-Type") or "").startswith("text/javascript") and
                   r.headers.get("ETag") and len(body) > 100000,
                   "GET /vendor/hls.light.min.js: the vendored hls.js, with an ETag",
                   dict(r.headers))
        with open(conf, "w") as f:
            json.dump({"mode": "hls", "base": base, "hls": hls_origin,
                       "title": TITLE, "station": STATION, "freq": 440,
                       "screenshots": shots, "chromium": browser}, f)
        node = subprocess.Popen(["node", CHECK, conf], cwd=HERE, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        browser_session(tap, node, 90, None)
        stop(api)
        tap.ok(api.returncode == 0, "onair api stops cleanly on SIGTERM (exit %s)" %
               api.returncode)
        api = None
    except Exception:  # a step that could not run fails the test as a TAP line
        tap.ok(False, "the test ran to its end", traceback.format_exc())
    finally:
        if node and node.poll() is None:
            kill_tree(node)
        stop(api)
        stop(messages)
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
