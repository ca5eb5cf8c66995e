"""Real servers for end-to-end tests of the play block, on 127.0.0.1.

Starts nats-server, Icecast and onair-playout (which starts Liquidsoap)
on free ports in a temporary directory, publishes snapshots through
`onair publish-snapshot`, and listens to the outputs: the Icecast mount
through curl | ffmpeg, the HLS playlist segment by segment. What was
heard is reduced to runs of test tones by the tone_segments program.

Everything started here is stopped by Station.close() (also on errors and
at interpreter exit).
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BUILD = os.environ.get("ONAIR_BUILD_ROOT", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("ONAIR_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "../.."))
ONAIR = os.path.join(BUILD, "src/onair/onair")
PLAYOUT = os.path.join(BUILD, "src/playout/onair-playout")
TONES = os.path.join(BUILD, "tests/tools/tone_segments")
MAKE_SNAPSHOT = os.path.join(SOURCE, "tests/tools/make_snapshot.py")

_live = []


def _cleanup():
    for p in list(_live):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


atexit.register(_cleanup)


def log(*args):
    """A TAP comment: every line of the text gets its "# "."""
    text = " ".join(str(a) for a in args)
    print("\n".join("# " + line for line in text.splitlines() or [""]), flush=True)


# Ports are drawn below the kernel's ephemeral range (32768 up), so no
# client socket holds one, and each is reserved for the life of the process
# by a lock on a file named after it: tests running side by side never pick
# the same port (tests/harness/harness.c and tests/cli do the same).
PORT_DIR = os.path.join(tempfile.gettempdir(), "onair-test-ports")
PORT_RANGE = (20000, 32000)
_held_ports = []


def free_port():
    """A TCP port on 127.0.0.1 that no other test holds and that is free to
    bind now; it stays reserved until this process exits."""
    import fcntl
    import random
    os.makedirs(PORT_DIR, exist_ok=True)
    for _ in range(1000):
        port = random.randrange(*PORT_RANGE)
        fd = os.open(os.path.join(PORT_DIR, str(port)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                     0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
        except OSError:
            os.close(fd)
            continue
        _held_ports.append(fd)
        return port
    raise RuntimeError("no free port in %d-%d" % PORT_RANGE)


def wait_tcp(port, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("nothing listens on 127.0.0.1:%d after %ds" % (port, timeout))


def wait_for(what, predicate, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = predicate()
        if v:
            return v
        time.sleep(0.1)
    raise TimeoutError("timed out after %.0fs waiting for %s" % (timeout, what))


def spawn(argv, logfile, env=None, user=None):
    out = open(logfile, "ab")
    preexec = None
    if user:
        def preexec():
            import pwd
            pw = pwd.getpwnam(user)
            os.setgid(pw.pw_gid)
            os.initgroups(user, pw.pw_gid)
            os.setuid(pw.pw_uid)
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True, preexec_fn=preexec)
    out.close()
    _live.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    if p is None or p.poll() is not None:
        return
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        return
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    if p in _live:
        _live.remove(p)


def running(pid):
    """Is pid a process that has not exited (zombies count as exited)?"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def nats_request(url, subject, payload=b"", timeout=5, headers=None):
    """One request over the plain NATS protocol (HPUB when headers are
    given): the reply's payload."""
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    inbox = "_INBOX.e2e%d.%d" % (os.getpid(), time.monotonic_ns())
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        f = s.makefile("rb")
        f.readline()  # INFO
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n')
        s.sendall(("SUB %s 1\r\n" % inbox).encode())
        if headers:
            h = ("NATS/1.0\r\n" + "".join("%s: %s\r\n" % kv for kv in headers.items())
                 + "\r\n").encode()
            s.sendall(("HPUB %s %s %d %d\r\n" % (subject, inbox, len(h), len(h) + len(payload)))
                      .encode() + h + payload + b"\r\n")
        else:
            s.sendall(("PUB %s %s %d\r\n" % (subject, inbox, len(payload))).encode() +
                      payload + b"\r\n")
        while True:
            line = f.readline()
            if not line:
                raise OSError("NATS closed the connection")
            if line.startswith(b"PING"):
                s.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise OSError(line.decode().strip())
            elif line.startswith(b"MSG"):
                n = int(line.split()[-1])
                return f.read(n + 2)[:n]
            elif line.startswith(b"HMSG"):
                hl, n = int(line.split()[-2]), int(line.split()[-1])
                return f.read(n + 2)[hl:n]


