#!/usr/bin/env python3
"""GET /api/v1/status on one database backend (argument: sqlite or
postgres): playout events published on a real nats-server (as
onair-playout publishes them, protocol v1) become each instance's source,
item on air, live DJs, outputs, health and HLS listeners; an older event
(by seq) changes nothing, a malformed one is ignored; the schedule's
planned now and next come from the database."""
import datetime
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from apilib import Api, Tap  # noqa: E402

V1 = "/api/v1"


def publish(port, messages):
    """Publish (subject, payload) pairs over the plain NATS protocol."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        f = s.makefile("rb")
        f.readline()  # INFO
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
        for subject, payload in messages:
            data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
            s.sendall(("PUB %s %d\r\n" % (subject, len(data))).encode() + data + b"\r\n")
        s.sendall(b"PING\r\n")
        while not f.readline().startswith(b"PONG"):
            pass


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event(instance, seq, kind, at, **kw):
    e = {"type": "event", "version": 1, "instance": instance, "seq": seq, "at": iso(at),
         "event": kind}
    e.update(kw)
    return ("onair.events." + instance, e)


def wait_status(client, pred, timeout=10):
    end = time.time() + timeout
    r = None
    while time.time() < end:
        r = client.get(V1 + "/status")
        if r.status == 200 and pred(r.json):
            return r
        time.sleep(0.1)
    return r


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    tap = Tap()
    api = Api(backend, "status-" + backend)
    try:
        api.add_user("g", "guest")
        g = api.client()
        g.login("g")
        r = g.get(V1 + "/status")
        tap.ok(r.status == 200 and r.json["instances"] == [] and r.json["planned_now"] is None,
               "no playout heard of yet, nothing planned", r)
        r = api.client().get(V1 + "/status")
        tap.ok(r.status == 401, "the status needs a login", r)

        now = datetime.datetime.now(datetime.timezone.utc)
        old = now - datetime.timedelta(minutes=5)
        publish(api.nats_port, [
            event("studio", 1, "heartbeat", now, source="schedule", hls_listeners=3),
            event("studio", 2, "output_up", now, output="icecast:/live.mp3"),
            event("studio", 3, "output_down", now, output="hls", message="disk full"),
            event("studio", 4, "item_started", now, item_id=42, scheduled=iso(now),
                  source="schedule", snapshot_revision=7,
                  metadata={"title": "Tone", "artist": "Oscillator"}),
            event("studio", 5, "live_connected", now, input="show", user="dj ann"),
            event("backup", 1, "heartbeat", old, source="fallback"),
            ("onair.events.studio", b"{not json"),
        ])
        r = wait_status(g, lambda j: len(j["instances"]) == 2 and
                        j["instances"][1]["live"]["show"] == "dj ann")
        inst = {i["instance"]: i for i in (r.json or {}).get("instances", [])}
        s = inst.get("studio", {})
        tap.ok(s.get("healthy") is True and s.get("source") == "schedule" and
               s.get("snapshot_revision") == 7 and s.get("hls_listeners") == 3,
               "the studio playout: healthy, on the schedule, revision 7, 3 HLS listeners", r)
        tap.ok(s.get("on_air") and s["on_air"]["item_id"] == 42 and
               s["on_air"]["title"] == "Tone" and s["on_air"]["artist"] == "Oscillator",
               "the item on air with its title and artist", s)
        outs = {o["output"]: o for o in s.get("outputs", [])}
        tap.ok(outs.get("icecast:/live.mp3", {}).get("up") is True and
               outs.get("hls", {}).get("up") is False and
               outs["hls"]["message"] == "disk full", "its outputs, one down with the reason",
               s.get("outputs"))
        tap.ok(s.get("live") == {"main": None, "show": "dj ann"}, "the DJ on the show input",
               s.get("live"))
        b = inst.get("backup", {})
        tap.ok(b.get("healthy") is False and b.get("source") == "fallback",
               "a playout not heard of for 5 minutes is not healthy", b)

        publish(api.nats_port, [
            event("studio", 3, "live_disconnected", now, input="show"),
            event("studio", 6, "item_ended", now, item_id=42, scheduled=iso(now),
                  reason="completed"),
            event("studio", 7, "source_changed", now, source="main_live",
                  previous="schedule"),
        ])
        r = wait_status(g, lambda j: j["instances"][1]["source"] == "main_live")
        s = {i["instance"]: i for i in r.json["instances"]}["studio"]
        tap.ok(s["live"]["show"] == "dj ann" and s["on_air"] is None and
               s["source"] == "main_live",
               "an older event changes nothing; the item ended; the source changed", s)
        tap.ok(s.get("watchdog") is None, "no dead-air watchdog action yet", s.get("watchdog"))

        publish(api.nats_port, [
            event("studio", 9, "dead_air", now, action="restart_output", cause="output",
                  output="icecast:/live.mp3", message="Icecast does not list /live.mp3")])
        r = wait_status(g, lambda j: j["instances"][1].get("watchdog"))
        wd = {i["instance"]: i for i in r.json["instances"]}["studio"].get("watchdog") or {}
        tap.ok(wd.get("dead_air") is True and wd.get("action") == "restart_output" and
               wd.get("cause") == "output" and wd.get("output") == "icecast:/live.mp3" and
               wd.get("message") == "Icecast does not list /live.mp3",
               "the watchdog's action is in the status", wd)
        publish(api.nats_port, [
            event("studio", 10, "dead_air", now, action="recovered", cause="output")])
        r = wait_status(g, lambda j: (j["instances"][1].get("watchdog") or {}).get("action")
                        == "recovered")
        wd = {i["instance"]: i for i in r.json["instances"]}["studio"].get("watchdog") or {}
        tap.ok(wd.get("dead_air") is False and wd.get("output") is None,
               "... and its recovery", wd)

        # The same as server-sent events: the state at once, then each change.
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=20)
        conn.request("GET", V1 + "/status/stream", headers={"Cookie": g.cookie})
        resp = conn.getresponse()
        tap.ok(resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream",
               "the status stream opens", (resp.status, resp.getheaders()))

        def next_event():
            data = None
            while True:
                line = resp.fp.readline()
                if not line:
                    return None
                line = line.decode().rstrip("\n")
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and data is not None:
                    return data
        first = next_event()
        tap.ok(first and {i["instance"] for i in first["instances"]} == {"studio", "backup"},
               "the first event is the current state", first)
        publish(api.nats_port, [
            event("studio", 11, "live_connected", now, input="main", user="dj bob")])
        second = next_event()
        studio = {i["instance"]: i for i in (second or {}).get("instances", [])}.get("studio")
        tap.ok(studio and studio["live"]["main"] == "dj bob" and
               second["version"] > first["version"], "a DJ connecting is pushed", second)
        conn.close()
        r = g.get(V1 + "/status")
        tap.ok(r.status == 200, "the server still answers after the stream is dropped", r)

        # The schedule's side: a show on air now with a live slot.
        pm = api.client()
        api.add_user("pm", "program_manager")
        pm.login("pm")
        show = pm.post(V1 + "/shows", {"name": "Now"}).json["id"]
        start = now - datetime.timedelta(minutes=10)
        pm.post(V1 + "/shows/%d/recurrences" % show, {
            "frequency": "once", "start_date": start.strftime("%Y-%m-%d"),
            "start_time": start.strftime("%H:%M:%S"), "duration_us": 7200 * 1000000,
            "timezone": "UTC"})
        frm = (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        to = (now + datetime.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        inst_list = pm.get(V1 + "/instances?from=%s&to=%s" % (frm, to)).json["items"]
        tap.ok(len(inst_list) == 1, "a show on air now", inst_list)
        # Items are placed from the show's start, which has passed: the
        # schedule refuses edits of started shows, so only read it here.
        r = g.get(V1 + "/status")
        tap.ok(r.status == 200 and r.json["planned_now"] is None,
               "nothing placed in it: nothing planned now", r.json.get("planned_now"))
        later = now + datetime.timedelta(hours=1)
        show2 = pm.post(V1 + "/shows", {"name": "Later"}).json["id"]
        pm.post(V1 + "/shows/%d/recurrences" % show2, {
            "frequency": "once", "start_date": later.strftime("%Y-%m-%d"),
            "start_time": later.strftime("%H:%M:00"), "duration_us": 3600 * 1000000,
            "timezone": "UTC"})
        items = pm.get(V1 + "/instances?from=%s&to=%s&show_id=%d" % (frm, to, show2)).json
        i2 = items["items"][0]
        r = pm.post(V1 + "/instances/%d/items" % i2["id"],
                    {"version": i2["version"], "kind": "live", "length_us": 600000000})
        placed = r.json["item_ids"][0] if r.status == 201 else None
        r = g.get(V1 + "/status")
        nxt = r.json.get("planned_next") or {}
        tap.ok(placed and nxt.get("item_id") == placed and nxt.get("kind") == "live" and
               nxt.get("show_name") == "Later", "the next planned item is the live slot", nxt)
        # Leave a stream open: the server must still stop cleanly (finish).
        held = http.client.HTTPConnection("127.0.0.1", api.port, timeout=20)
        held.request("GET", V1 + "/status/stream", headers={"Cookie": g.cookie})
        held_resp = held.getresponse()
        first_lines = [held_resp.fp.readline() for _ in range(2)]
        tap.ok(any(x.startswith(b"event: status") for x in first_lines),
               "a stream is open while the server stops", first_lines)
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
