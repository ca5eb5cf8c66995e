#!/usr/bin/env python3
"""Playlists, smart blocks, shows and the schedule through the web API on
one database backend (argument: sqlite or postgres): building a playlist
and a smart block (criteria, preview), a weekly show with hosts, a
recurrence and an exception, reading its instances, placing the playlist,
a file and a live slot into an instance, moving and removing items with
optimistic concurrency, the host rule (only into shows they host), and the
schedule window; bad input named field by field."""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from apilib import Api, Tap, wait_analysed  # noqa: E402
from test_core import is_problem, tone  # noqa: E402

V1 = "/api/v1"


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    tap = Tap()
    api = Api(backend, "lib-" + backend)
    worker = None
    try:
        from apilib import ONAIR, spawn
        worker = spawn([ONAIR, "worker"], os.path.join(api.dir, "worker.log"), env=api.env)
        for name, role in (("admin", "admin"), ("pm", "program_manager"), ("h1", "host"),
                           ("h2", "host"), ("g", "guest")):
            api.add_user(name, role)
        clients = {}
        for name in ("admin", "pm", "h1", "h2", "g"):
            c = api.client()
            c.login(name)
            clients[name] = api.client(c.post(V1 + "/tokens", {"name": "t"}).json["token"])
        admin, pm, h1, h2, guest = (clients[n] for n in ("admin", "pm", "h1", "h2", "g"))
        users = {u["name"]: u["id"] for u in admin.get(V1 + "/users").json["items"]}

        # Three analysed files (the worker runs).
        fids = []
        for i, (freq, secs) in enumerate(((440, 3), (550, 4), (660, 5))):
            data = tone(os.path.join(api.dir, "t%d.mp3" % i), freq, secs)
            r = h1.post(V1 + "/files?filename=t%d.mp3" % i, raw=data)
            fids.append(r.json["file"]["id"])
            h1.patch(V1 + "/files/%d" % fids[-1], {"title": "Tone %d" % freq,
                                                   "artist": "Artist %d" % i,
                                                   "genre": "test"})
        states = wait_analysed(admin, fids)
        tap.ok(states == ["ready"] * 3, "three uploads are analysed by the worker", states)

        # -- playlists
        r = h1.post(V1 + "/playlists", {"name": "Morning", "description": "tones"})
        tap.ok(r.status == 201 and r.json["owner_id"] == users["h1"] and r.json["version"] == 1,
               "a host makes a playlist and owns it", r)
        pl = r.json["id"]
        r = h1.put(V1 + "/playlists/%d/items" % pl, {"version": 1, "items": [
            {"file_id": fids[0]}, {"file_id": fids[1], "fade_in_us": 200000},
            {"file_id": 999999}, {"file_id": fids[2], "webstream_id": 1}, {}]})
        fields = sorted(e["field"] for e in (r.json or {}).get("errors", []))
        tap.ok(is_problem(r, 422) and "items.2.file_id" in fields and
               any(f.startswith("items.3") for f in fields) and
               any(f.startswith("items.4") for f in fields),
               "bad playlist items are named by position", r)
        r = h1.put(V1 + "/playlists/%d/items" % pl, {"version": 1, "items": [
            {"file_id": fids[0]}, {"file_id": fids[1], "fade_in_us": 200000},
            {"file_id": fids[2], "cue_in_us": 500000}]})
        tap.ok(r.status == 200 and [i["file_id"] for i in r.json["items"]] == fids and
               r.json["version"] == 2, "the playlist's items are set", r)
        r = h1.put(V1 + "/playlists/%d/items" % pl, {"version": 1, "items": []})
        tap.ok(is_problem(r, 409), "an edit on an old version is a 409", r)
        r = h2.put(V1 + "/playlists/%d/items" % pl, {"version": 2, "items": []})
        tap.ok(is_problem(r, 403), "another host cannot change it", r)
        r = guest.get(V1 + "/playlists/%d/items" % pl)
        tap.ok(r.status == 200 and len(r.json["items"]) == 3 and
               r.json["items"][0].get("title") == "Tone 440", "a guest reads it, with titles", r)
        r = admin.get(V1 + "/playlists?q=morn")
        tap.ok(r.status == 200 and r.json["total"] == 1, "playlists are searched", r)

        # -- smart blocks
        r = h1.post(V1 + "/smart-blocks", {"name": "Tones", "limit_type": "items",
                                           "limit_value": 2, "sort": "title"})
        tap.ok(r.status == 201, "a host makes a smart block", r)
        sb = r.json["id"]
        r = h1.put(V1 + "/smart-blocks/%d/criteria" % sb, {"criteria": [
            {"group": 0, "field": "colour", "modifier": "is", "value": "red"},
            {"group": 0, "field": "year", "modifier": "between", "value": "1990"}]})
        fields = sorted(e["field"] for e in (r.json or {}).get("errors", []))
        tap.ok(is_problem(r, 422) and fields and fields[0].startswith("criteria.0"),
               "an unknown criterion field is named", r)
        r = h1.put(V1 + "/smart-blocks/%d/criteria" % sb, {"criteria": [
            {"group": 0, "field": "genre", "modifier": "is", "value": "test"}]})
        tap.ok(r.status == 200 and len(r.json["criteria"]) == 1, "criteria are set", r)
        r = guest.get(V1 + "/smart-blocks/%d/preview?seed=1" % sb)
        picked = [i["file_id"] for i in (r.json or {}).get("items", [])]
        tap.ok(r.status == 200 and len(picked) == 2 and set(picked) <= set(fids) and
               r.json["candidates"] == 3, "the preview picks two of the three", r)
        r = guest.get(V1 + "/smart-blocks/%d/preview?colour=red" % sb)
        tap.ok(is_problem(r, 400), "an unknown preview parameter is a 400", r)

        # -- shows, hosts, recurrences
        r = h1.post(V1 + "/shows", {"name": "Nope"})
        tap.ok(is_problem(r, 403), "hosts do not make shows", r)
        r = pm.post(V1 + "/shows", {"name": "Drive", "color": "red"})
        tap.ok(is_problem(r, 422, "color"), "a colour must be #rrggbb", r)
        r = pm.post(V1 + "/shows", {"name": "Drive", "color": "#336699", "live_input": "hosts"})
        tap.ok(r.status == 201, "a program manager makes a show", r)
        show = r.json["id"]
        r = pm.put(V1 + "/shows/%d/hosts" % show, {"user_ids": [users["h1"], 999999]})
        tap.ok(is_problem(r, 422, "user_ids.1"), "an unknown host is named", r)
        r = pm.put(V1 + "/shows/%d/hosts" % show, {"user_ids": [users["h1"]]})
        tap.ok(r.status == 200 and [h["id"] for h in r.json["hosts"]] == [users["h1"]],
               "h1 hosts the show", r)
        now = datetime.datetime.now(datetime.timezone.utc)
        start = (now + datetime.timedelta(days=1)).date()
        rec = {"frequency": "weekly", "weekdays": 127, "start_date": start.isoformat(),
               "start_time": "10:00", "duration_us": 3600 * 1000000, "timezone": "UTC"}
        r = pm.post(V1 + "/shows/%d/recurrences" % show, dict(rec, timezone="Mars/Base"))
        tap.ok(is_problem(r, 422) and "timezone" in r.body.decode(), "an unknown zone is refused",
               r)
        r = pm.post(V1 + "/shows/%d/recurrences" % show, dict(rec, start_time="25:00"))
        tap.ok(is_problem(r, 422), "a time of 25:00 is refused", r)
        r = pm.post(V1 + "/shows/%d/recurrences" % show, rec)
        tap.ok(r.status == 201 and r.json["frequency"] == "weekly", "a daily recurrence", r)
        recid = r.json["id"]
        second = start + datetime.timedelta(days=1)
        r = pm.post(V1 + "/recurrences/%d/exceptions" % recid,
                    {"instance_date": second.isoformat(), "kind": "cancelled"})
        tap.ok(r.status == 201, "the second day is cancelled", r)
        r = pm.post(V1 + "/recurrences/%d/exceptions" % recid,
                    {"instance_date": second.isoformat(), "kind": "cancelled"})
        tap.ok(r.status == 409, "twice is a conflict", r)

        # -- instances
        frm = datetime.datetime.combine(start, datetime.time(0), datetime.timezone.utc)
        to = frm + datetime.timedelta(days=3)
        r = guest.get(V1 + "/instances?from=%s&to=%s" % (iso(frm), iso(to)))
        days = sorted(i["starts_at"][:10] for i in (r.json or {}).get("items", []))
        tap.ok(r.status == 200 and len(days) == 2 and second.isoformat() not in days,
               "three days, one cancelled: two instances", r)
        inst = r.json["items"][0]
        r = guest.get(V1 + "/instances?from=%s" % iso(frm))
        tap.ok(is_problem(r, 400), "instances need a range", r)

        # -- placing
        url = V1 + "/instances/%d/items" % inst["id"]
        r = h2.post(url, {"version": inst["version"], "file_id": fids[0]})
        tap.ok(is_problem(r, 403), "a host cannot schedule into a show they do not host", r)
        r = h1.post(url, {"version": inst["version"], "playlist_id": pl})
        tap.ok(r.status == 201 and len(r.json["items"]) == 3, "the host places the playlist", r)
        version = r.json["version"]
        items = r.json["items"]
        ok = all(items[i]["ends_at"] > items[i]["starts_at"] for i in range(3)) and \
            items[0]["starts_at"] == inst["starts_at"]
        tap.ok(ok, "back to back from the start of the show", items)
        r = h1.post(url, {"version": version - 1, "file_id": fids[0]})
        tap.ok(is_problem(r, 409), "an insert on an old version is a 409", r)
        r = pm.post(url, {"version": version, "kind": "live", "length_us": 600000000,
                          "position": 0})
        tap.ok(r.status == 201 and r.json["items"][0]["kind"] == "live",
               "a live slot goes first", r)
        version = r.json["version"]
        r = pm.post(url, {"version": version, "file_id": fids[0], "webstream_id": 1})
        tap.ok(is_problem(r, 422), "two sources in one item are refused", r)
        first = r.json and None
        r = guest.get(V1 + "/instances/%d" % inst["id"])
        items = r.json["items"]
        tap.ok(r.status == 200 and len(items) == 4 and r.json["version"] == version,
               "the instance reads back", r)
        live_id = items[0]["id"]
        r = h1.patch(V1 + "/schedule-items/%d" % live_id, {"version": version, "position": 3})
        tap.ok(r.status == 200 and r.json["items"][3]["kind"] == "live", "the live slot moves last",
               r)
        version = r.json["version"]
        r = h1.delete(V1 + "/schedule-items/%d?version=%d" % (live_id, version - 1))
        tap.ok(is_problem(r, 409), "a removal on an old version is a 409", r)
        r = h1.delete(V1 + "/schedule-items/%d" % live_id)
        tap.ok(is_problem(r, 400, "version"), "a removal needs the version", r)
        r = h1.delete(V1 + "/schedule-items/%d?version=%d" % (live_id, version))
        tap.ok(r.status == 204, "the live slot is removed", r)
        r = admin.delete(V1 + "/files/%d" % fids[0])
        tap.ok(is_problem(r, 409), "a scheduled file cannot be deleted", r)

        # -- the schedule window
        r = guest.get(V1 + "/schedule?from=%s&to=%s" % (iso(frm), iso(to)))
        its = (r.json or {}).get("items", [])
        tap.ok(r.status == 200 and [i["file_id"] for i in its] == fids and
               its[0]["show_name"] == "Drive", "the window lists the three items in order", r)
        r = guest.get(V1 + "/schedule?from=%s&to=%s" % (iso(to), iso(frm)))
        tap.ok(is_problem(r, 400), "a reversed window is a 400", r)
        r = pm.delete(V1 + "/shows/%d" % show)
        tap.ok(r.status == 204, "the show is deleted", r)
    except Exception:  # noqa: BLE001
        import traceback
        tap.ok(False, "the test ran to the end", traceback.format_exc() + "\n" + api.log_tail())
    else:
        api.finish(tap)
    finally:
        if worker:
            from apilib import stop
            stop(worker)
        api.close()
    sys.exit(tap.done())


if __name__ == "__main__":
    main()
