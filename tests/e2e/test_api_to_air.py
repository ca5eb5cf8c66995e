#!/usr/bin/env python3
"""The whole station, driven through the web API, heard on air.

Processes (each its own, on loopback): nats-server, `onair api` (SQLite),
`onair worker`, `onair messages` (at its default one-minute timer: what
it publishes between, it publishes because the API told it of a change),
two playout instances ("a", "b", each with Liquidsoap and its own Icecast
server) fetching media from the API with the service credential.

Through the API: five tones (440..880 Hz, 3 s) are uploaded and analysed,
a playlist of twelve of them is made, a show hosted by DJ "dj" (live
input: its hosts) gets an instance on air now, and the playlist is placed
in it after a silence slot so that the tones begin at T.

During the show (times from T):
  +4   the fifth item (770 Hz) is removed through the API; both playouts
       log the new schedule revision within a second of the API's answer,
       and what follows is heard one item earlier;
  +7   onair messages is killed (SIGKILL) and started again;
  +9   nats-server is killed (SIGKILL), and started again at +10;
  +14  the DJ connects to both instances' show inputs (990 Hz) and is
       heard; GET /api/v1/status names them; they leave at +23, and the
       schedule is heard again at its wall-clock place;
  +25  a status command through the API is answered by both instances;
  +28  a skip through the API: both answer, the 440 Hz item stops, and
       the next item begins at its time.
Afterwards the API's as-run log has each item played exactly once (no
event lost while messages and NATS were down, none counted twice though
two instances reported each), started within a second of its time, the
skipped one marked so, the removed one absent, and the DJ's session once.
Every answer of the API is checked against docs/openapi.json.
"""
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from apilib import PASSWORD, Api, wait_analysed  # noqa: E402
from station import (ONAIR, IcecastListener, Station, Tap, free_port, log,  # noqa: E402
                     make_tone, metric_value, scrape_metrics, spawn, stop, wait_for)

V1 = "/api/v1"
TONES = [440, 550, 660, 770, 880]
PLAYLIST = [440, 550, 660, 770, 880, 440, 550, 660, 770, 880, 440, 550]
REMOVED = 3          # the index of the 770 Hz item removed at +4
LIVE = 990
US = 1000000


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def revision_times(log_text):
    """(unix time, revision) of each schedule revision the playout took."""
    out = []
    for line in log_text.splitlines():
        m = re.match(r"^(\S+) INFO .*schedule revision (\d+) from", line)
        if m:
            out.append((parse_time(m.group(1)), int(m.group(2))))
    return out


