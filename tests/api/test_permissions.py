#!/usr/bin/env python3
"""The permission matrix of the web API on one database backend (argument:
sqlite or postgres): every route of `onair api routes` called by every
kind of caller (no credential, guest, host, program manager, admin, the
playout service credential), each answer checked against the role the
route needs; every state-changing route refused to a session without its
CSRF token; and the row-level rules (a host changes only what they own)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from apilib import ONAIR, Api, Tap  # noqa: E402

RANK = {"none": 0, "guest": 1, "host": 2, "program_manager": 3, "admin": 4}
MISSING = "999999"


def routes():
    out = subprocess.run([ONAIR, "api", "routes"], check=True, capture_output=True,
                         text=True).stdout
    table = []
    for line in out.splitlines():
        parts = line.split()
        table.append({"method": parts[0], "path": parts[1], "role": parts[2],
                      "service": "service" in parts[3:]})
    return table


def concrete(path):
    return "/".join(MISSING if p.startswith("{") else p for p in path.split("/"))


def call(client, route):
    path = concrete(route["path"])
    m = route["method"]
    if m in ("GET", "DELETE"):
        return client.request(m, path, stream=path.endswith("/stream"))
    if route["path"] == "/api/v1/files" and m == "POST":
        return client.request(m, path, raw=b"")
    return client.request(m, path, {})


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    tap = Tap()
    api = Api(backend, "perm-" + backend)
    try:
        table = routes()
        tap.ok(len(table) > 40, "the route table lists %d routes" % len(table))
        callers = {"none": api.client(), "service": api.client(api.playout_token)}
        for role in ("guest", "host", "program_manager", "admin"):
            api.add_user("u-" + role, role)
            c = api.client()
            c.login("u-" + role)
            r = c.post("/api/v1/tokens", {"name": "matrix"})
            callers[role] = api.client(r.json["token"])
        wrong = []
        checked = 0
        for route in table:
            for who, client in callers.items():
                if route["path"] == "/api/v1/auth/logout":
                    continue    # would end nothing for a token, checked below
                if who == "service":
                    allowed = route["service"]
                else:
                    allowed = RANK[who] >= RANK[route["role"]]
                r = call(client, route)
                denied = r.status in (401, 403)
                checked += 1
                if allowed == denied or r.status >= 500:
                    wrong.append("%s %s as %s: %d %s" % (route["method"], route["path"], who,
                                                         r.status, r.body[:160]))
        tap.ok(not wrong, "%d calls answered as the matrix says" % checked, "\n".join(wrong))

        # Sessions need the CSRF token for every state-changing route.
        admin = api.client()
        admin.login("u-admin")
        admin.csrf = None
        no_csrf = []
        for route in table:
            if route["method"] in ("GET", "HEAD") or route["path"] == "/api/v1/auth/login":
                continue
            r = call(admin, route)
            if r.status != 403:
                no_csrf.append("%s %s: %d" % (route["method"], route["path"], r.status))
        tap.ok(not no_csrf, "every change by a session without its CSRF token is refused",
               "\n".join(no_csrf))

        # Row-level rules: a host owns what they make.
        h1, h2, pm, guest = (callers["host"], api.client(), callers["program_manager"],
                             callers["guest"])
        api.add_user("u-host2", "host")
        h2.login("u-host2")
        r = h1.post("/api/v1/webstreams", {"name": "h1 relay", "url": "http://relay.example/a",
                                           "duration_us": 600000000})
        ws = r.json["id"]
        r = h2.patch("/api/v1/webstreams/%d" % ws, {"name": "taken"})
        tap.ok(r.status == 403, "a host cannot change another host's webstream", r)
        r = h1.patch("/api/v1/webstreams/%d" % ws, {"name": "renamed"})
        tap.ok(r.status == 200, "the owner can", r)
        r = pm.patch("/api/v1/webstreams/%d" % ws, {"name": "by the pm"})
        tap.ok(r.status == 200, "a program manager can change anyone's", r)
        r = guest.get("/api/v1/webstreams/%d" % ws)
        tap.ok(r.status == 200, "a guest reads it", r)
        r = h2.delete("/api/v1/webstreams/%d" % ws)
        tap.ok(r.status == 403, "another host cannot delete it", r)
        r = h1.delete("/api/v1/webstreams/%d" % ws)
        tap.ok(r.status == 204, "the owner deletes it", r)

        # Logging out ends the session.
        s = api.client()
        s.login("u-guest")
        r = s.post("/api/v1/auth/logout")
        tap.ok(r.status == 204 and s.get("/api/v1/auth/me").status == 401,
               "a guest logs out", r)
    except Exception:  # noqa: BLE001
        import traceback
        tap.ok(False, "the test ran to the end", traceback.format_exc() + "\n" + api.log_tail())
    else:
        api.finish(tap)
    finally:
        api.close()
    sys.exit(tap.done())


if __name__ == "__main__":
    main()
