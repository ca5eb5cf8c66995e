#!/usr/bin/env python3
"""onair on a three-node NATS JetStream cluster loses nothing when a node dies.

Three nats-server processes form one cluster on loopback. The roles are
given the list of all three URLs (nats.url), the first being the one they
connect to.

1. `onair publish-snapshot` with one replica creates the streams and the
   schedule bucket with one replica; `onair messages` started with
   nats.replicas = 3 updates every stream and the bucket to three.
2. A snapshot is published, tasks are queued and playout events (heartbeats)
   are published; then the leader of the events stream is killed (SIGKILL)
   and more events are published to the others.
3. Every event is in the as-run database (onair messages reconnected to
   another node of the list), the snapshot reads back with its revision,
   and the task stream still holds every task.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from station import (MAKE_SNAPSHOT, ONAIR, Tap, free_port, log, nats_request,  # noqa: E402
                     remove_test_dir, spawn, stop, wait_for, wait_tcp)

EVENTS_BEFORE, EVENTS_AFTER, TASKS = 20, 20, 10


def request(port, subject, payload=b"", headers=None, timeout=3):
    return nats_request("nats://127.0.0.1:%d" % port, subject, payload, timeout, headers)


def js(port, api, body=None):
    """A JetStream API call ($JS.API.<api>): the decoded answer, or {}."""
    try:
        out = request(port, "$JS.API." + api, json.dumps(body).encode() if body else b"")
        return json.loads(out or b"{}")
    except (OSError, ValueError):
        return {}


def publish_acked(ports, subject, payload, msg_id, timeout=30):
    """Publish into JetStream until a node acknowledges it (any node of
    ports); the Nats-Msg-Id makes a retry a duplicate, not a second copy."""
    end = time.time() + timeout
    while time.time() < end:
        for port in ports:
            try:
                ack = json.loads(request(port, subject, payload, {"Nats-Msg-Id": msg_id}) or b"{}")
            except (OSError, ValueError):
                continue
            if "seq" in ack:
                return ack
        time.sleep(0.2)
    raise TimeoutError("no node acknowledged %s" % msg_id)


def heartbeat(seq):
    return json.dumps({"type": "event", "version": 1, "instance": "cluster", "seq": seq,
                       "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "event": "heartbeat", "source": "schedule"}).encode()


def replicas(port, stream):
    """The stream's replica count once every copy has caught up, else None."""
    info = js(port, "STREAM.INFO." + stream)
    n = info.get("config", {}).get("num_replicas")
    cluster = info.get("cluster", {})
    peers = cluster.get("replicas", [])
    if not cluster.get("leader") or len(peers) != (n or 1) - 1 or \
            not all(p.get("current") for p in peers):
        return None
    return n


