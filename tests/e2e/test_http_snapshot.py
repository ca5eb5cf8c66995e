#!/usr/bin/env python3
"""With no message queue at all, playout fetches the snapshot over HTTP.

NATS is never started. onair-playout is given playout.snapshot_url (a
plain HTTP server on loopback stands in for the web API); after a few
seconds without a queue it fetches the snapshot from there, stores it, and
plays it: the scheduled tone is heard on Icecast at its time.
"""
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import IcecastListener, Station, Tap, free_port, log, make_tone, wait_for  # noqa: E402


def main():
    tap = Tap()
    st = Station("http")
    server = None
    try:
        tone = make_tone(os.path.join(st.dir, "t.mp3"), 523, 12)
        st.start_icecast()
        st.nats_port = free_port()  # nothing listens there
        start = time.time() + 15
        snap = st.snapshot([tone + ",cue_out=10"], start)
        body = json.dumps(snap).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/api/v1/schedule/snapshot":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d/api/v1/schedule/snapshot" % server.server_address[1]
        st.start_playout("a", extra_env={"ONAIR_PLAYOUT_SNAPSHOT_URL": url})
        wait_for("the snapshot from HTTP",
                 lambda: "from http: " in st.playout_log("a"), 30)
        tap.ok(True, "playout took the snapshot from HTTP with no queue")
        stored = os.path.join(st.playouts["a"]["state"], "snapshot.json")
        tap.ok(os.path.exists(stored) and json.load(open(stored))["revision"] == snap["revision"],
               "the fetched snapshot is stored on disk")
        st.wait_on_air("a")
        ice = IcecastListener(st.icecast_url())
        wait_for("the item to play", lambda: time.time() > start + 6, 40)
        ice.stop()
        runs = ice.runs([523])
        log("heard:", " ".join("%.1f-%.1f:%d" % (a, b, f) for a, b, f, _ in runs))
        tap.ok(any(f == 523 for _, _, f, _ in runs), "the scheduled tone is heard")
    finally:
        if server:
            server.shutdown()
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