def make_tone(path, freq, seconds, fmt="mp3"):
    """A sine tone file: the test's way of knowing what plays."""
    args = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
            "sine=frequency=%d:duration=%s:sample_rate=44100" % (freq, seconds),
            "-ac", "2"]
    if fmt == "mp3":
        args += ["-b:a", "128k"]
    subprocess.run(args + [path], check=True)
    return path


def make_steps(path, steps, fmt="mp3"):
    """A file of consecutive sine tones, steps = [(freq, seconds), ...]: tells
    which part of a file plays (cue points, joins in the middle)."""
    args = ["ffmpeg", "-loglevel", "error", "-y"]
    for freq, secs in steps:
        args += ["-f", "lavfi", "-i",
                 "sine=frequency=%d:duration=%s:sample_rate=44100" % (freq, secs)]
    args += ["-filter_complex", "".join("[%d:a]" % i for i in range(len(steps))) +
             "concat=n=%d:v=0:a=1[out]" % len(steps), "-map", "[out]", "-ac", "2"]
    if fmt == "mp3":
        args += ["-b:a", "128k"]
    subprocess.run(args + [path], check=True)
    return path


def segments_of_pcm(pcm, freqs, purity=0.6, min_ms=150):
    """Runs of (start s, end s, freq or 0, level dB) in 8 kHz mono s16le PCM."""
    out = subprocess.run([TONES, "--purity", str(purity), "--min", str(min_ms)] +
                         [str(f) for f in freqs], input=pcm, capture_output=True,
                         check=True).stdout.decode()
    runs = []
    for line in out.splitlines():
        a, b, f, lv = line.split()
        runs.append((float(a), float(b), int(float(f)), float(lv)))
    return runs


def levels_of_pcm(pcm, freqs, window_ms=50):
    """Per window of 8 kHz mono s16le PCM: (start s, window level dB,
    {freq: level dB}); a tone's level compares with the window level (a
    pure tone has both equal)."""
    out = subprocess.run([TONES, "--levels", "--window", str(window_ms)] +
                         [str(f) for f in freqs], input=pcm, capture_output=True,
                         check=True).stdout.decode()
    rows = []
    for line in out.splitlines():
        v = [float(x) for x in line.split()]
        rows.append((v[0], v[1], dict(zip(freqs, v[2:]))))
    return rows


