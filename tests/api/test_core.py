#!/usr/bin/env python3
"""The web API's core on one database backend (argument: sqlite or
postgres): logging in, sessions and CSRF, throttling, API tokens, the
service credential, users, track types, uploads and downloads, webstreams,
podcasts, settings, tasks, history, and bad input of every kind: each
answered with a problem document naming the field, and nothing lost or
half-written."""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from apilib import PASSWORD, Api, Tap, log  # noqa: E402

V1 = "/api/v1"


def tone(path, freq, seconds):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=%d:duration=%s" % (freq, seconds), "-ac", "2",
                    "-b:a", "128k", path], check=True)
    with open(path, "rb") as f:
        return f.read()


def is_problem(r, status, field=None):
    """r is a problem document of status (naming field when given)."""
    j = r.json
    if r.status != status or not isinstance(j, dict):
        return False
    if (r.header("Content-Type") or "").split(";")[0] != "application/problem+json":
        return False
    if j.get("status") != status or not j.get("title") or not isinstance(j.get("detail"), str):
        return False
    if field is not None:
        return any(e.get("field") == field for e in j.get("errors", []))
    return True


def tmp_leftovers(api):
    d = os.path.join(api.media, "tmp")
    return os.listdir(d) if os.path.isdir(d) else []


def stored_files(api):
    out = []
    for root, _, files in os.walk(api.media):
        if os.path.basename(root) != "tmp":
            out += [os.path.join(root, f) for f in files]
    return out


