#!/usr/bin/env python3
"""POST /api/v1/playout/commands on one database backend (argument: sqlite
or postgres), without a playout: every malformed command is refused with
the member at fault named; who may send what (a host only during a show
they host, and only what concerns the show); with nobody to answer, a 503
that comes before the wait's end. Replies and their effect on air are
tested end to end with real playouts (tests/e2e/test_api_to_air.py)."""
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from apilib import Api, Tap  # noqa: E402

V1 = "/api/v1"
URL = V1 + "/playout/commands"


def is_problem(r, status, field=None):
    if r.status != status or not (r.header("Content-Type") or "").startswith(
            "application/problem+json"):
        return False
    if field is None:
        return True
    return any(e.get("field") == field for e in (r.json or {}).get("errors", []))


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    tap = Tap()
    api = Api(backend, "commands-" + backend)
    try:
        for name, role in (("pm", "program_manager"), ("h1", "host"), ("h2", "host"),
                           ("g", "guest")):
            api.add_user(name, role)
        c = {}
        for name in ("pm", "h1", "h2", "g"):
            c[name] = api.client()
            c[name].login(name)
        pm, h1, h2, g = c["pm"], c["h1"], c["h2"], c["g"]
        users = {u["name"]: u["id"] for u in pm.get(V1 + "/users").json["items"]}

        bad = [
            ({}, "command", "a command is required"),
            ({"command": "explode"}, "command", "an unknown command"),
            ({"command": 3}, "command", "a command that is not text"),
            ({"command": "source", "enabled": True}, "source", "source without its source"),
            ({"command": "source", "source": "schedule"}, "enabled", "source without enabled"),
            ({"command": "source", "source": "fallback", "enabled": True}, "source",
             "a source that cannot be switched"),
            ({"command": "source", "source": "schedule", "enabled": "yes"}, "enabled",
             "enabled that is not a boolean"),
            ({"command": "skip", "source": "schedule"}, "source", "source on a skip"),
            ({"command": "skip", "enabled": False}, "enabled", "enabled on a skip"),
            ({"command": "disconnect_live"}, "input", "disconnect without its input"),
            ({"command": "disconnect_live", "input": "aux"}, "input", "an unknown input"),
            ({"command": "status", "input": "main"}, "input", "input on a status"),
            ({"command": "skip", "instance": "../a"}, "instance", "an instance name with a path"),
            ({"command": "skip", "instance": ""}, "instance", "an empty instance name"),
            ({"command": "skip", "instance": "x" * 65}, "instance", "a long instance name"),
            ({"command": "skip", "colour": "red"}, "colour", "an unknown member"),
        ]
        for body, field, what in bad:
            r = pm.post(URL, body)
            tap.ok(is_problem(r, 422, field), "refused, naming %s: %s" % (field, what), r)
        r = pm.post(URL, raw=b'{"command": "skip"', headers={"Content-Type": "application/json"})
        tap.ok(is_problem(r, 400), "malformed JSON is a 400", r)

        r = g.post(URL, {"command": "status"})
        tap.ok(is_problem(r, 403), "a guest sends no command", r)
        r = api.client().post(URL, {"command": "status"})
        tap.ok(is_problem(r, 401), "nor does an anonymous caller", r)

        # Nobody answers: a 503 well before the 2 s wait when the server
        # says no one listens.
        t0 = time.time()
        r = pm.post(URL, {"command": "skip"})
        took = time.time() - t0
        tap.ok(is_problem(r, 503) and "no playout instance answered" in r.body.decode()
               and r.header("Retry-After"), "no playout: 503 with Retry-After", r)
        r = pm.post(URL, {"command": "status", "instance": "studio-b"})
        tap.ok(is_problem(r, 503) and "studio-b did not answer" in r.body.decode(),
               "a named instance that does not answer is named", r)
        tap.ok(took < 30, "the answer does not wait out a long time (%.2f s)" % took)

        # A show h1 hosts, on air now.
        r = pm.post(V1 + "/shows", {"name": "Morning"})
        show = r.json["id"]
        pm.put(V1 + "/shows/%d/hosts" % show, {"user_ids": [users["h1"]]})
        now = datetime.datetime.now(datetime.timezone.utc)
        begin = (now - datetime.timedelta(minutes=30)).replace(second=0, microsecond=0)
        r = pm.post(V1 + "/shows/%d/recurrences" % show, {
            "frequency": "weekly", "weekdays": 127, "start_date": begin.date().isoformat(),
            "start_time": begin.strftime("%H:%M"), "duration_us": 2 * 3600 * 1000000,
            "timezone": "UTC"})
        tap.ok(r.status == 201, "a show hosted by h1 is on air", r)

        for body in ({"command": "skip"}, {"command": "disconnect_live", "input": "show"},
                     {"command": "source", "source": "show_live", "enabled": False},
                     {"command": "status"}):
            r = h1.post(URL, body)
            tap.ok(is_problem(r, 503), "the show's host may send %s (no playout: 503)"
                   % body["command"], r)
        for body in ({"command": "disconnect_live", "input": "main"},
                     {"command": "source", "source": "schedule", "enabled": False},
                     {"command": "reload"}):
            r = h1.post(URL, body)
            tap.ok(is_problem(r, 403) and "program manager" in r.body.decode(),
                   "the host may not send %s" % body, r)
        r = h2.post(URL, {"command": "skip"})
        tap.ok(is_problem(r, 403) and "while a show they host" in r.body.decode(),
               "another host may not skip during h1's show", r)
        r = h2.post(URL, {"command": "status"})
        tap.ok(is_problem(r, 503), "any host may ask for the status", r)
        r = pm.post(URL, {"command": "disconnect_live", "input": "main"})
        tap.ok(is_problem(r, 503), "a program manager may send anything", r)

        if backend == "sqlite":
            rows = api.sql("SELECT actor, details FROM audit_log WHERE action = 'command'"
                           " AND entity = 'playout' ORDER BY id")
            tap.ok(len(rows) == 8 and rows[0][0] == "pm" and '"skip"' in rows[0][1],
                   "the 8 commands sent are in the audit log, with who and what", rows)
        api.finish(tap)
    finally:
        api.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