def tone_onset(rows, freq, start, end, drop_db=6.0, lookback=1.0):
    """When a tone heard as a run [start, end) (seconds in the recording of
    rows, see levels_of_pcm) really begins: the first window from lookback s
    before the run whose level of freq is within drop_db of the run's median
    level. A run says when a tone dominates; a tone that starts while another
    fades out under it dominates only a little after it began."""
    inside = sorted(lv[freq] for t, _, lv in rows if start <= t < end)
    if not inside:
        return start
    plateau = inside[len(inside) // 2]
    for t, _, lv in rows:
        if start - lookback <= t < end and lv[freq] >= plateau - drop_db:
            return t
    return start


def decode_to_pcm(data, fmt):
    return subprocess.run(["ffmpeg", "-loglevel", "error", "-f", fmt, "-i", "-",
                           "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
                          input=data, capture_output=True, check=True).stdout


def window_levels(pcm, freqs=(), window_ms=50, rate=8000):
    """Per window of 8 kHz mono s16le PCM: (start s, level dBFS, {freq: dB}).
    A frequency's figure is the level of that sine alone (Goertzel), in the
    same scale as the total, so a pure tone shows both about equal."""
    import array
    import math
    x = array.array("h")
    x.frombytes(pcm[:len(pcm) // 2 * 2])
    if sys.byteorder != "little":
        x.byteswap()
    n = int(rate * window_ms / 1000)
    coeffs = {f: 2 * math.cos(2 * math.pi * f / rate) for f in freqs}
    out = []
    for w in range(len(x) // n):
        seg = [v / 32768.0 for v in x[w * n:(w + 1) * n]]
        energy = sum(v * v for v in seg)
        level = 10 * math.log10(energy / n) if energy > 0 else -120.0
        per = {}
        for f, k in coeffs.items():
            s1 = s2 = 0.0
            for v in seg:
                s1, s2 = v + k * s1 - s2, s1
            p = s1 * s1 + s2 * s2 - k * s1 * s2
            # A sine of amplitude A gives p ~ (A n / 2)^2 and energy A^2 n / 2.
            e = 2.0 * p / n
            per[f] = 10 * math.log10(e / n) if e > 0 else -120.0
        out.append((w * window_ms / 1000.0, level, per))
    return out


class IcecastConnection:
    """One listener connection: when its first byte came, what it received,
    and (wall time, bytes so far) after every read."""

    def __init__(self):
        self.first_byte = None
        self.data = bytearray()
        self.reads = []
        self.ended = None
        self.end_reason = None

    def runs(self, freqs, **kw):
        return segments_of_pcm(decode_to_pcm(bytes(self.data), "mp3"), freqs, **kw)

    def levels(self, freqs=(), **kw):
        return window_levels(decode_to_pcm(bytes(self.data), "mp3"), freqs, **kw)

    def longest_stall(self):
        """Longest time (s) between two reads that brought data."""
        gaps = [b[0] - a[0] for a, b in zip(self.reads, self.reads[1:])]
        return max(gaps) if gaps else 0.0


class IcecastListener:
    """Listens to a mount from now on; remembers when the first byte came.

    By default it records one continuous connection. With reconnect=True it
    connects again whenever the mount goes away (Icecast drops listeners
    when the source disconnects) and keeps every connection, so what was
    heard can be placed in wall-clock time across the reconnects
    (wallclock_runs)."""

    def __init__(self, url, reconnect=False):
        self.url = url
        self.reconnect = reconnect
        self.connections = []
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    @property
    def first_byte(self):
        return self.connections[0].first_byte if self.connections else None

    @property
    def data(self):
        return self.connections[0].data if self.connections else bytearray()

    def _run(self):
        while not self._stop:
            conn = None
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    while not self._stop:
                        chunk = r.read1(4096)
                        if not chunk:
                            break
                        now = time.time()
                        if conn is None:
                            conn = IcecastConnection()
                            conn.first_byte = now
                            self.connections.append(conn)
                        conn.data += chunk
                        conn.reads.append((now, len(conn.data)))
                    why = "stopped" if self._stop else "end of stream"
            except OSError as e:
                why = "%s: %s" % (type(e).__name__, e)
            if conn is not None:
                conn.ended = time.time()
                conn.end_reason = why
                if not self.reconnect:
                    return  # one continuous recording only
            time.sleep(0.1)

    def stop(self):
        self._stop = True
        self._t.join(10)

    def summary(self):
        """One line per connection (for a failure's diagnosis)."""
        if not self.connections:
            return "no byte received from %s" % self.url
        return "; ".join("connection %d: %d bytes from %.2f to %.2f (%s), longest stall %.2f s"
                         % (i, len(c.data), c.first_byte, c.ended or time.time(),
                            c.end_reason or "open", c.longest_stall())
                         for i, c in enumerate(self.connections))

    def runs(self, freqs, **kw):
        return segments_of_pcm(decode_to_pcm(bytes(self.data), "mp3"), freqs, **kw)

    def save(self, path):
        """Write what the first connection received (for a look afterwards)."""
        with open(path, "wb") as f:
            f.write(bytes(self.data))

    def levels(self, freqs, **kw):
        """levels_of_pcm of the first connection."""
        return levels_of_pcm(decode_to_pcm(bytes(self.data), "mp3"), freqs, **kw)

    def wallclock_runs(self, freqs, **kw):
        """Runs of every connection, as (start, end, freq, level dB, connection
        index) with start and end in Unix time: each connection's first byte
        is taken as the moment its first sample was live."""
        out = []
        for i, c in enumerate(self.connections):
            if len(c.data) < 4096:
                continue
            for a, b, f, lv in c.runs(freqs, **kw):
                out.append((c.first_byte + a, c.first_byte + b, f, lv, i))
        return out


class HlsListener:
    """Follows an HLS playlist, fetching every new segment once, in order.
    It also keeps what a player would trip over: every failed fetch (wall
    time, URL, HTTP status or error) and every media sequence number seen
    (wall time, #EXT-X-MEDIA-SEQUENCE)."""

    def __init__(self, url):
        self.url = url
        self.base = url.rsplit("/", 1)[0]
        self.segments = []
        self.errors = []
        self.sequences = []
        self._seen = set()
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _fetch(self, url):
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read()

    def _run(self):
        while not self._stop:
            url = self.url
            try:
                text = self._fetch(url).decode()
                for line in text.splitlines():
                    if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                        self.sequences.append((time.time(), int(line.split(":", 1)[1])))
                names = [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("#")]
                for n in names:
                    if n.endswith(".m3u8"):
                        # master playlist: follow the variant
                        self.url = self.base + "/" + n
                        break
                    if n not in self._seen:
                        url = self.base + "/" + n
                        data = self._fetch(url)
                        self._seen.add(n)
                        self.segments.append((time.time(), data))
            except urllib.error.HTTPError as e:
                self.errors.append((time.time(), url, e.code))
            except (OSError, ValueError) as e:
                self.errors.append((time.time(), url, str(e)))
            time.sleep(0.5)

    def stop(self):
        self._stop = True
        self._t.join(10)

    def runs(self, freqs, **kw):
        pcm = b"".join(decode_to_pcm(d, "mpegts") for _, d in self.segments)
        return segments_of_pcm(pcm, freqs, **kw)


class _QuietFiles(__import__("http.server").server.SimpleHTTPRequestHandler):
    """Serves files and counts the GET requests it answered."""

    def do_GET(self):
        self.server.requests += 1
        super().do_GET()

    def log_message(self, *args):
        pass


class Station:
    """NATS + Icecast + one or more playout instances in a temp directory."""

    def __init__(self, name="e2e"):
        self.dir = tempfile.mkdtemp(prefix="onair-%s-" % name)
        os.chmod(self.dir, 0o755)
        self.media_src = os.path.join(self.dir, "media-src")
        os.makedirs(self.media_src)
        self.nats = None
        self.icecast = None
        self.icecasts = {}  # name: {"port", "proc"}; "main" is also icecast(_port)
        self.playouts = {}
        self.revision = 0

    # --- NATS
    def start_nats(self):
        if not hasattr(self, "nats_port"):
            self.nats_port = free_port()
        self.nats = spawn(["nats-server", "-a", "127.0.0.1", "-p", str(self.nats_port), "-js",
                           "-sd", os.path.join(self.dir, "nats")],
                          os.path.join(self.dir, "nats.log"))
        wait_tcp(self.nats_port)

    def stop_nats(self, sig=signal.SIGTERM):
        stop(self.nats, sig)
        self.nats = None

    def stream_info(self, stream):
        """JetStream's information on a stream (a dict; "state" has the
        message counts)."""
        return json.loads(nats_request(self.nats_url, "$JS.API.STREAM.INFO." + stream))

    @property
    def nats_url(self):
        return "nats://127.0.0.1:%d" % self.nats_port

    # --- Icecast
    def start_icecast(self, name="main", cors=False, fallback_mounts=(), port=None,
                      source_password="e2e-source"):
        """An Icecast server. Servers with other names let several playout
        instances feed the same mounts (start_playout(icecast=name)). With
        cors, every answer carries Access-Control-Allow-Origin: * (Icecast
        2.4 sends none of its own), so a web page may analyse the stream.
        Each mount of fallback_mounts gets MOUNT.safety (playout's safety
        feed) as its fallback-mount, with fallback-override, as
        docs/operations.md tells operators. A server started again on the
        port of a stopped one (port=) with another source_password refuses
        playout's sources, as a misconfigured server would."""
        port = port or free_port()
        d = os.path.join(self.dir, "icecast" if name == "main" else "icecast-" + name)
        os.makedirs(os.path.join(d, "log"), exist_ok=True)
        conf = os.path.join(d, "icecast.xml")
        with open(conf, "w") as f:
            f.write("""<icecast>
  <limits><clients>100</clients><sources>20</sources><burst-on-connect>0</burst-on-connect>
    <source-timeout>10</source-timeout></limits>%s%s
  <authentication><source-password>%s</source-password>
    <admin-user>admin</admin-user><admin-password>e2e-admin</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>%s/log</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
</icecast>
""" % ("\n  <http-headers><header name=\"Access-Control-Allow-Origin\" value=\"*\" />"
       "</http-headers>" if cors else "",
       "".join("\n  <mount><mount-name>%s</mount-name><fallback-mount>%s.safety</fallback-mount>"
               "<fallback-override>1</fallback-override></mount>"
               "\n  <mount><mount-name>%s.safety</mount-name><hidden>1</hidden></mount>"
               % (m, m, m) for m in fallback_mounts), source_password, port, d))
        user = None
        if os.geteuid() == 0:
            user = "icecast2"
            shutil.chown(os.path.join(d, "log"), user)
        binary = shutil.which("icecast2") or "/usr/bin/icecast2"
        proc = spawn([binary, "-c", conf], d + ".log", user=user)
        self.icecasts[name] = {"port": port, "proc": proc, "dir": d}
        if name == "main":
            self.icecast_port, self.icecast = port, proc
        wait_tcp(port)

    def stop_icecast(self, name="main"):
        """Stop server `name`; its port stays reserved for start_icecast(port=)."""
        stop(self.icecasts[name]["proc"])
        return self.icecasts[name]["port"]

    def icecast_url(self, mount="/live.mp3", server="main"):
        return "http://127.0.0.1:%d%s" % (self.icecasts[server]["port"], mount)

    def mount_up(self, mount="/live.mp3", server="main"):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/status-json.xsl" %
                                        self.icecasts[server]["port"], timeout=2) as r:
                st = json.loads(r.read().decode(errors="replace"))
        except (OSError, ValueError):
            return False
        src = st.get("icestats", {}).get("source", [])
        if isinstance(src, dict):
            src = [src]
        return any(s.get("listenurl", "").endswith(mount) for s in src)

    # --- playout
    def start_playout(self, name="a", extra_env=None, icecast="main"):
        """Start instance `name`, feeding the Icecast server named `icecast`."""
        info = self.playouts.get(name)
        if info is None:
            info = {
                "state": os.path.join(self.dir, "playout-" + name),
                "hls_port": free_port(),
                "harbor_port": free_port(),
                "log": os.path.join(self.dir, "playout-%s.log" % name),
                "icecast": icecast,
            }
            self.playouts[name] = info
        env = dict(os.environ)
        env.update({
            "ONAIR_NATS_URL": self.nats_url,
            "ONAIR_PLAYOUT_INSTANCE": name,
            "ONAIR_PLAYOUT_STATE_DIR": info["state"],
            "ONAIR_PLAYOUT_MEDIA_URL": self.media_url(),
            "ONAIR_ICECAST_PORT": str(self.icecasts[info["icecast"]]["port"]),
            "ONAIR_ICECAST_PASSWORD": "e2e-source",
            "ONAIR_HARBOR_PORT": str(info["harbor_port"]),
            "ONAIR_HLS_PORT": str(info["hls_port"]),
            "ONAIR_LOG_LEVEL": "info",
        })
        env.update(extra_env or {})
        info["proc"] = spawn([PLAYOUT, "run"], info["log"], env=env)
        return info

    # --- media over HTTP (stands in for the web API's file downloads)
    def start_media_server(self):
        """Serve media-src over HTTP; playouts started later download from it."""
        import functools
        import http.server

        handler = functools.partial(_QuietFiles, directory=self.media_src)
        self.media_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.media_server.requests = 0
        threading.Thread(target=self.media_server.serve_forever, daemon=True).start()

    def stop_media_server(self):
        if getattr(self, "media_server", None):
            self.media_server.shutdown()
            self.media_server.server_close()
            self.media_server = None

    def media_url(self):
        if getattr(self, "media_server", None):
            return "http://127.0.0.1:%d/{hash}" % self.media_server.server_address[1]
        return "file://%s/{hash}" % self.media_src

    def stop_playout(self, name="a", sig=signal.SIGTERM):
        stop(self.playouts[name].get("proc"), sig)

    def liquidsoap_pid(self, name="a"):
        """The pid in the playout's liquidsoap.pid when that process runs its
        script, else None."""
        info = self.playouts[name]
        try:
            with open(os.path.join(info["state"], "liquidsoap.pid")) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError):
            return None
        script = os.path.join(info["state"], "onair.liq").encode()
        return pid if script in argv else None

    def kill_liquidsoap(self, name="a", sig=signal.SIGKILL):
        pid = self.liquidsoap_pid(name)
        if pid:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return pid

    def status(self, name="a"):
        """The playout's status.json, or {} when there is none yet."""
        try:
            with open(os.path.join(self.playouts[name]["state"], "status.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def events(self, name="a"):
        """The events the playout recorded (its journal), oldest first."""
        out = []
        try:
            with open(os.path.join(self.playouts[name]["state"], "events.journal")) as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        except OSError:
            pass
        return out

    def diagnose(self, name="a", lines=15):
        """Log the ends of a playout's log and of its Icecast's error log."""
        def tail(path):
            try:
                with open(path, errors="replace") as f:
                    return f.read().splitlines()[-lines:]
            except OSError as e:
                return [str(e)]
        d = self.icecasts[self.playouts[name]["icecast"]]["dir"]
        log("---- playout %s (last %d lines)" % (name, lines))
        for line in tail(self.playouts[name]["log"]):
            log(line)
        log("---- its Icecast's error.log")
        for line in tail(os.path.join(d, "log", "error.log")):
            log(line)
        # Liquidsoap's own log of this run and of the one before (a death).
        for f in ("liquidsoap.log.1", "liquidsoap.log"):
            log("---- its %s" % f)
            for line in tail(os.path.join(self.playouts[name]["state"], f)):
                log(line)

    def playout_log(self, name="a"):
        with open(self.playouts[name]["log"], errors="replace") as f:
            return f.read()

    def hls_url(self, name="a"):
        return "http://127.0.0.1:%d/hls/live.m3u8" % self.playouts[name]["hls_port"]

    def wait_on_air(self, name="a", mount="/live.mp3", timeout=60):
        server = self.playouts[name]["icecast"]
        wait_for("mount %s at Icecast" % mount, lambda: self.mount_up(mount, server), timeout)
        wait_for("Liquidsoap ready", lambda: "Liquidsoap is ready" in self.playout_log(name),
                 timeout)

    # --- schedule
    def snapshot(self, items, start, **opts):
        """Build a snapshot of items (see make_snapshot.py) starting at Unix time start."""
        self.revision += 1
        args = [sys.executable, MAKE_SNAPSHOT, "--start", "%.6f" % start,
                "--revision", str(self.revision), "--media-dir", self.media_src]
        for k, v in opts.items():
            flag = "--" + k.replace("_", "-")
            if v is True:
                args.append(flag)
            elif isinstance(v, list):
                for x in v:
                    args += [flag, x]
            else:
                args += [flag, str(v)]
        out = subprocess.run(args + items, capture_output=True, check=True).stdout
        return json.loads(out)

    def publish(self, snap):
        env = dict(os.environ, ONAIR_NATS_URL=self.nats_url)
        subprocess.run([ONAIR, "publish-snapshot", "-"], input=json.dumps(snap).encode(),
                       env=env, check=True, capture_output=True)

    def close(self):
        self.stop_media_server()
        for name in list(self.playouts):
            self.stop_playout(name)
            # After a kill -9 of playout its Liquidsoap (own session) runs on.
            pid = self.kill_liquidsoap(name)
            end = time.time() + 5
            while pid and time.time() < end and running(pid):
                time.sleep(0.05)
        for ice in self.icecasts.values():
            stop(ice["proc"])
        stop(self.nats)
        remove_test_dir(self.dir)


def scrape_metrics(url, headers=None):
    """The Prometheus metrics at url, read by prometheus_client's own text
    parser (Debian's python3-prometheus-client): {family name: family},
    each with .type and .samples (name, labels, value)."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        from prometheus_client.parser import text_string_to_metric_families
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def metric_value(families, name, **labels):
    """The value of the sample `name` whose labels include `labels` (summed
    over the others), or None when there is none."""
    total, found = 0.0, False
    for f in families.values():
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
                found = True
    return total if found else None


def remove_test_dir(d):
    """Remove a test's directory, or keep it (and say where) when
    ONAIR_KEEP_TEST_DIR is set."""
    if os.environ.get("ONAIR_KEEP_TEST_DIR"):
        log("kept", d)
    else:
        shutil.rmtree(d, ignore_errors=True)


def iso_to_unix(s):
    import datetime as dt
    return dt.datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


class Tap:
    """Minimal TAP output; exit code 1 when anything failed (a check whose
    description carries "# TODO reason" is an expected failure, as in TAP)."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=""):
        self.n += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, what), flush=True)
        if not cond:
            if "# TODO" not in what:
                self.failed += 1
            for line in str(detail).splitlines():
                print("#   " + line)
        return cond

    def skip(self, what, why):
        """A check that cannot run here, as a TAP skip (not a pass)."""
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, what, why), flush=True)

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0
