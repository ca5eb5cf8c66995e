#!/usr/bin/env python3
"""The web app in a real browser against a real station.

On loopback: nats-server, `onair api` (SQLite), `onair worker`, `onair
messages`, Icecast and one playout instance fetching media from the API.
Headless Chromium (Debian's chromium, driven by playwright-core; see
webapp_check.mjs for every step) then works as a program manager through
the screens: logs in, uploads a tone (4 minutes, 440 Hz, titled "Web
Tone") and sees it analysed, makes a playlist of it, creates a weekly show
on now hosted by host1, schedules the playlist into today's instance, sees
it on the dashboard as it plays (the schedule's view and the playout's
own report), and in the history; host2 cannot edit host1's show; the
public player page plays the stream. The as-run log is also read through
the API, and what Icecast sends is listened to: 440 Hz.

Screenshots of the main screens (desktop and phone widths) are written to
<build>/screenshots/webapp-*.png.
"""
import json
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
from apilib import Api  # noqa: E402
from station import (BUILD, ONAIR, IcecastListener, Station, Tap, log, spawn,  # noqa: E402
                     stop)
from test_player import chromium_path, descendants  # noqa: E402

CHECK = os.path.join(HERE, "webapp_check.mjs")
TITLE = "Web Tone"


def tone_with_tags(path, freq, seconds):
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=%d:sample_rate=44100:duration=%d" % (freq, seconds),
                    "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k",
                    "-metadata", "title=" + TITLE, "-metadata", "artist=Web Test", path],
                   check=True)
    return path


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
    st = Station("webapp")
    st.start_icecast(cors=True)
    api = Api("sqlite", "webapp", env={"ONAIR_PUBLIC_STREAM_URL": st.icecast_url()})
    st.nats_port = api.nats_port
    procs = []
    node = None
    try:
        d = st.dir
        procs.append(spawn([ONAIR, "worker"], os.path.join(d, "worker.log"), env=api.env))
        procs.append(spawn([ONAIR, "messages"], os.path.join(d, "messages.log"), env=api.env))
        for name, role in (("pm", "program_manager"), ("host1", "host"), ("host2", "host")):
            api.add_user(name, role)
        st.start_playout("a", extra_env={
            "ONAIR_PLAYOUT_MEDIA_URL": "http://127.0.0.1:%d/api/v1/files/{id}/content" % api.port,
            "ONAIR_PLAYOUT_MEDIA_TOKEN": api.playout_token})
        st.wait_on_air("a")
        tone = tone_with_tags(os.path.join(d, "web-tone.mp3"), 440, 240)

        shots = os.path.join(BUILD, "screenshots")
        conf = os.path.join(d, "webapp.json")
        with open(conf, "w") as f:
            json.dump({"base": "http://127.0.0.1:%d" % api.port, "file": tone, "title": TITLE,
                       "password": "correct horse battery", "screenshots": shots,
                       "chromium": browser}, f)
        listener = None
        node = subprocess.Popen(["node", CHECK, conf], cwd=HERE, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        deadline = time.time() + 400
        for line in node.stdout:
            line = line.rstrip("\n")
            if line.startswith("CHECK "):
                c = json.loads(line[6:])
                tap.ok(c["ok"], c["what"], c["detail"] if isinstance(c["detail"], str)
                       else json.dumps(c["detail"], indent=1))
            elif line == "SCHEDULED" and listener is None:
                listener = IcecastListener(st.icecast_url())
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
        tap.ok(code == 0, "the browser session ended cleanly (exit %s)" % code)
        log("screenshots in", shots)

        if listener:
            time.sleep(3)
            listener.stop()
            runs = [r for r in listener.runs([440]) if r[2] == 440 and r[1] - r[0] > 1]
            tap.ok(runs, "Icecast plays the scheduled 440 Hz tone", listener.runs([440]))
        else:
            tap.ok(False, "Icecast plays the scheduled 440 Hz tone", "never scheduled")
        pm = api.client()
        pm.login("pm")
        now = time.time()
        frm = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
        to = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60))
        rows = pm.get("/api/v1/as-run?from=%s&to=%s" % (frm, to)).json["items"]
        mine = [r for r in rows if r["title"] == TITLE]
        tap.ok(len(mine) == 1 and mine[0]["show_name"] == "Web Show",
               "the as-run log has the item once, in its show", rows)
        api.finish(tap)
    except Exception:  # a step that could not run fails the test as a TAP line
        tap.ok(False, "the test ran to its end", traceback.format_exc())
    finally:
        if node and node.poll() is None:
            for pid in [node.pid] + descendants(node.pid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        for p in procs:
            stop(p)
        st.close()
        api.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