def dj_source(port, log_path):
    """ffmpeg as the DJ's source client on a show input, sending 990 Hz."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "warning", "-re", "-f", "lavfi",
         "-i", "sine=frequency=%d:sample_rate=44100" % LIVE, "-ac", "2",
         "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3", "-content_type", "audio/mpeg",
         "icecast://dj:%s@127.0.0.1:%d/show" % (PASSWORD.replace(" ", "%20"), port)],
        stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, start_new_session=True)


# The families each role must serve, with their types (prometheus_client
# names a counter's family without "_total").
METRIC_TYPES = {
    "api": {"onair_build_info": "gauge", "onair_up": "gauge",
            "onair_process_start_time_seconds": "gauge", "onair_http_requests": "counter",
            "onair_http_request_duration_seconds": "histogram"},
    "worker": {"onair_build_info": "gauge", "onair_tasks": "counter",
               "onair_task_duration_seconds": "histogram",
               "onair_task_redeliveries": "counter", "onair_tasks_waiting": "gauge",
               "onair_tasks_in_progress": "gauge"},
    "messages": {"onair_build_info": "gauge", "onair_asrun_items": "counter",
                 "onair_events": "counter", "onair_events_pending": "gauge",
                 "onair_snapshots_published": "counter", "onair_snapshot_revision": "gauge",
                 "onair_listeners": "gauge"},
    "playout": {"onair_build_info": "gauge", "onair_playout_liquidsoap_restarts": "counter",
                "onair_playout_items": "counter", "onair_playout_source_seconds": "counter",
                "onair_playout_silence_seconds": "counter",
                "onair_playout_dead_air_actions": "counter",
                "onair_playout_snapshot_age_seconds": "gauge",
                "onair_playout_snapshot_revision": "gauge", "onair_playout_output_up": "gauge",
                "onair_playout_hls_listeners": "gauge", "onair_playout_events_pending": "gauge"},
}


def check_metrics(tap, api, mport):
    """Every role's /metrics, read with Prometheus's own parser: the
    families and their types, and counters that moved with what happened."""
    urls = {"api": "http://127.0.0.1:%d/metrics" % api.port}
    for role in ("worker", "messages", "a", "b"):
        urls[role] = "http://127.0.0.1:%d/metrics" % mport[role]
    fams = {}
    for role, url in urls.items():
        try:
            fams[role] = scrape_metrics(url)
        except (OSError, ValueError) as e:
            fams[role] = {}
            log("metrics of %s: %s" % (role, e))
    for role, f in fams.items():
        want = METRIC_TYPES["playout" if role in ("a", "b") else role]
        wrong = {n: (t, f[n].type if n in f else None) for n, t in want.items()
                 if n not in f or f[n].type != t}
        tap.ok(f and not wrong, "%s serves its metrics, each of its type" % role, wrong)
    uploads = metric_value(fams["api"], "onair_http_requests_total", route="/api/v1/files",
                           method="POST", status="201")
    tap.ok(uploads == len(TONES), "api: the %d uploads are counted by route and status"
           % len(TONES), uploads)
    timed = metric_value(fams["api"], "onair_http_request_duration_seconds_count",
                         route="/api/v1/files")
    tap.ok(timed is not None and timed >= len(TONES), "api: and timed", timed)
    done = metric_value(fams["worker"], "onair_tasks_total", kind="analyze_file",
                        result="done")
    took = metric_value(fams["worker"], "onair_task_duration_seconds_count",
                        kind="analyze_file")
    tap.ok(done == len(TONES) and took == len(TONES),
           "worker: the %d analyses are counted and timed" % len(TONES), (done, took))
    started = metric_value(fams["messages"], "onair_asrun_items_total", result="started")
    skipped = metric_value(fams["messages"], "onair_asrun_items_total", result="skipped")
    tap.ok(started and started > 0 and skipped and skipped >= 1,
           "messages: items started and the skip are counted", (started, skipped))
    for role in ("a", "b"):
        f = fams[role]
        items = metric_value(f, "onair_playout_items_total", result="started")
        skip = metric_value(f, "onair_playout_items_total", result="skipped")
        live = metric_value(f, "onair_playout_source_seconds_total", source="show_live")
        sched = metric_value(f, "onair_playout_source_seconds_total", source="schedule")
        up = metric_value(f, "onair_playout_output_up", output="icecast:/live.mp3")
        restarts = metric_value(f, "onair_playout_liquidsoap_restarts_total")
        tap.ok(items and items >= 5 and skip == 1 and live and live > 3 and sched and
               sched > 10 and up == 1 and restarts == 0,
               "playout %s: items, the skip, seconds of the DJ and of the schedule, its "
               "output up, no Liquidsoap restart" % role,
               dict(items=items, skip=skip, live=live, sched=sched, up=up, restarts=restarts))


def main():
    tap = Tap()
    api = Api("sqlite", "api2air")
    st = Station("api2air")
    st.nats_port = api.nats_port
    procs = {}
    djs = []
    nats_cmd = ["nats-server", "-a", "127.0.0.1", "-p", str(api.nats_port), "-js",
                "-sd", os.path.join(api.dir, "nats")]
    try:
        d = st.dir
        mport = {role: free_port() for role in ("worker", "messages", "a", "b")}
        wenv = dict(api.env, ONAIR_METRICS_PORT=str(mport["worker"]))
        menv = dict(api.env, ONAIR_METRICS_PORT=str(mport["messages"]))
        procs["worker"] = spawn([ONAIR, "worker"], os.path.join(d, "worker.log"), env=wenv)
        mlog = os.path.join(d, "messages.log")
        procs["messages"] = spawn([ONAIR, "messages"], mlog, env=menv)
        api.add_user("pm", "program_manager")
        api.add_user("dj", "host")
        pm = api.client()
        pm.login("pm")
        dj = api.client()
        dj.login("dj")
        users = {u["name"]: u["id"] for u in pm.get(V1 + "/users").json["items"]}

        # -- the library, a playlist, a show on air now
        fid = {}
        for f in TONES:
            data = open(make_tone(os.path.join(d, "t%d.mp3" % f), f, 3), "rb").read()
            r = pm.post(V1 + "/files?filename=t%d.mp3" % f, raw=data)
            fid[f] = r.json["file"]["id"]
            pm.patch(V1 + "/files/%d" % fid[f], {"title": "Tone %d" % f})
        states = wait_analysed(pm, list(fid.values()))
        tap.ok(states == ["ready"] * len(TONES), "five uploads are analysed", states)
        r = pm.post(V1 + "/playlists", {"name": "Tones"})
        pl = r.json["id"]
        r = pm.put(V1 + "/playlists/%d/items" % pl,
                   {"version": 1, "items": [{"file_id": fid[f]} for f in PLAYLIST]})
        tap.ok(r.status == 200 and len(r.json["items"]) == len(PLAYLIST),
               "a playlist of twelve tones", r)
        r = pm.post(V1 + "/shows", {"name": "Air test", "live_input": "hosts"})
        show = r.json["id"]
        pm.put(V1 + "/shows/%d/hosts" % show, {"user_ids": [users["dj"]]})
        now = datetime.datetime.now(datetime.timezone.utc)
        begin = (now - datetime.timedelta(minutes=1)).replace(second=0, microsecond=0)
        r = pm.post(V1 + "/shows/%d/recurrences" % show, {
            "frequency": "weekly", "weekdays": 127, "start_date": begin.date().isoformat(),
            "start_time": begin.strftime("%H:%M"), "duration_us": 10 * 60 * US,
            "timezone": "UTC"})
        tap.ok(r.status == 201, "a show on air now, hosted by dj", r)
        frm = (now - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        to = (now + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = pm.get(V1 + "/instances?from=%s&to=%s&show_id=%d" % (frm, to, show))
        inst = r.json["items"][0]
        url = V1 + "/instances/%d/items" % inst["id"]
        r = pm.post(url, {"version": inst["version"], "playlist_id": pl})
        version = r.json["version"]

        # -- the play block
        st.start_icecast("main")
        st.start_icecast("b")
        media = {"ONAIR_PLAYOUT_MEDIA_URL":
                 "http://127.0.0.1:%d/api/v1/files/{id}/content" % api.port,
                 "ONAIR_PLAYOUT_MEDIA_TOKEN": api.playout_token}
        st.start_playout("a", extra_env=dict(media, ONAIR_METRICS_PORT=str(mport["a"])),
                         icecast="main")
        st.start_playout("b", extra_env=dict(media, ONAIR_METRICS_PORT=str(mport["b"])),
                         icecast="b")
        st.wait_on_air("a")
        st.wait_on_air("b")

        # The tones begin at T: a silence slot fills the show until then.
        t_start = time.time() + 12
        lead = int((t_start - parse_time(inst["starts_at"])) * US)
        r = pm.post(url, {"version": version, "kind": "silence", "length_us": lead,
                          "position": 0})
        tap.ok(r.status == 201, "a silence slot until T", r)
        version = r.json["version"]
        items = [i for i in r.json["items"] if i["kind"] == "file"]
        t_start = parse_time(items[0]["starts_at"])
        ice = {"a": IcecastListener(st.icecast_url(server="main")),
               "b": IcecastListener(st.icecast_url(server="b"))}

        # +4: remove the 770 Hz item.
        wait_for("+4", lambda: time.time() > t_start + 4, 30)
        r = pm.delete(V1 + "/schedule-items/%d?version=%d" % (items[REMOVED]["id"], version))
        edited = time.time()
        tap.ok(r.status == 204, "the 770 Hz item is removed through the API", r)
        # +7, +9: messages and NATS go and come back.
        wait_for("+7", lambda: time.time() > t_start + 7, 10)
        stop(procs["messages"], signal.SIGKILL)
        procs["messages"] = spawn([ONAIR, "messages"], mlog, env=menv)
        wait_for("+9", lambda: time.time() > t_start + 9, 10)
        stop(api.nats, signal.SIGKILL)
        time.sleep(1)
        api.nats = spawn(nats_cmd, os.path.join(api.dir, "nats.log"))
        # +14: the DJ, on both instances.
        wait_for("+14", lambda: time.time() > t_start + 14, 10)
        t_live_on = time.time()
        for name in ("a", "b"):
            djs.append(dj_source(st.playouts[name]["harbor_port"],
                                 os.path.join(d, "dj-%s.log" % name)))
        seen = None
        t_dj_seen = None  # when both playouts said the DJ was connected
        end = time.time() + 6
        while time.time() < end:
            r = pm.get(V1 + "/status")
            seen = [(i["instance"], i["live"]["show"]) for i in r.json.get("instances", [])]
            if seen == [("a", "dj"), ("b", "dj")]:
                t_dj_seen = time.time()
                break
            time.sleep(0.2)
        tap.ok(seen == [("a", "dj"), ("b", "dj")], "the status names the DJ on both", seen)
        wait_for("+23", lambda: time.time() > t_start + 23, 15)
        t_live_off = time.time()
        for p in djs:
            stop(p)
        # +25: status; +28: skip.
        wait_for("+25", lambda: time.time() > t_start + 25, 10)
        r = pm.post(V1 + "/playout/commands", {"command": "status"})
        revs = {x["instance"]: x["status"]["snapshot_revision"] for x in
                (r.json or {}).get("replies", []) if x.get("status")}
        tap.ok(r.status == 200 and sorted(revs) == ["a", "b"] and len(set(revs.values())) == 1
               and r.json["ok"], "both instances answer the status, at one revision", r)
        wait_for("+28", lambda: time.time() > t_start + 28, 10)
        t_skip = time.time()
        r = pm.post(V1 + "/playout/commands", {"command": "skip"})
        tap.ok(r.status == 200 and [x["instance"] for x in r.json["replies"]] == ["a", "b"]
               and r.json["ok"], "both instances carry out the skip", r)
        log("skip answered in %.0f ms" % ((time.time() - t_skip) * 1000))
        wait_for("the end", lambda: time.time() > t_start + 33, 20)
        for name, listener in ice.items():
            listener.stop()
            listener.save(os.path.join(d, "heard-%s.mp3" % name))

        # -- the new schedule reached both instances within a second
        r = pm.get(V1 + "/instances/%d" % inst["id"])
        after = [i for i in r.json["items"] if i["kind"] == "file"]
        for name in ("a", "b"):
            took = [t - edited for t, _ in revision_times(st.playout_log(name)) if t > edited]
            took = took[0] if took else None
            tap.ok(took is not None and took < 1.0, "%s has the edit %s after the API's answer"
                   % (name, "%.0f ms" % (took * 1000) if took is not None else "never"))

        # -- what was heard
        def plan_at(t):
            for i in after:
                if parse_time(i["starts_at"]) <= t < parse_time(i["ends_at"]):
                    return int(i["title"].split()[1])
            return None

        for name, listener in ice.items():
            runs = listener.runs(TONES + [LIVE])
            log(name, "heard:", " ".join("%.1f-%.1f:%d" % (a, b, f) for a, b, f, _ in runs))

            def at(wall):
                rel = wall - listener.first_byte
                for a, b, f, _ in runs:
                    if a <= rel < b:
                        return f
                return None
            probes = [(parse_time(i["starts_at"]) + parse_time(i["ends_at"])) / 2 for i in after]
            probes = [t for t in probes if t < t_live_on - 0.5 or t_live_off + 3.5 < t < t_skip]
            wrong = [(round(t - t_start, 1), plan_at(t), at(t)) for t in probes
                     if at(t) != plan_at(t)]
            tap.ok(len(probes) >= 5 and not wrong,
                   "%s: each item is heard at its time, the edit included (%d probes)"
                   % (name, len(probes)), wrong)
            # The DJ is heard from about 3.5 s after playout says it is
            # connected (the harbor's 2 s buffer, the fade) to about 3 s after
            # leaving. Anchored on the connection, not on when ffmpeg was
            # started: that takes longer on a loaded machine.
            heard_from = (t_dj_seen or t_live_on + 2) + 4.0
            probes_live = (heard_from, (heard_from + t_live_off + 0.5) / 2, t_live_off + 0.5)
            tap.ok(all(at(t) == LIVE for t in probes_live), "%s: the DJ is heard" % name,
                   [(round(t - t_start, 1), at(t)) for t in probes_live])
            tap.ok(plan_at(t_skip) == plan_at(t_skip + 1.5) and
                   at(t_skip - 0.5) == plan_at(t_skip) and at(t_skip + 1.5) != plan_at(t_skip),
                   "%s: the skipped item stops" % name,
                   (plan_at(t_skip), at(t_skip - 0.5), at(t_skip + 1.5)))
            after_skip = max(parse_time(i["starts_at"]) for i in after
                             if parse_time(i["starts_at"]) <= t_skip + 2.5) + 1.5
            tap.ok(plan_at(after_skip) != plan_at(t_skip) and
                   at(after_skip) == plan_at(after_skip),
                   "%s: the next item plays at its time after the skip" % name,
                   (plan_at(after_skip), at(after_skip)))

        # -- the as-run log
        def as_run():
            frm = datetime.datetime.fromtimestamp(t_start - 60, datetime.timezone.utc)
            to = datetime.datetime.fromtimestamp(time.time() + 60, datetime.timezone.utc)
            r = pm.get(V1 + "/as-run?from=%s&to=%s" % (frm.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                       to.strftime("%Y-%m-%dT%H:%M:%SZ")))
            return (r.json or {}).get("items", [])
        played = [i for i in after if parse_time(i["starts_at"]) < t_start + 32]
        wait_for("the as-run log", lambda: len([x for x in as_run() if x["kind"] == "item"
                                                and x["file_id"]]) >= len(played), 30)
        rows = as_run()
        files = [x for x in rows if x["kind"] == "item" and x["file_id"]]
        for x in rows:
            log("as-run: %s %s scheduled %s started %s ended %s %s %s" % (
                x["kind"], x["title"], x["scheduled_start_at"], x["started_at"],
                x["ended_at"], x["end_reason"], x["playout_instance"]))
        starts = sorted(x["scheduled_start_at"] for x in files)
        want = sorted(i["starts_at"] for i in played)
        tap.ok([parse_time(s) for s in starts] == [parse_time(s) for s in want],
               "the as-run log has each of the %d items played once" % len(want),
               json.dumps({"got": starts, "want": want}))
        late = [(x["title"], round(parse_time(x["started_at"]) -
                                   parse_time(x["scheduled_start_at"]), 2)) for x in files
                if abs(parse_time(x["started_at"]) - parse_time(x["scheduled_start_at"])) > 1]
        tap.ok(not late, "each started within a second of its time", late)
        tap.ok(not any(parse_time(x["scheduled_start_at"]) ==
                       parse_time(items[REMOVED]["starts_at"]) and x["title"] == "Tone 770"
                       for x in files), "the removed item is not in it")
        skipped = [x for x in files if x["end_reason"] == "skipped"]
        tap.ok(len(skipped) == 1 and
               abs(parse_time(skipped[0]["ended_at"]) - t_skip) < 1 and
               plan_at(parse_time(skipped[0]["scheduled_start_at"]) + 0.1) == plan_at(t_skip),
               "the skipped item is marked skipped, ended at the skip", skipped)
        live = [x for x in rows if x["kind"] == "live"]
        tap.ok(len(live) == 1 and live[0]["title"] == "dj" and live[0]["source"] == "show_live"
               and live[0]["show_name"] == "Air test"
               and t_live_on - 1 < parse_time(live[0]["started_at"]) < t_live_on + 5
               and live[0]["ended_at"] and
               t_live_off - 1 < parse_time(live[0]["ended_at"]) < t_live_off + 5,
               "the DJ's session is in it once", live)
        check_metrics(tap, api, mport)
        # onair api stops cleanly, every answer as docs/openapi.json says.
        api.finish(tap)
    except Exception:  # noqa: BLE001
        import traceback
        tap.ok(False, "the test ran to the end", traceback.format_exc())
    finally:
        for p in djs:
            stop(p)
        for p in procs.values():
            stop(p)
        st.close()
        api.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
