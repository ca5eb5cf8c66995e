#!/usr/bin/env python3
"""Write a protocol v1 schedule snapshot for tests and the demo station.

Items are audio files played back to back from --start (or at explicit
times). Each file is copied into --media-dir under its SHA-256, which is
how a file:// media_url template ("file:///DIR/{hash}") finds it.

  make_snapshot.py --start now+5 --media-dir DIR [options] ITEM...

ITEM is FILE[,key=value...] with keys: at (seconds after --start, default
back to back), cue_in, cue_out, fade_in, fade_out, crossfade (seconds),
gain (dB), title, artist, id, kind (file|webstream|silence|live),
url (webstream), length (seconds, for webstream/silence/live; "FILE" is
then "-").
"""
import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys


def rfc3339(t):
    d = dt.datetime.fromtimestamp(t, tz=dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%06dZ" % d.microsecond


def parse_start(text):
    if text.startswith("now"):
        import time
        off = float(text[3:] or 0)
        return time.time() + off
    return float(text)


_probed = {}


def probe_duration(path):
    if path in _probed:
        return _probed[path]
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration",
         "-of", "default=nw=1:nk=1", path],
        check=True, capture_output=True, text=True).stdout
    _probed[path] = float(out.strip())
    return _probed[path]


_refs = {}


def media_ref(path, media_dir, media_id):
    """The media object of a file; one id per distinct file."""
    if path in _refs:
        return _refs[path]
    data = open(path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    if media_dir:
        os.makedirs(media_dir, exist_ok=True)
        dest = os.path.join(media_dir, digest)
        if not os.path.exists(dest):
            shutil.copyfile(path, dest)
    _refs[path] = {
        "id": media_id,
        "hash": "sha256:" + digest,
        "size": len(data),
        "duration": round(probe_duration(path), 6),
    }
    return _refs[path]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", default="now+5")
    ap.add_argument("--revision", type=int, default=1)
    ap.add_argument("--media-dir")
    ap.add_argument("--station", default="onair test")
    ap.add_argument("--mp3-mount", default="/live.mp3")
    ap.add_argument("--extra-mounts", action="store_true",
                    help="also Ogg Vorbis, Opus and AAC mounts")
    ap.add_argument("--no-hls", action="store_true")
    ap.add_argument("--hls-segment", type=float, default=2.0)
    ap.add_argument("--fallback", action="append", default=[],
                    help="a station fallback file (repeatable)")
    ap.add_argument("--live-user", action="append", default=[],
                    help="USER:ARGON2ID_HASH allowed on both live inputs")
    ap.add_argument("--live-fade", type=float, default=1.0)
    ap.add_argument("--window-hours", type=float, default=48)
    ap.add_argument("items", nargs="*")
    # Items without a file ("-,kind=webstream,...") start with "-": a leading
    # space keeps argparse from taking them for options.
    a = ap.parse_args([" " + x if x.startswith("-,") else x for x in sys.argv[1:]])

    start = parse_start(a.start)
    t = start
    items = []
    next_id = 1
    media_id = 100
    for spec in a.items:
        if spec.startswith(" -,"):
            spec = spec[1:]
        parts = spec.split(",")
        path = parts[0]
        opts = dict(p.split("=", 1) for p in parts[1:])
        kind = opts.get("kind", "file")
        item_id = int(opts.get("id", next_id))
        next_id = item_id + 1
        at = start + float(opts["at"]) if "at" in opts else t
        item = {"id": item_id, "kind": kind}
        if kind == "file":
            media_id += 1
            m = media_ref(path, a.media_dir, media_id)
            cue_in = float(opts.get("cue_in", 0))
            cue_out = float(opts.get("cue_out", m["duration"]))
            length = cue_out - cue_in
            item.update(media=m, cue_in=cue_in, cue_out=cue_out)
        else:
            length = float(opts["length"])
            if kind == "webstream":
                item["url"] = opts["url"]
        crossfade = float(opts.get("crossfade", 0))
        at -= crossfade if "at" not in opts and items else 0
        item.update(
            start=rfc3339(at), end=rfc3339(at + length),
            fade_in=float(opts.get("fade_in", 0)),
            fade_out=float(opts.get("fade_out", 0)),
            crossfade=crossfade if items else 0,
            gain_db=float(opts.get("gain", 0)),
            metadata={"title": opts.get("title", os.path.basename(path)),
                      "artist": opts.get("artist", "onair")})
        items.append(item)
        t = at + length

    fallback = []
    for path in a.fallback:
        media_id += 1
        fallback.append({"media": media_ref(path, a.media_dir, media_id),
                         "gain_db": 0,
                         "metadata": {"title": os.path.basename(path)}})

    outputs = [{"mount": a.mp3_mount, "format": "mp3", "bitrate": 128}]
    if a.extra_mounts:
        outputs += [{"mount": "/live.ogg", "format": "vorbis", "bitrate": 128},
                    {"mount": "/live.opus", "format": "opus", "bitrate": 96},
                    {"mount": "/live.aac", "format": "aac", "bitrate": 128}]
    users = []
    for u in a.live_user:
        name, h = u.split(":", 1)
        users.append({"name": name, "password_hash": h})
    live = {"enabled": bool(users), "fade": a.live_fade, "users": users}
    import time
    snap = {
        "type": "snapshot", "version": 1, "revision": a.revision,
        "generated_at": rfc3339(time.time()),
        "station": {"name": a.station, "timezone": "UTC"},
        "window": {"start": rfc3339(min(start, time.time()) - 3600),
                   "end": rfc3339(start + a.window_hours * 3600)},
        "default_crossfade": 0,
        "items": items,
        "fallback": fallback,
        "live": {"main": dict(live, mount="main"), "show": dict(live, mount="show")},
        "outputs": outputs,
        "hls": {"enabled": not a.no_hls, "bitrate": 128,
                "segment": a.hls_segment, "segments": 5},
    }
    json.dump(snap, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