def check_credentials_and_tls(tap, d, env):
    """A server that wants a user and password over TLS: the right ones
    connect (nats.user, nats.password, nats.tls_ca), a wrong password and
    a missing CA are refused with an error that says so."""
    tls = os.path.join(d, "tls")
    os.makedirs(tls)

    def ssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=tls)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=onair test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other CA",
        "-keyout", "other.key", "-out", "other.pem")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
        "server.key", "-out", "server.csr")
    with open(os.path.join(tls, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem")
    port = free_port()
    server = spawn(["nats-server", "-a", "127.0.0.1", "-p", str(port), "-js", "-sd",
                    os.path.join(d, "secure"), "--user", "onair", "--pass", "s3cret word",
                    "--tls", "--tlscert", os.path.join(tls, "server.pem"),
                    "--tlskey", os.path.join(tls, "server.key")],
                   os.path.join(d, "secure.log"))
    try:
        wait_tcp(port)
        snap = os.path.join(d, "tls-snapshot.json")
        with open(snap, "wb") as f:
            f.write(subprocess.run([sys.executable, MAKE_SNAPSHOT, "--start", "now+60"],
                                   check=True, capture_output=True).stdout)
        base = dict(env, ONAIR_NATS_URL="nats://127.0.0.1:%d" % port,
                    ONAIR_NATS_USER="onair", ONAIR_NATS_TLS_CA=os.path.join(tls, "ca.pem"))

        def publish(**extra):
            return subprocess.run([ONAIR, "publish-snapshot", snap], env=dict(base, **extra),
                                  capture_output=True, text=True, timeout=60)
        r = publish(ONAIR_NATS_PASSWORD="s3cret word")
        tap.ok(r.returncode == 0, "user, password and TLS (nats.tls_ca) connect", r.stderr)
        r = publish(ONAIR_NATS_PASSWORD="wrong")
        tap.ok(r.returncode != 0 and "message queue" in r.stderr,
               "a wrong password is refused with an error", r.stderr[-300:])
        r = publish(ONAIR_NATS_PASSWORD="s3cret word",
                    ONAIR_NATS_TLS_CA=os.path.join(tls, "other.pem"))
        tap.ok(r.returncode != 0, "a server certificate from another CA is refused",
               r.stderr[-300:])
    finally:
        stop(server)


def main():
    tap = Tap()
    d = tempfile.mkdtemp(prefix="onair-cluster-")
    nodes = []
    procs = {}
    try:
        client = [free_port() for _ in range(3)]
        route = [free_port() for _ in range(3)]
        routes = ",".join("nats://127.0.0.1:%d" % p for p in route)

        def start_node(i):
            return spawn(["nats-server", "-a", "127.0.0.1", "-p", str(client[i]), "-js",
                          "-sd", os.path.join(d, "n%d" % i), "--server_name", "n%d" % i,
                          "--cluster_name", "onair", "--cluster",
                          "nats://127.0.0.1:%d" % route[i], "--routes", routes],
                         os.path.join(d, "n%d.log" % i))
        nodes = [start_node(i) for i in range(3)]
        for p in client:
            wait_tcp(p)
        wait_for("the JetStream cluster to elect its leader",
                 lambda: all(js(p, "INFO").get("type", "").endswith("account_info_response")
                             for p in client), 60)
        env = dict(os.environ,
                   ONAIR_NATS_URL=",".join("nats://127.0.0.1:%d" % p for p in client),
                   ONAIR_DATABASE_URL="sqlite://" + os.path.join(d, "onair.db"),
                   ONAIR_STORAGE_PATH=os.path.join(d, "media"),
                   ONAIR_MESSAGES_PUBLISH="false", ONAIR_LOG_LEVEL="info")
        os.makedirs(env["ONAIR_STORAGE_PATH"])
        subprocess.run([ONAIR, "migrate"], env=env, check=True, capture_output=True)

        # 0. Credentials and TLS, on a server of their own.
        check_credentials_and_tls(tap, d, env)

        # 1. One replica, then three.
        snap_path = os.path.join(d, "snapshot.json")
        with open(snap_path, "wb") as f:
            f.write(subprocess.run([sys.executable, MAKE_SNAPSHOT, "--start", "now+60",
                                    "--revision", "7"], check=True,
                                   capture_output=True).stdout)
        r = subprocess.run([ONAIR, "publish-snapshot", snap_path], env=env,
                           capture_output=True, text=True)
        tap.ok(r.returncode == 0, "a snapshot is published on the cluster", r.stderr)
        streams = ["ONAIR_EVENTS", "ONAIR_TASKS", "ONAIR_TASKS_DEAD", "KV_onair_schedule"]
        before = {s: replicas(client[1], s) for s in streams}
        tap.ok(all(v == 1 for v in before.values()), "created with one replica", before)
        procs["messages"] = spawn([ONAIR, "messages"], os.path.join(d, "messages.log"),
                                  env=dict(env, ONAIR_NATS_REPLICAS="3"))
        try:
            wait_for("three replicas", lambda: all(replicas(client[1], s) == 3
                                                   for s in streams), 60)
        except TimeoutError:
            pass
        after = {s: replicas(client[1], s) for s in streams}
        tap.ok(all(v == 3 for v in after.values()),
               "nats.replicas = 3 updates every stream and the bucket", after)
        def consumer_info():
            c = js(client[1], "CONSUMER.INFO.ONAIR_EVENTS.messages").get("cluster", {})
            return c if len(c.get("replicas", [])) == 2 else None
        try:
            consumer = wait_for("the consumer on three replicas", consumer_info, 30)
        except TimeoutError:
            consumer = js(client[1], "CONSUMER.INFO.ONAIR_EVENTS.messages")
        tap.ok(len(consumer.get("replicas", [])) == 2,
               "... and the as-run log's consumer, made before on one replica", consumer)
        r = subprocess.run([ONAIR, "publish-snapshot", snap_path], env=dict(
            env, ONAIR_NATS_REPLICAS="3"), capture_output=True, text=True)
        tap.ok(r.returncode == 0, "the snapshot is published again, on three replicas",
               r.stderr)

        # 2. Tasks and events, then the node everyone is connected to dies.
        for i in range(TASKS):
            publish_acked(client, "onair.tasks.cluster", json.dumps({"n": i}).encode(),
                          "task-%d" % i)
        for seq in range(1, EVENTS_BEFORE + 1):
            publish_acked(client, "onair.events.cluster", heartbeat(seq), "ev-%d" % seq)
        # The worst node to lose: the leader of the events stream (the roles
        # are connected to n0, the first URL; it is often the same one).
        leader = js(client[1], "STREAM.INFO.ONAIR_EVENTS").get("cluster", {}).get("leader")
        victim = int(leader[1:]) if leader in ("n0", "n1", "n2") else 0
        killed_at = time.time()
        stop(nodes[victim], signal.SIGKILL)
        log("node n%d killed (leader of ONAIR_EVENTS: %s; the roles were on n0)"
            % (victim, leader))
        alive = [p for i, p in enumerate(client) if i != victim]
        for seq in range(EVENTS_BEFORE + 1, EVENTS_BEFORE + EVENTS_AFTER + 1):
            publish_acked(alive, "onair.events.cluster", heartbeat(seq), "ev-%d" % seq)
        log("events after the kill acknowledged in %.1f s" % (time.time() - killed_at))

        # 3. Nothing lost.
        def stored():
            out = subprocess.run(["sqlite3", os.path.join(d, "onair.db"),
                                  "SELECT count(*) FROM playout_events WHERE instance = "
                                  "'cluster'"], capture_output=True, text=True).stdout
            return int(out.strip() or 0)
        total = EVENTS_BEFORE + EVENTS_AFTER
        try:
            wait_for("every event in the as-run database", lambda: stored() == total, 60)
        except TimeoutError:
            pass
        tap.ok(stored() == total, "every event is stored once: onair messages moved to "
               "another node (%d of %d)" % (stored(), total))
        def read_snapshot():
            # A reader retries while the bucket elects its new leader.
            for port in alive:
                msg = js(port, "STREAM.MSG.GET.KV_onair_schedule",
                         {"last_by_subj": "$KV.onair_schedule.snapshot"}).get("message", {})
                try:
                    return json.loads(base64.b64decode(msg.get("data", "")))
                except ValueError:
                    continue
            return {}
        try:
            got = wait_for("the snapshot", read_snapshot, 20)
        except TimeoutError:
            got = {}
        tap.ok(got.get("revision") == 7, "the snapshot reads back from a surviving node",
               {k: got.get(k) for k in ("revision", "station")})
        def task_count():
            for port in alive:
                n = js(port, "STREAM.INFO.ONAIR_TASKS").get("state", {}).get("messages")
                if n is not None:
                    return n
            return None
        try:
            tasks = wait_for("the task stream", lambda: task_count() == TASKS and TASKS, 20)
        except TimeoutError:
            tasks = task_count()
        tap.ok(tasks == TASKS, "every queued task survives (%s of %d)" % (tasks, TASKS))
        m = procs.pop("messages")
        stop(m)
        tap.ok(m.returncode == 0, "onair messages stops cleanly", m.returncode)
    except Exception:  # noqa: BLE001 - reported as a failed check
        import traceback
        tap.ok(False, "the test ran to the end", traceback.format_exc())
    finally:
        for p in procs.values():
            stop(p)
        for p in nodes:
            stop(p)
        remove_test_dir(d)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
