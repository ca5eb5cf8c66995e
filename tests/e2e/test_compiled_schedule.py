#!/usr/bin/env python3
"""The create block drives the play block: a schedule in the database is
compiled and published by `onair messages` and played by two playout
instances; an edit in the database reaches playout and is heard; the
as-run log has each item once with its actual start, although onair
messages and NATS are both restarted during play.

The show has four 3-second tones (440, 550, 660, 770 Hz) back to back.
While the second plays, the fourth item's file is changed to an 880 Hz
tone in the database; onair messages (compiling every second here, as it
would on the web API's notification) publishes the change. Then onair
messages is killed and started again, and NATS is killed and started
again, while the show goes on. Each instance feeds its own Icecast server;
both are listened to.
"""
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from station import (ONAIR, IcecastListener, Station, Tap, log, make_tone,  # noqa: E402
                     spawn, stop, wait_for)

FREQS = [440, 550, 660, 770, 880]
US = 1000000


def heard(listener):
    """The tones heard in order, gaps and repeats merged."""
    out = []
    for r in listener.runs(FREQS):
        if r[2] and (not out or out[-1] != r[2]) and r[1] - r[0] > 0.5:
            out.append(r[2])
    return out


def add_file(db, media_src, path, freq):
    data = open(path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(media_src, digest), "wb") as f:
        f.write(data)
    dur = float(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
         "default=nw=1:nk=1", path], check=True, capture_output=True, text=True).stdout)
    cur = db.execute(
        "INSERT INTO files (content_hash, size, mime, storage_key, import_status, created_at,"
        " updated_at, title, artist, duration_us, cue_in_us, cue_out_us)"
        " VALUES (?, ?, 'audio/mpeg', ?, 'ready', 0, 0, ?, 'e2e', ?, 0, ?)",
        ("sha256:" + digest, len(data), "e2e/" + digest, "tone %d" % freq,
         int(dur * US), int(dur * US)))
    return cur.lastrowid


def main():
    tap = Tap()
    st = Station("compiled")
    messages = None
    try:
        d = st.dir
        db_path = os.path.join(d, "onair.db")
        env = dict(os.environ, ONAIR_DATABASE_URL="sqlite://" + db_path,
                   ONAIR_MESSAGES_INTERVAL="1", ONAIR_LOG_LEVEL="info")
        subprocess.run([ONAIR, "migrate"], env=env, check=True, capture_output=True)
        db = sqlite3.connect(db_path, isolation_level=None)
        files = {f: add_file(db, st.media_src, make_tone(os.path.join(d, "t%d.mp3" % f), f, 4),
                             f) for f in FREQS}
        show = db.execute("INSERT INTO shows (name, created_at, updated_at)"
                          " VALUES ('E2E show', 0, 0)").lastrowid
        start = time.time() + 25
        t0 = int(start * US)
        inst = db.execute("INSERT INTO show_instances (show_id, starts_at, ends_at, created_at,"
                          " updated_at) VALUES (?, ?, ?, 0, 0)",
                          (show, t0, t0 + 60 * US)).lastrowid
        items = []
        for i, f in enumerate([440, 550, 660, 770]):
            items.append(db.execute(
                "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at, kind,"
                " file_id, cue_in_us, cue_out_us) VALUES (?, ?, ?, ?, 'file', ?, 0, ?)",
                (inst, i, t0 + i * 3 * US, t0 + (i + 1) * 3 * US, files[f], 3 * US)).lastrowid)

        st.start_nats()
        st.start_icecast("main")
        st.start_icecast("b")
        env["ONAIR_NATS_URL"] = st.nats_url
        mlog = os.path.join(d, "messages.log")
        messages = spawn([ONAIR, "messages"], mlog, env=env)
        st.start_playout("a", icecast="main")
        st.start_playout("b", icecast="b")
        st.wait_on_air("a")
        st.wait_on_air("b")
        wait_for("the compiled schedule at playout",
                 lambda: "E2E show" in open(os.path.join(
                     st.playouts["a"]["state"], "snapshot.json"), errors="replace").read()
                 if os.path.exists(os.path.join(st.playouts["a"]["state"], "snapshot.json"))
                 else False, 30)
        ice = {"a": IcecastListener(st.icecast_url(server="main")),
               "b": IcecastListener(st.icecast_url(server="b"))}

        # While 550 plays: the last item becomes 880 Hz.
        wait_for("the second item", lambda: time.time() > start + 3.5, 60)
        db.execute("UPDATE schedule_items SET file_id = ? WHERE id = ?", (files[880], items[3]))
        edited = time.time()
        # onair messages, then NATS, go away and come back during the show.
        wait_for("a moment", lambda: time.time() > start + 5, 10)
        stop(messages, signal.SIGKILL)
        messages = spawn([ONAIR, "messages"], mlog, env=env)
        st.stop_nats(signal.SIGKILL)
        time.sleep(1)
        st.start_nats()

        wait_for("the show to end", lambda: time.time() > start + 16, 60)
        for name, listener in ice.items():
            listener.stop()
            listener.save(os.path.join(d, "heard-%s.mp3" % name))
        for name, listener in ice.items():
            seq = heard(listener)
            log("instance %s hears %s" % (name, seq))
            tap.ok(seq == [440, 550, 660, 880],
                   "instance %s plays the compiled schedule with the edit" % name, seq)

        with open(mlog, errors="replace") as f:
            mtext = f.read()
        revs = [line for line in mtext.splitlines() if "published schedule revision" in line]
        tap.ok(len(revs) >= 2, "onair messages published the schedule and then the edit",
               mtext[-2000:])
        log("edit made %.1f s before its item" % (start + 9 - edited))

        def as_run():
            return db.execute("SELECT schedule_item_id, started_at, ended_at, end_reason,"
                              " playout_instance FROM as_run ORDER BY started_at").fetchall()

        wait_for("every start and end in the as-run log",
                 lambda: len([r for r in as_run() if r[2] is not None]) == 4, 60)
        rows = as_run()
        log("as-run:", rows)
        tap.ok(sorted(r[0] for r in rows) == sorted(items),
               "the as-run log has each item once", rows)
        starts = {r[0]: r[1] / US for r in rows}
        errs = [starts.get(items[i], 0) - (start + 3 * i) for i in range(4)]
        log("start errors (s):", " ".join("%+.3f" % e for e in errs))
        tap.ok(all(abs(e) < 0.5 for e in errs),
               "with the actual start of each (within 0.5 s of its time)", errs)
        tap.ok(all(r[3] == "completed" for r in rows), "each played to its end", rows)
        per_instance = db.execute(
            "SELECT instance, COUNT(*) FROM playout_events WHERE kind = 'item_started'"
            " GROUP BY instance ORDER BY instance").fetchall()
        tap.ok(per_instance == [("a", 4), ("b", 4)],
               "both instances' reports are kept, each once", per_instance)
        counts = db.execute("SELECT play_count FROM files WHERE id IN (?, ?, ?, ?)"
                            " ORDER BY id", (files[440], files[550], files[660],
                                             files[880])).fetchall()
        tap.ok(counts == [(1,), (1,), (1,), (1,)], "each file counted as played once", counts)
        tap.ok(db.execute("SELECT play_count FROM files WHERE id = ?",
                          (files[770],)).fetchone() == (0,),
               "the replaced file was not played")
    finally:
        stop(messages)
        st.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
