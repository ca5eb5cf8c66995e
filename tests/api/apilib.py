"""Helpers of the web API tests: a throwaway PostgreSQL cluster, nats-server
and `onair api` on free loopback ports, and an HTTP client that records
every response (for the OpenAPI check). Standard library only."""
import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from station import ONAIR, Tap, free_port, log, spawn, stop, wait_tcp  # noqa: E402,F401

PASSWORD = "correct horse battery"


def pg_bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (postgresql package)")
    return os.path.dirname(found[-1])


class Postgres:
    """initdb + postgres on a free port; as user postgres when run as root."""

    def __init__(self, base):
        self.dir = os.path.join(base, "pg")
        os.makedirs(self.dir)
        self.port = free_port()
        bindir = pg_bindir()
        demote = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chmod(base, 0o755)
            for d in (base, self.dir):
                os.chown(d, pw.pw_uid, pw.pw_gid)

            def demote():
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
        data = os.path.join(self.dir, "data")
        subprocess.run([os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres",
                        "-A", "trust", "-E", "UTF8", "--no-locale"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       preexec_fn=demote, check=True, cwd=self.dir)
        logf = open(os.path.join(self.dir, "postgres.log"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(bindir, "postgres"), "-D", data, "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + self.dir,
             "-c", "fsync=off", "-c", "max_connections=200"],
            stdout=logf, stderr=logf, preexec_fn=demote, cwd=self.dir)
        wait_tcp(self.port, 30)
        for _ in range(100):
            r = subprocess.run([os.path.join(bindir, "createdb"), "-h", "127.0.0.1", "-p",
                                str(self.port), "-U", "postgres", "onair"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                break
            time.sleep(0.1)
        self.url = "postgresql://postgres@127.0.0.1:%d/onair" % self.port

    def stop(self):
        stop(self.proc)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self._json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self):
        if self._json is None and self.body:
            try:
                self._json = json.loads(self.body)
            except ValueError:
                self._json = None
        return self._json

    def __repr__(self):
        return "HTTP %d %s" % (self.status, self.body[:400])


class Client:
    """One caller: anonymous, a session (cookie + CSRF) or a bearer token."""

    def __init__(self, api, token=None):
        self.api = api
        self.token = token
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, headers=None, raw=None, route=None,
                stream=False):
        """One request; with stream, only the status and headers are read
        (for endless responses such as server-sent events)."""
        h = dict(headers or {})
        if self.token:
            h.setdefault("Authorization", "Bearer " + self.token)
        if self.cookie:
            h.setdefault("Cookie", self.cookie)
            if self.csrf and method not in ("GET", "HEAD"):
                h.setdefault("X-CSRF-Token", self.csrf)
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.api.port, timeout=60)
        try:
            try:
                conn.request(method, path, body=data, headers=h)
            except (BrokenPipeError, ConnectionResetError):
                pass    # the server answered before the body was sent (413, 401)
            r = conn.getresponse()
            streaming = stream and r.getheader("Content-Type") == "text/event-stream"
            res = Response(r.status, r.getheaders(), b"" if streaming else r.read())
        finally:
            conn.close()
        self.api.record(method, path, route, res)
        return res

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, name, password=PASSWORD):
        r = self.post("/api/v1/auth/login", {"name": name, "password": password})
        if r.status == 200:
            cookie = r.header("Set-Cookie")
            self.cookie = cookie.split(";")[0]
            self.csrf = r.json["csrf_token"]
        return r


def wait_analysed(client, ids, timeout=60):
    """Wait until none of the files ids is pending analysis (the worker
    runs); their import_status values, in order."""
    end = time.time() + timeout
    states = []
    while time.time() < end:
        states = [client.get("/api/v1/files/%d" % i).json["import_status"] for i in ids]
        if all(s != "pending" for s in states):
            break
        time.sleep(0.3)
    return states