def raw_upload_then_drop(api, token, declared, sent):
    """Start an upload of `declared` bytes, send `sent`, hang up."""
    s = socket.create_connection(("127.0.0.1", api.port))
    s.sendall(("POST /api/v1/files?filename=cut.mp3 HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Bearer %s\r\nContent-Type: audio/mpeg\r\n"
               "Content-Length: %d\r\n\r\n" % (token, declared)).encode())
    s.sendall(b"\xff" * sent)
    s.close()


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    tap = Tap()
    api = Api(backend, "core-" + backend)
    try:
        for name, role in (("admin", "admin"), ("pm", "program_manager"), ("host1", "host"),
                           ("host2", "host"), ("guest", "guest"), ("locked", "host")):
            api.add_user(name, role)
        anon = api.client()

        # -- the smallest answers
        r = anon.get(V1 + "/health")
        tap.ok(r.status == 200 and r.json["status"] == "ok", "health answers without login", r)
        r = anon.get(V1 + "/openapi.json")
        tap.ok(r.status == 200 and r.json.get("openapi", "").startswith("3.1"),
               "the OpenAPI document is served", r)
        r = anon.get(V1 + "/nothing-here")
        tap.ok(is_problem(r, 404), "an unknown path is a 404 problem", r)
        r = anon.request("PUT", V1 + "/health")
        tap.ok(is_problem(r, 405) and "GET" in (r.header("Allow") or ""),
               "a wrong method is a 405 with Allow", r)
        r = anon.get(V1 + "/files")
        tap.ok(is_problem(r, 401), "the library needs a login", r)

        # -- sessions
        admin = api.client()
        r = admin.login("admin", "wrong password")
        tap.ok(is_problem(r, 401), "a wrong password is refused", r)
        r = admin.login("nobody")
        tap.ok(is_problem(r, 401) and "wrong name or password" in r.json["detail"],
               "an unknown name gets the same answer", r)
        r = admin.login("ADMIN")
        cookie = r.header("Set-Cookie") or ""
        tap.ok(r.status == 200 and r.json["user"]["role"] == "admin" and r.json["csrf_token"],
               "logging in (names ignore case) gives the user and a CSRF token", r)
        tap.ok("HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie,
               "the session cookie is HttpOnly and SameSite=Strict", cookie)
        r = admin.get(V1 + "/auth/me")
        tap.ok(r.status == 200 and r.json["user"]["name"] == "admin" and
               r.json["csrf_token"] == admin.csrf, "me tells who is logged in", r)
        r = admin.request("POST", V1 + "/track-types", {"code": "music", "name": "Music"},
                          headers={"X-CSRF-Token": "forged"})
        tap.ok(is_problem(r, 403) and "CSRF" in r.json["detail"],
               "a session change without the right CSRF token is refused", r)
        r = admin.post(V1 + "/track-types", {"code": "music", "name": "Music"})
        tap.ok(r.status == 201 and r.json["code"] == "music" and
               r.header("Location") == V1 + "/track-types/%d" % r.json["id"],
               "with the CSRF token it is made (201 + Location)", r)
        music = r.json["id"]
        other = api.client()
        other.login("pm")
        r = other.post(V1 + "/auth/logout")
        tap.ok(r.status == 204 and "Max-Age=0" in (r.header("Set-Cookie") or ""),
               "logging out expires the cookie", r)
        r = other.get(V1 + "/auth/me")
        tap.ok(is_problem(r, 401), "the old cookie no longer works", r)

        # -- throttling
        t = api.client()
        for _ in range(5):
            t.login("locked", "bad guess")
        r = t.login("locked")
        tap.ok(is_problem(r, 429) and int(r.header("Retry-After") or 0) > 0,
               "after 5 failures even the right password waits (429 + Retry-After)", r)
        r = api.client().login("host1")
        tap.ok(r.status == 200, "other accounts from the same address still log in", r)

        # -- password change
        h2 = api.client()
        h2.login("host2")
        r = h2.put(V1 + "/auth/password", {"current_password": "nope", "new_password": "x" * 12})
        tap.ok(is_problem(r, 422, "current_password"), "a wrong current password is refused", r)
        r = h2.put(V1 + "/auth/password", {"current_password": PASSWORD, "new_password": "short"})
        tap.ok(is_problem(r, 422, "new_password"), "a short new password is refused", r)
        r = h2.put(V1 + "/auth/password", {"current_password": PASSWORD,
                                            "new_password": "a new long password"})
        tap.ok(r.status == 204, "the password is changed", r)
        tap.ok(api.client().login("host2", "a new long password").status == 200 and
               api.client().login("host2").status == 401, "only the new password works")

        # -- tokens
        r = admin.post(V1 + "/tokens", {"name": "script", "role": "guest"})
        tap.ok(r.status == 201 and r.json["token"].startswith("onair_") and
               r.json["role"] == "guest", "an API token is made, scoped to guest", r)
        tok_id, tok = r.json["id"], r.json["token"]
        scoped = api.client(tok)
        r = scoped.get(V1 + "/track-types")
        tap.ok(r.status == 200 and r.json["total"] == 1, "the token reads", r)
        r = scoped.post(V1 + "/track-types", {"code": "jingle", "name": "Jingle"})
        tap.ok(is_problem(r, 403), "a guest-scoped token of an admin cannot write", r)
        r = admin.get(V1 + "/tokens")
        tap.ok(r.status == 200 and all("token" not in x for x in r.json["items"]) and
               any(x["id"] == tok_id for x in r.json["items"]),
               "tokens are listed without their secret", r)
        h1 = api.client()
        h1.login("host1")
        r = h1.post(V1 + "/tokens", {"name": "too much", "role": "admin"})
        tap.ok(is_problem(r, 422, "role"), "a host cannot make an admin token", r)
        r = h1.delete(V1 + "/tokens/%d" % tok_id)
        tap.ok(is_problem(r, 404), "a host cannot revoke someone else's token", r)
        r = admin.delete(V1 + "/tokens/%d" % tok_id)
        tap.ok(r.status == 204, "the token is revoked", r)
        r = scoped.get(V1 + "/track-types")
        tap.ok(is_problem(r, 401), "a revoked token is refused", r)
        r = api.client("onair_not-a-real-token").get(V1 + "/track-types")
        tap.ok(is_problem(r, 401) and r.header("WWW-Authenticate"), "a wrong token is a 401", r)
        r = anon.get(V1 + "/track-types", headers={"Authorization": "Basic YWRtaW46eA=="})
        tap.ok(is_problem(r, 401), "another auth scheme is a 401", r)
        r = h1.post(V1 + "/tokens", {"name": "h1 script"})
        h1tok = r.json["token"]
        host = api.client(h1tok)
        r = admin.post(V1 + "/tokens", {"name": "admin script"})
        admintok = api.client(r.json["token"])

        # -- bad JSON
        r = admin.request("POST", V1 + "/track-types", raw=b'{"code": "x", ',
                          headers={"Content-Type": "application/json"})
        tap.ok(is_problem(r, 400) and "line" in r.json["detail"],
               "malformed JSON is a 400 saying where", r)
        r = admin.request("POST", V1 + "/track-types", raw=b'[1, 2]',
                          headers={"Content-Type": "application/json"})
        tap.ok(is_problem(r, 400), "a body that is not an object is a 400", r)
        r = admin.request("POST", V1 + "/track-types", raw=b'code=x',
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        tap.ok(is_problem(r, 415), "a form body is a 415", r)
        big = b'{"code": "big", "name": "' + b"x" * (2 << 20) + b'"}'
        r = admin.request("POST", V1 + "/track-types", raw=big,
                          headers={"Content-Type": "application/json"})
        tap.ok(is_problem(r, 413), "a 2 MiB JSON body is a 413", r)
        r = admin.post(V1 + "/track-types", {"code": 5, "name": ["x"], "colour": "red"})
        fields = sorted(e["field"] for e in r.json.get("errors", []))
        tap.ok(is_problem(r, 422) and fields == ["code", "colour", "name"],
               "wrong types and unknown fields are each named", r)
        r = admin.post(V1 + "/track-types", {"code": "music", "name": "Again"})
        tap.ok(is_problem(r, 409), "a duplicate code is a 409", r)
        r = admin.post(V1 + "/track-types", {"code": "../etc", "name": "x"})
        tap.ok(is_problem(r, 422, "code"), "a code with path characters is refused", r)
        r = admin.request("POST", V1 + "/track-types",
                          raw=b'{"code": "dup", "code": "dup2", "name": "x"}',
                          headers={"Content-Type": "application/json"})
        tap.ok(is_problem(r, 400), "duplicate members are refused", r)
        r = admin.request("POST", V1 + "/track-types", raw=b'{"code": "nul\\u0000", "name": "x"}',
                          headers={"Content-Type": "application/json"})
        tap.ok(r.status in (400, 422) and r.json and r.json.get("status") == r.status,
               "a NUL in a string is refused", r)

        # -- SQL metacharacters are data
        evil = "Robert'); DROP TABLE files;-- %_\\"
        r = admin.post(V1 + "/track-types", {"code": "evil", "name": evil, "description": evil})
        tap.ok(r.status == 201 and r.json["name"] == evil, "SQL metacharacters are kept as text", r)
        r = admin.get(V1 + "/track-types?q=" + "DROP%20TABLE")
        tap.ok(r.status == 200 and r.json["total"] == 1, "and found by search", r)
        r = admin.get(V1 + "/track-types?q=%25")
        tap.ok(r.status == 200 and r.json["total"] == 1, "a '%' searches for a '%'", r)
        r = admin.get(V1 + "/track-types?sort=name;DROP")
        tap.ok(is_problem(r, 400, "sort"), "sorting by an unknown column is a 400", r)
        r = admin.get(V1 + "/track-types?limit=0")
        tap.ok(is_problem(r, 400, "limit"), "limit 0 is a 400", r)
        r = admin.get(V1 + "/track-types?colour=red")
        tap.ok(is_problem(r, 400, "colour"), "an unknown query parameter is a 400", r)
        r = admin.get(V1 + "/track-types?sort=-code&limit=1&offset=1")
        tap.ok(r.status == 200 and r.json["total"] == 2 and len(r.json["items"]) == 1 and
               r.json["items"][0]["code"] == "evil", "sorting and paging", r)

        # -- users
        r = admin.post(V1 + "/users", {"name": "dj.ann", "role": "host", "password": "long enough pw",
                                       "display_name": "Ann", "email": "ann@example.org"})
        tap.ok(r.status == 201 and "password" not in r.json and r.json["role"] == "host",
               "an admin adds a user; no password comes back", r)
        ann = r.json["id"]
        tap.ok(api.client().login("dj.ann", "long enough pw").status == 200, "she can log in")
        r = admin.post(V1 + "/users", {"name": "DJ.ANN", "role": "host"})
        tap.ok(is_problem(r, 409), "names are unique without regard to case", r)
        r = admin.post(V1 + "/users", {"name": "x y", "role": "boss", "password": "short"})
        fields = sorted(e["field"] for e in r.json.get("errors", []))
        tap.ok(is_problem(r, 422) and fields == ["name", "password", "role"] or
               fields == ["name", "role"], "bad name, role and password are named", r)
        r = host.get(V1 + "/users")
        tap.ok(is_problem(r, 403), "a host cannot list users", r)
        r = admin.patch(V1 + "/users/%d" % ann, {"disabled": True})
        tap.ok(r.status == 200 and r.json["disabled"] is True, "a user is disabled", r)
        tap.ok(api.client().login("dj.ann", "long enough pw").status == 401,
               "a disabled user cannot log in")
        me = admin.get(V1 + "/auth/me").json["user"]["id"]
        r = admin.patch(V1 + "/users/%d" % me, {"role": "guest"})
        tap.ok(is_problem(r, 409), "the last admin cannot demote themselves", r)
        r = admin.delete(V1 + "/users/%d" % me)
        tap.ok(is_problem(r, 409), "nor delete themselves", r)
        r = admin.delete(V1 + "/users/%d" % ann)
        tap.ok(r.status == 204, "a user is deleted", r)

        # -- uploads
        data = tone(os.path.join(api.dir, "a.mp3"), 440, 2)
        r = host.post(V1 + "/files?filename=..%2F..%2Fetc%2Fpasswd.mp3", raw=data,
                      headers={"Content-Type": "audio/mpeg"})
        ok = r.status == 201 and r.json["duplicate"] is False
        tap.ok(ok and r.json["file"]["import_status"] == "pending" and r.json["task_id"],
               "an upload is stored, pending, with an analysis task", r)
        fid = r.json["file"]["id"] if ok else 0
        fhash = r.json["file"]["content_hash"] if ok else ""
        files = stored_files(api)
        tap.ok(len(files) == 1 and fhash.endswith(os.path.basename(files[0]).split(".")[0]) and
               "passwd" not in files[0], "it is stored under its hash only", files)
        r = admintok.post(V1 + "/files?filename=again.mp3", raw=data)
        tap.ok(r.status == 200 and r.json["duplicate"] is True and r.json["file"]["id"] == fid
               and "already" in r.json["detail"], "the same bytes again: the existing file", r)
        r = host.post(V1 + "/files?filename=empty.mp3", raw=b"")
        tap.ok(is_problem(r, 422), "an empty upload is refused", r)
        r = host.post(V1 + "/files?filename=big.mp3", raw=b"\0" * (5 << 20))
        tap.ok(is_problem(r, 413), "an upload over the limit is a 413", r)
        r = host.post(V1 + "/files?filename=x.mp3", raw=b"--b\r\n",
                      headers={"Content-Type": "multipart/form-data; boundary=b"})
        tap.ok(is_problem(r, 415), "a form upload is refused with the reason", r)
        r = host.post(V1 + "/files?name=x.mp3", raw=b"abc")
        tap.ok(is_problem(r, 400, "name"), "an unknown upload parameter is a 400", r)
        for i in range(20):
            raw_upload_then_drop(api, h1tok, 1 << 20, 15000 * i)
        import time
        for _ in range(150):
            if not tmp_leftovers(api):
                break
            time.sleep(0.1)
        tap.ok(not tmp_leftovers(api) and len(stored_files(api)) == 1,
               "an upload that stops mid-way leaves nothing", (tmp_leftovers(api),
                                                              stored_files(api)))
        r = admin.get(V1 + "/files")
        tap.ok(r.status == 200 and r.json["total"] == 1, "and adds no file", r)

        # -- downloads
        r = host.get(V1 + "/files/%d/content" % fid)
        etag = r.header("ETag")
        tap.ok(r.status == 200 and r.body == data and etag and
               r.header("X-Content-Hash") == fhash and r.header("Accept-Ranges") == "bytes",
               "the bytes come back with ETag and hash", (r.status, r.headers))
        r = host.get(V1 + "/files/%d/content" % fid, headers={"Range": "bytes=100-199"})
        tap.ok(r.status == 206 and r.body == data[100:200] and
               r.header("Content-Range") == "bytes 100-199/%d" % len(data), "a range", r.headers)
        r = host.get(V1 + "/files/%d/content" % fid, headers={"Range": "bytes=-10"})
        tap.ok(r.status == 206 and r.body == data[-10:], "a suffix range", r.headers)
        r = host.get(V1 + "/files/%d/content" % fid, headers={"Range": "bytes=%d-" % len(data)})
        tap.ok(r.status == 416 and r.header("Content-Range") == "bytes */%d" % len(data),
               "a range past the end is a 416", r)
        r = host.get(V1 + "/files/%d/content" % fid, headers={"If-None-Match": etag})
        tap.ok(r.status == 304 and not r.body, "If-None-Match gives 304", r)
        r = host.request("HEAD", V1 + "/files/%d/content" % fid)
        tap.ok(r.status == 200 and not r.body and
               int(r.header("Content-Length") or -1) == len(data), "HEAD", r.headers)
        svc = api.client(api.playout_token)
        r = svc.get(V1 + "/files/%d/content" % fid)
        tap.ok(r.status == 200 and r.body == data, "the playout credential downloads media", r)
        r = svc.get(V1 + "/files")
        tap.ok(is_problem(r, 403), "and nothing else", r)
        r = host.get(V1 + "/files/999999/content")
        tap.ok(is_problem(r, 404), "an unknown file is a 404", r)
        r = host.get(V1 + "/files/01/content")
        tap.ok(is_problem(r, 404), "a malformed id is a 404", r)

        # -- file metadata and ownership
        r = host.patch(V1 + "/files/%d" % fid, {"title": evil, "artist": "Ünïcødé", "year": 1999,
                                                "track_type_id": music})
        tap.ok(r.status == 200 and r.json["title"] == evil and r.json["artist"] == "Ünïcødé",
               "the uploader edits the metadata", r)
        r = host.patch(V1 + "/files/%d" % fid, {"duration_us": 5, "year": "1999"})
        fields = sorted(e["field"] for e in r.json.get("errors", []))
        tap.ok(is_problem(r, 422) and fields == ["duration_us", "year"],
               "read-only and wrongly typed fields are named", r)
        r = host.patch(V1 + "/files/%d" % fid, {"track_type_id": 999999})
        tap.ok(is_problem(r, 422, "track_type_id"), "a reference to nothing is named", r)
        h2tok = h2.post(V1 + "/tokens", {"name": "h2"}).json["token"]
        host2 = api.client(h2tok)
        r = host2.patch(V1 + "/files/%d" % fid, {"title": "mine now"})
        tap.ok(is_problem(r, 403), "another host cannot edit it", r)
        r = host2.delete(V1 + "/files/%d" % fid)
        tap.ok(is_problem(r, 403), "nor delete it", r)
        r = admin.get(V1 + "/files?q=robert&artist=%C3%9Cn%C3%AFc%C3%B8d%C3%A9")
        tap.ok(r.status == 200 and r.json["total"] == 1, "search and filter", r)

        # -- tasks
        r = admin.get(V1 + "/tasks?kind=analyze_file")
        tap.ok(r.status == 200 and r.json["total"] >= 1 and
               r.json["items"][0]["file_id"] == fid, "the analysis task is listed", r)
        r = admin.post(V1 + "/tasks/%d/retry" % r.json["items"][0]["id"])
        tap.ok(is_problem(r, 409), "a task that did not fail is not retried", r)
        r = host.get(V1 + "/tasks")
        tap.ok(is_problem(r, 403), "hosts do not see tasks", r)

        # -- webstreams and podcasts
        r = host.post(V1 + "/webstreams", {"name": "Relay", "url": "file:///etc/passwd",
                                           "duration_us": 3600000000})
        tap.ok(is_problem(r, 422, "url"), "a webstream must be http(s)", r)
        r = host.post(V1 + "/webstreams", {"name": "Relay", "url": "https://stream.example/a",
                                           "duration_us": 3600000000})
        tap.ok(r.status == 201 and r.json["created_by"] is not None, "a host adds a webstream", r)
        r = host.post(V1 + "/webstreams", {"name": "x", "url": "http://a/b", "duration_us": 5,
                                           "created_by": 1})
        fields = sorted(e["field"] for e in r.json.get("errors", []))
        tap.ok(is_problem(r, 422) and "duration_us" in fields and "created_by" in fields,
               "a host cannot give a webstream to someone else", r)
        r = host.post(V1 + "/podcasts", {"url": "https://pod.example/feed.xml"})
        tap.ok(is_problem(r, 403), "hosts do not add podcasts", r)
        r = admin.post(V1 + "/podcasts", {"url": "https://pod.example/feed.xml",
                                          "auto_ingest": True})
        tap.ok(r.status == 201 and r.json["auto_ingest"] is True, "an admin adds a podcast", r)
        pod = r.json["id"]
        r = admin.get(V1 + "/podcasts/%d/episodes" % pod)
        tap.ok(r.status == 200 and r.json["items"] == [], "its episodes (none yet)", r)
        r = admin.post(V1 + "/podcasts/%d/poll" % pod)
        tap.ok(r.status == 202, "a poll is queued", r)

        # -- settings
        r = other.get(V1 + "/settings")
        pm = api.client()
        pm.login("pm")
        r = pm.get(V1 + "/settings")
        tap.ok(r.status == 200 and r.json["timezone"] == "UTC" and r.json["version"] >= 1,
               "a program manager reads the settings", r)
        version = r.json["version"]
        r = pm.patch(V1 + "/settings", {"name": "x"})
        tap.ok(is_problem(r, 403), "but cannot change them", r)
        r = admin.patch(V1 + "/settings", {"timezone": "Mars/Olympus", "default_fade_in_us": -1,
                                           "outputs": {"hls": {"segment": 99}}})
        fields = sorted(e["field"] for e in r.json.get("errors", []))
        tap.ok(is_problem(r, 422) and fields == ["default_fade_in_us", "outputs", "timezone"],
               "bad zone, fade and outputs are each named", r)
        before = admin.get(V1 + "/settings").json["updated_at"]
        r = admin.patch(V1 + "/settings", {"timezone": "Europe/Berlin", "name": "Radio Test",
                                           "version": version})
        tap.ok(r.status == 200 and r.json["timezone"] == "Europe/Berlin" and
               r.json["version"] == version + 1, "the settings change", r)
        r_get = admin.get(V1 + "/settings")
        tap.ok(r.json.get("updated_at") != before and
               r.json.get("updated_at") == r_get.json.get("updated_at"),
               "the change answers with the new updated_at, the one stored",
               (before, r.json.get("updated_at"), r_get.json.get("updated_at")))
        r = admin.patch(V1 + "/settings", {"name": "Stale", "version": version})
        tap.ok(is_problem(r, 409), "a change made on an old version is a 409", r)

        # -- history
        r = admin.get(V1 + "/as-run")
        tap.ok(is_problem(r, 400, "from"), "the as-run log needs a range", r)
        r = admin.get(V1 + "/as-run?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z")
        tap.ok(r.status == 200 and r.json["items"] == [], "an empty day", r)
        r = admin.get(V1 + "/as-run?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z"
                      "&format=csv")
        tap.ok(r.status == 200 and r.body.startswith(b"id,started_at,") and
               (r.header("Content-Type") or "").startswith("text/csv"), "as CSV", r)
        r = admin.get(V1 + "/listeners?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z")
        tap.ok(is_problem(r, 400, "to"), "a reversed range is a 400", r)
        r = admin.get(V1 + "/listeners?from=yesterday&to=2026-01-01T00:00:00Z")
        tap.ok(is_problem(r, 400, "from"), "a time that is not RFC 3339 is a 400", r)

        # -- deleting a file removes its bytes
        r = host.delete(V1 + "/files/%d" % fid)
        tap.ok(r.status == 204 and stored_files(api) == [], "the uploader deletes the file", r)
    except Exception as e:  # noqa: BLE001
        import traceback
        tap.ok(False, "the test ran to the end", traceback.format_exc() + "\n" + api.log_tail())
    else:
        api.finish(tap)
    finally:
        api.close()
    sys.exit(tap.done())


if __name__ == "__main__":
    main()
