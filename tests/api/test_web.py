#!/usr/bin/env python3
"""The web app's files served by onair api: the page with its
Content-Security-Policy, every module and the stylesheet with the right
media type and an ETag (a 304 when it is sent back), HEAD, nothing served
outside the built list (path tricks, /api/ paths, other methods), and
api.web_dir serving the same paths from disk."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from apilib import Api, Tap  # noqa: E402

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src", "web")


def built_files():
    """The files src/web/meson.build lists."""
    out = []
    for line in open(os.path.join(SRC, "meson.build")):
        line = line.strip()
        if line.startswith("'") and line.endswith("',"):
            out.append("/" + line[1:-2])
    return out


def main():
    tap = Tap()
    files = built_files()
    api = Api("sqlite", "web")
    try:
        c = api.client()
        r = c.get("/")
        csp = r.header("Content-Security-Policy") or ""
        tap.ok(r.status == 200 and r.header("Content-Type") == "text/html; charset=utf-8" and
               b'<script type="module" src="/app/main.js">' in r.body,
               "/ is the app's page", r)
        tap.ok("script-src 'self'" in csp and "'unsafe-inline'" not in csp and
               "object-src 'none'" in csp, "with a CSP that allows this origin's scripts only",
               csp)
        etag = r.header("ETag")
        r2 = c.get("/", headers={"If-None-Match": etag})
        tap.ok(r2.status == 304 and r2.body == b"" and r2.header("ETag") == etag,
               "its ETag sent back gives a 304", r2)
        r3 = c.get("/", headers={"If-None-Match": '"other", ' + etag})
        tap.ok(r3.status == 304, "also within a list of ETags", r3)
        types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}
        bad = []
        for f in files:
            r = c.get(f)
            want = open(os.path.join(SRC, f[1:]), "rb").read()
            if r.status != 200 or r.body != want or \
                    r.header("Content-Type") != types[os.path.splitext(f)[1]] or \
                    r.header("Cache-Control") != "no-cache" or not r.header("ETag"):
                bad.append((f, r.status, r.header("Content-Type")))
        tap.ok(len(files) > 10 and not bad, "each of the %d files is served as built" % len(files),
               bad)
        r = c.request("HEAD", "/app/main.js")
        tap.ok(r.status == 200 and r.body == b"", "HEAD answers without a body", r)
        for path in ("/app/nope.js", "/../etc/passwd", "/app/../index.html", "/%2e%2e/etc/passwd",
                     "/app/views/", "/meson.build", "/api/v1/index.html", "/index.html/"):
            r = c.get(path)
            tap.ok(r.status in (404, 400) and r.header("Content-Type") ==
                   "application/problem+json", "%s is not served" % path, r)
        r = c.post("/", {"x": 1})
        tap.ok(r.status == 404, "a POST to / is a 404", r)
        api.stop_api()

        # From disk: the same paths, nothing else.
        api.env["ONAIR_API_WEB_DIR"] = SRC
        api.start()
        r = c.get("/app/main.js")
        tap.ok(r.status == 200 and r.body == open(os.path.join(SRC, "app/main.js"), "rb").read()
               and r.header("Cache-Control") == "no-store", "api.web_dir serves from disk", r)
        r = c.get("/meson.build")
        tap.ok(r.status == 404, "but only the built paths", r)
        r = c.get("/")
        tap.ok(r.status == 200 and "script-src 'self'" in (r.header("Content-Security-Policy")
                                                           or ""), "the page keeps its CSP", r)
        api.finish(tap)
    finally:
        api.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