class Api:
    """nats-server, a database and `onair api`, all on loopback."""

    def __init__(self, backend="sqlite", name="api", env=None):
        self.dir = tempfile.mkdtemp(prefix="onair-%s-" % name)
        self.backend = backend
        self.pg = None
        self.procs = []
        self.records = []
        self.nats_port = free_port()
        self.nats = spawn(["nats-server", "-a", "127.0.0.1", "-p", str(self.nats_port), "-js",
                           "-sd", os.path.join(self.dir, "nats")],
                          os.path.join(self.dir, "nats.log"))
        wait_tcp(self.nats_port)
        if backend == "postgres":
            self.pg = Postgres(self.dir)
            self.db_url = self.pg.url
        else:
            self.db_url = "sqlite://" + os.path.join(self.dir, "onair.db")
        self.media = os.path.join(self.dir, "media")
        os.makedirs(self.media, exist_ok=True)
        self.port = free_port()
        self.playout_token = "onair_playout-test-secret"
        self.env = dict(os.environ, ONAIR_DATABASE_URL=self.db_url,
                        ONAIR_STORAGE_PATH=self.media,
                        ONAIR_NATS_URL="nats://127.0.0.1:%d" % self.nats_port,
                        ONAIR_API_LISTEN="127.0.0.1:%d" % self.port,
                        ONAIR_API_PLAYOUT_TOKEN=self.playout_token,
                        ONAIR_API_MAX_UPLOAD_MB="4",
                        ONAIR_LOG_LEVEL="info")
        self.env.update(env or {})
        subprocess.run([ONAIR, "migrate"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        self.start()

    def start(self):
        self.proc = spawn([ONAIR, "api"], os.path.join(self.dir, "api.log"), env=self.env)
        wait_tcp(self.port, 30)

    def stop_api(self):
        return stop(self.proc)

    def add_user(self, name, role, password=PASSWORD):
        subprocess.run([ONAIR, "user", "add", name, "--role", role], env=self.env,
                       input=(password + "\n").encode(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sql(self, statement, params=()):
        """Run SQL on the station database (SQLite only; tests use the API
        for PostgreSQL)."""
        import sqlite3
        with sqlite3.connect(self.db_url[len("sqlite://"):]) as c:
            return c.execute(statement, params).fetchall()

    def client(self, token=None):
        return Client(self, token)

    def record(self, method, path, route, res):
        self.records.append({"method": method, "path": urllib.parse.urlsplit(path).path,
                             "status": res.status,
                             "content_type": (res.header("Content-Type") or "").split(";")[0],
                             "body": res.json if res.json is not None else None})

    def save_records(self):
        out = os.environ.get("ONAIR_API_RECORD_DIR")
        if not out:
            return
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "%s-%d.jsonl" % (self.backend, os.getpid())), "w") as f:
            for r in self.records:
                f.write(json.dumps(r) + "\n")

    def log_tail(self, n=30):
        try:
            with open(os.path.join(self.dir, "api.log")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def finish(self, tap):
        """Stop the server and check what it leaves behind: a clean exit
        (LeakSanitizer reports leaks through the exit status in the
        sanitizer build) and every recorded response as the OpenAPI
        document describes it."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            code = None
        tap.ok(code == 0, "onair api stops cleanly on SIGTERM (exit %s)" % code, self.log_tail(40))
        check = os.path.join(os.path.dirname(__file__), "check_openapi.mjs")
        modules = os.path.join(os.path.dirname(__file__), "node_modules")
        if not os.path.isdir(modules):
            tap.ok(False, "responses match docs/openapi.json",
                   "tests/api/node_modules is missing: run `npm ci` in tests/api")
            return
        rec = os.path.join(self.dir, "records")
        os.makedirs(rec, exist_ok=True)
        with open(os.path.join(rec, "responses.jsonl"), "w") as f:
            for r in self.records:
                f.write(json.dumps(r) + "\n")
        table = os.path.join(self.dir, "routes.txt")
        with open(table, "w") as f:
            f.write(subprocess.run([ONAIR, "api", "routes"], capture_output=True, text=True,
                                   check=True).stdout)
        doc = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.json")
        r = subprocess.run(["node", check, doc, table, rec], capture_output=True, text=True)
        tap.ok(r.returncode == 0, "the %d responses match docs/openapi.json" % len(self.records),
               (r.stdout + r.stderr)[-4000:])

    def close(self):
        self.save_records()
        stop(self.proc)
        stop(self.nats)
        if self.pg:
            self.pg.stop()
        if os.environ.get("ONAIR_KEEP_TMP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)
