#!/usr/bin/env python3
"""The web API's remaining endpoints on one database backend (argument:
sqlite or postgres), and bad input across the board: SQL metacharacters
and odd Unicode in every text field of every resource that takes text,
expired and revoked credentials, a waveform and a re-analysis, rule and
exception edits, tokens of other users, tasks that failed and are
retried, the as-run log and listener statistics with data in them."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from apilib import ONAIR, Api, Tap, spawn, stop, wait_analysed  # noqa: E402
from test_core import is_problem, tone  # noqa: E402

V1 = "/api/v1"
EVIL = ["Robert'); DROP TABLE users;--", "\" OR \"1\"=\"1", "%_\\", "\u00e9\u00df\u2603 \U0001f4fb",
        "x" * 180]


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    tap = Tap()
    api = Api(backend, "more-" + backend)
    worker = None
    try:
        worker = spawn([ONAIR, "worker"], os.path.join(api.dir, "worker.log"), env=api.env)
        api.add_user("admin", "admin")
        api.add_user("h1", "host")
        s = api.client()
        s.login("admin")
        admin = api.client(s.post(V1 + "/tokens", {"name": "t"}).json["token"])
        h = api.client()
        h.login("h1")
        h1tok = h.post(V1 + "/tokens", {"name": "h1"})
        host = api.client(h1tok.json["token"])

        # -- every text field of every resource keeps hostile text as text
        good = {
            "/track-types": {"code": "t1", "name": "n"},
            "/webstreams": {"name": "n", "url": "https://s.example/a", "duration_us": 60000000},
            "/podcasts": {"url": "https://p.example/feed.xml"},
            "/playlists": {"name": "n"},
            "/smart-blocks": {"name": "n"},
            "/shows": {"name": "n"},
            "/users": {"name": "u1", "role": "guest"},
        }
        textual = {"/track-types": ["name", "description"],
                   "/webstreams": ["name", "description", "url"],
                   "/podcasts": ["url"], "/playlists": ["name", "description"],
                   "/smart-blocks": ["name", "description"],
                   "/shows": ["name", "description", "genre", "url"],
                   "/users": ["display_name", "email"]}
        wrong = []
        n = 0
        for path, fields in textual.items():
            for field in fields:
                for i, evil in enumerate(EVIL):
                    n += 1
                    b = dict(good[path])
                    value = ("https://x.example/" + evil.replace(" ", "%20")) \
                        if field == "url" else evil
                    b[field] = value
                    for unique in ("code", "url"):
                        if unique in b and unique != field:
                            b[unique] = (b[unique] + str(n)) if unique == "code" else \
                                b[unique] + "?n=%d" % n
                    if path == "/users":
                        b["name"] = "u%d" % n
                    r = admin.post(V1 + path, b)
                    if r.status == 201:
                        back = admin.get(r.header("Location")).json
                        if back.get(field) != value:
                            wrong.append("%s %s: stored %r" % (path, field, back.get(field)))
                    elif r.status != 422 or r.json.get("status") != 422:
                        wrong.append("%s %s %r: %d %s" % (path, field, evil[:20], r.status,
                                                          r.body[:100]))
        tap.ok(not wrong, "%d hostile strings in every text field: kept verbatim or "
               "refused with a 422" % n, "\n".join(wrong))
        r = admin.get(V1 + "/users?limit=500")
        tap.ok(r.status == 200 and r.json["total"] >= 3, "and the users table is still there", r)

        # -- expired and revoked credentials
        r = admin.delete(V1 + "/tokens/%d" % h1tok.json["id"])
        tap.ok(r.status == 204 and host.get(V1 + "/files").status == 401,
               "an admin revokes a host's token; it stops working", r)
        r = admin.get(V1 + "/tokens?user_id=%d" % h1tok.json["user_id"])
        tap.ok(r.status == 200 and r.json["items"][0]["revoked_at"] is not None,
               "an admin lists another user's tokens, revoked ones marked", r)
        host = api.client(h.post(V1 + "/tokens", {"name": "h1 again"}).json["token"])
        r = host.get(V1 + "/tokens?user_id=1")
        tap.ok(is_problem(r, 403, "user_id"), "a host cannot list another user's tokens", r)
        if backend == "sqlite":
            e = api.client()
            e.login("h1")
            api.sql("UPDATE sessions SET expires_at = 1")
            r = e.get(V1 + "/auth/me")
            tap.ok(is_problem(r, 401), "an expired session is refused", r)

        # -- a file: waveform, re-analysis, failure and retry
        data = tone(os.path.join(api.dir, "w.mp3"), 500, 3)
        r = host.post(V1 + "/files?filename=w.mp3", raw=data)
        fid = r.json["file"]["id"]
        bad = host.post(V1 + "/files?filename=bad.mp3", raw=b"this is not audio at all" * 100)
        bad_id = bad.json["file"]["id"]
        st = wait_analysed(admin, (fid, bad_id))
        tap.ok(st == ["ready", "failed"], "the worker analyses one and fails the other", st)
        r = admin.get(V1 + "/files/%d" % bad_id)
        tap.ok(r.json["failure_reason"], "the failure says why", r)
        r = host.get(V1 + "/files/%d/waveform" % fid)
        tap.ok(r.status == 200 and r.json is not None, "the waveform of the analysed file", r)
        r = host.get(V1 + "/files/%d/waveform" % bad_id)
        tap.ok(is_problem(r, 404), "no waveform for the failed one", r)
        r = admin.patch(V1 + "/files/%d" % fid, {"fade_in_us": 500000, "fade_out_us": 1000000})
        tap.ok(r.status == 200 and r.json["fade_in_us"] == 500000 and
               r.json["fade_out_us"] == 1000000, "the file's fades are set", r)
        r = admin.patch(V1 + "/files/%d" % fid, {"fade_in_us": 31000000, "fade_out_us": -1})
        fields = sorted(e["field"] for e in (r.json or {}).get("errors", []))
        tap.ok(is_problem(r, 422) and fields == ["fade_in_us", "fade_out_us"],
               "fades over 30 s or negative are refused, each named", r)
        r = admin.patch(V1 + "/files/%d" % fid, {"fade_in_us": None})
        tap.ok(r.status == 200 and r.json["fade_in_us"] is None and
               r.json["fade_out_us"] == 1000000, "a fade set back to none (the default)", r)
        r = host.post(V1 + "/files/%d/analyze" % fid)
        tap.ok(is_problem(r, 403), "a host cannot re-run analyses", r)
        r = admin.post(V1 + "/files/%d/analyze" % fid)
        tap.ok(r.status == 202 and r.json["task_id"], "an admin re-runs one", r)
        r = admin.get(V1 + "/tasks?state=failed")
        failed = [t for t in r.json["items"] if t["file_id"] == bad_id]
        if not failed:  # the task row may say done when the file failed for good
            failed = [t for t in admin.get(V1 + "/tasks?file_id=%d" % bad_id).json["items"]]
        tap.ok(r.status == 200 and failed, "the failed file's task is listed", r)
        task = failed[0]
        r = admin.get(V1 + "/tasks/%d" % task["id"])
        tap.ok(r.status == 200 and r.json["kind"] == "analyze_file", "a task by id", r)
        r = admin.post(V1 + "/tasks/%d/retry" % task["id"])
        tap.ok(r.status == 202 if task["state"] == "failed" else is_problem(r, 409),
               "a failed task is retried (one that finished is not)", r)

        # -- bulk upload: many files at once, each its own request
        import concurrent.futures
        blobs = [tone(os.path.join(api.dir, "b%d.mp3" % i), 300 + 40 * i, 1) for i in range(12)]

        def up(i):
            return host.post(V1 + "/files?filename=bulk%d.mp3" % i, raw=blobs[i])
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(up, range(12)))
        ids = {a.json["file"]["id"] for a in answers if a.status == 201}
        tap.ok(len(ids) == 12 and all(a.json["task_id"] for a in answers),
               "12 uploads at once: 12 files, each with its analysis queued",
               [a.status for a in answers])
        end = time.time() + 120
        while time.time() < end:
            r = admin.get(V1 + "/files?import_status=pending")
            if r.json["total"] == 0:
                break
            time.sleep(0.5)
        r = admin.get(V1 + "/files?import_status=ready&limit=100")
        tap.ok(ids <= {f["id"] for f in r.json["items"]}, "and all of them analysed", r)

        # -- track types, podcasts: change and delete
        tt = admin.post(V1 + "/track-types", {"code": "jingle", "name": "Jingle"}).json["id"]
        r = admin.patch(V1 + "/track-types/%d" % tt, {"silence_threshold_db": -45.5})
        tap.ok(r.status == 200 and r.json["silence_threshold_db"] == -45.5, "a track type changes",
               r)
        r = admin.patch(V1 + "/track-types/%d" % tt, {"silence_threshold_db": 3})
        tap.ok(is_problem(r, 422, "silence_threshold_db"), "a positive threshold is refused", r)
        r = admin.delete(V1 + "/track-types/%d" % tt)
        tap.ok(r.status == 204 and admin.get(V1 + "/track-types/%d" % tt).status == 404,
               "and is deleted", r)
        pod = admin.post(V1 + "/podcasts", {"url": "https://pod.example/x.xml"}).json["id"]
        r = admin.patch(V1 + "/podcasts/%d" % pod, {"poll_interval_us": 5})
        tap.ok(is_problem(r, 422, "poll_interval_us"), "a poll every 5 us is refused", r)
        r = admin.patch(V1 + "/podcasts/%d" % pod, {"auto_ingest": True, "tag_override": False})
        tap.ok(r.status == 200 and r.json["auto_ingest"] and not r.json["tag_override"],
               "a podcast changes", r)
        r = admin.post(V1 + "/podcasts/%d/episodes/999999/ingest" % pod)
        tap.ok(is_problem(r, 404), "an unknown episode is a 404", r)
        r = admin.delete(V1 + "/podcasts/%d" % pod)
        tap.ok(r.status == 204, "a podcast is deleted", r)

        # -- recurrences and exceptions: read, change, delete
        show = admin.post(V1 + "/shows", {"name": "Late"}).json["id"]
        rec = admin.post(V1 + "/shows/%d/recurrences" % show, {
            "frequency": "weekly", "weekdays": 1, "start_date": "2030-01-07",
            "start_time": "22:00", "duration_us": 7200000000, "timezone": "Europe/Berlin"})
        tap.ok(rec.status == 201 and rec.header("Location") == V1 + "/recurrences/%d" %
               rec.json["id"], "a weekly rule (Location names it)", rec)
        rid = rec.json["id"]
        r = admin.get(V1 + "/shows/%d/recurrences" % show)
        tap.ok(r.status == 200 and [x["id"] for x in r.json["items"]] == [rid], "listed", r)
        r = admin.patch(V1 + "/recurrences/%d" % rid, {"weekdays": 0})
        tap.ok(is_problem(r, 422), "a weekly rule without weekdays is refused", r)
        r = admin.patch(V1 + "/recurrences/%d" % rid, {"weekdays": 5, "start_time": "21:30"})
        tap.ok(r.status == 200 and r.json["weekdays"] == 5 and r.json["start_time"] == "21:30",
               "the rule changes", r)
        r = admin.post(V1 + "/recurrences/%d/exceptions" % rid,
                       {"instance_date": "2030-01-08", "kind": "cancelled"})
        tap.ok(is_problem(r, 422, "instance_date"), "an exception on a day without the show", r)
        r = admin.post(V1 + "/recurrences/%d/exceptions" % rid,
                       {"instance_date": "2030-01-09", "kind": "moved",
                        "moved_starts_at": "2030-01-09T10:00:00Z"})
        tap.ok(is_problem(r, 422, "moved_ends_at"), "a move needs its end", r)
        r = admin.post(V1 + "/recurrences/%d/exceptions" % rid,
                       {"instance_date": "2030-01-09", "kind": "moved",
                        "moved_starts_at": "2030-01-09T10:00:00Z",
                        "moved_ends_at": "2030-01-09T12:00:00Z"})
        tap.ok(r.status == 201, "an instance is moved", r)
        ex = r.json["id"]
        r = admin.get(V1 + "/instances?from=2030-01-09T00:00:00Z&to=2030-01-10T00:00:00Z")
        tap.ok(r.status == 200 and [i["starts_at"][:16] for i in r.json["items"]] ==
               ["2030-01-09T10:00"], "it is where it was moved", r)
        r = admin.get(V1 + "/recurrences/%d/exceptions" % rid)
        tap.ok(r.status == 200 and len(r.json["items"]) == 1, "exceptions are listed", r)
        r = admin.delete(V1 + "/exceptions/%d" % ex)
        tap.ok(r.status == 204, "the exception is deleted", r)
        r = admin.get(V1 + "/instances?from=2030-01-09T00:00:00Z&to=2030-01-10T00:00:00Z")
        tap.ok(r.status == 200 and [i["starts_at"][:16] for i in r.json["items"]] ==
               ["2030-01-09T20:30"], "and the instance is back at 21:30 Berlin time", r)
        r = admin.delete(V1 + "/recurrences/%d" % rid)
        tap.ok(r.status == 204, "the rule is deleted", r)
        r = admin.get(V1 + "/instances?from=2030-01-09T00:00:00Z&to=2030-01-10T00:00:00Z")
        tap.ok(r.status == 200 and r.json["items"] == [], "and its instances are gone", r)

        # -- history with data; a search with more matches than it counts
        if backend == "sqlite":
            api.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                    " WHERE i < 1200) INSERT INTO files (content_hash, size, mime, storage_key,"
                    " title, created_at, updated_at) SELECT 'sha256:' || i, 1, 'audio/mpeg',"
                    " 'x', 'Common tune ' || i, 0, 0 FROM n")
            r = admin.get(V1 + "/files?q=common%20tune&limit=5")
            tap.ok(r.status == 200 and r.json["total"] == 1000 and
                   r.json["total_exact"] is False and len(r.json["items"]) == 5,
                   "a search matching 1200 says 'at least 1000'", r)
            r = admin.get(V1 + "/files?q=common%20tune%201199&limit=5")
            tap.ok(r.status == 200 and r.json["total"] == 1 and r.json["total_exact"] is True,
                   "one matching 1 counts it", r)
            api.sql("INSERT INTO as_run (playout_instance, event_seq, title, artist, started_at,"
                    " ended_at, source, end_reason) VALUES ('p1', 1, 'Song, \"quoted\"', 'A',"
                    " 1893456000000000, 1893456180000000, 'schedule', 'ended')")
            api.sql("INSERT INTO listener_counts (output, at, listeners) VALUES"
                    " ('icecast:/live.mp3', 1893456000000000, 7)")
            # A DJ heard by two playout instances 2 s apart is one session;
            # the same DJ an hour later is another.
            # A DJ without a name heard by both instances is one session too.
            for inst, at, until, who in (("p1", 1893456300, 1893456900, "dj ann"),
                                         ("p2", 1893456302, 1893456901, "dj ann"),
                                         ("p1", 1893459900, None, "dj ann"),
                                         ("p1", 1893463500, 1893463600, None),
                                         ("p2", 1893463501, 1893463601, None)):
                api.sql("INSERT INTO live_sessions (input, user_name, playout_instance,"
                        " connected_at, disconnected_at) VALUES ('show', ?, ?, ?, ?)",
                        (who, inst, at * 1000000, until * 1000000 if until else None))
            r = admin.get(V1 + "/as-run?from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z")
            items = (r.json or {}).get("items", [])
            tap.ok(r.status == 200 and items and items[0]["title"] == 'Song, "quoted"' and
                   items[0]["kind"] == "item", "the as-run log", r)
            live = [(i["title"], i["source"], i["started_at"], i["ended_at"],
                     i["playout_instance"]) for i in items if i["kind"] == "live"]
            tap.ok(live == [("dj ann", "show_live", "2030-01-01T00:05:00Z",
                             "2030-01-01T00:15:00Z", "p1"),
                            ("dj ann", "show_live", "2030-01-01T01:05:00Z", None, "p1"),
                            (None, "show_live", "2030-01-01T02:05:00Z",
                             "2030-01-01T02:06:40Z", "p1")],
                   "live sessions are in it, once across instances", items)
            # A window starting between the two instances' connections still
            # lists the session once (the later instance's).
            r = admin.get(V1 + "/as-run?from=2030-01-01T00:05:01Z&to=2030-01-01T00:06:00Z")
            live = [(i["playout_instance"], i["started_at"]) for i in r.json["items"]
                    if i["kind"] == "live"]
            tap.ok(live == [("p2", "2030-01-01T00:05:02Z")],
                   "a session that began just before the window is not lost", r)
            r = admin.get(V1 + "/as-run?from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z",
                          headers={"Accept": "text/csv"})
            tap.ok(r.status == 200 and b'"Song, ""quoted"""' in r.body,
                   "as CSV, quoted as RFC 4180 says", r.body)
            r = admin.get(V1 + "/listeners?from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z")
            tap.ok(r.status == 200 and r.json["items"][0]["listeners"] == 7, "listener counts", r)
        r = admin.get(V1 + "/listeners/shows?from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z")
        tap.ok(r.status == 200 and isinstance(r.json["items"], list), "listeners per show", r)
    except Exception:  # noqa: BLE001
        import traceback
        tap.ok(False, "the test ran to the end", traceback.format_exc() + "\n" + api.log_tail())
    else:
        api.finish(tap)
    finally:
        if worker:
            stop(worker)
        api.close()
    sys.exit(tap.done())


if __name__ == "__main__":
    main()
