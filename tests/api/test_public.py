#!/usr/bin/env python3
"""The public endpoints (no login) on one database backend (argument:
sqlite or postgres): LibreTime's live-info, live-info-v2 and week-info
checked member by member against the shapes of LibreTime's legacy API,
our now-playing and week documents, the iCalendar feed parsed with
libical (tests/tools/ics_check) and checked by hand (CRLF, folding at 75
octets on character boundaries, escaping), the player page's headers and
the stream URLs (public.stream_url, public.hls_url: refused when invalid),
and 404 for all of them with ONAIR_API_PUBLIC=false."""
import datetime
import json
import os
import re
import subprocess
import sys
import time
import zoneinfo

sys.path.insert(0, os.path.dirname(__file__))
from apilib import ONAIR, Api, Tap, spawn, wait_analysed  # noqa: E402
from test_core import is_problem, tone  # noqa: E402

V1 = "/api/v1"
BUILD = os.environ.get("ONAIR_BUILD_ROOT",
                       os.path.join(os.path.dirname(__file__), "..", "..", "build"))
ICS_CHECK = os.path.join(BUILD, "tests", "tools", "ics_check")
TZ = "Europe/Berlin"

# --- LibreTime's shapes (github.com/libretime/libretime, legacy/application/).
# Show rows of Application_Model_Show::getCurrentShow / getNextShows
# (models/Show.php; week-info via common/WidgetHelper.php getWeekInfo, and
# live-info?type=endofday): the SELECT's columns.
LT_NEXTSHOWS = {"start_timestamp", "end_timestamp", "name", "description", "id",
                "instance_id", "instance_description", "record", "url", "image_path",
                "starts", "ends"}
# getPrevCurrentNextOld (models/Show.php): the current row, and the
# next/previous copies with "type": "show".
LT_OLD_CURRENT = {"start_timestamp", "end_timestamp", "name", "description", "id",
                  "instance_id", "record", "url", "image_path", "starts", "ends"}
LT_OLD_NEXT = LT_OLD_CURRENT | {"type"}
# getPrevCurrentNext (models/Show.php), for live-info-v2.
LT_V2_SHOW = {"name", "description", "genre", "id", "instance_id", "record", "url",
              "image_path", "starts", "ends"}
# Schedule::getPreviousCurrentNextMedia (models/Schedule.php).
LT_TRACK_CURRENT = {"starts", "ends", "type", "name", "media_item_played", "metadata", "record"}
LT_TRACK_CURRENT_LIVE = {"starts", "ends", "type", "name", "media_item_played", "record"}
LT_TRACK_OTHER = {"starts", "ends", "type", "name", "metadata"}
# ApiController.php liveInfoAction: GetPlayOrderRangeOld + timezone members.
LT_LIVE_INFO = {"env", "schedulerTime", "previous", "current", "next", "currentShow",
                "nextShow", "source_enabled", "timezone", "timezoneOffset",
                "AIRTIME_API_VERSION"}
LT_LIVE_INFO_EOD = {"env", "schedulerTime", "currentShow", "nextShow", "timezone",
                    "timezoneOffset", "AIRTIME_API_VERSION"}
# liveInfoV2Action: GetPlayOrderRange + sources.
LT_V2 = {"station": {"env", "schedulerTime", "source_enabled", "timezone",
                     "AIRTIME_API_VERSION"},
         "tracks": {"previous", "current", "next"},
         "shows": {"previous", "current", "next"},
         "sources": {"livedj", "masterdj", "scheduledplay"}}
# WidgetHelper::getWeekInfo + weekInfoAction.
LT_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
LT_WEEK_INFO = set(LT_DAYS + ["next" + d for d in LT_DAYS] + ["AIRTIME_API_VERSION"])
LT_TIME_FMT = "%Y-%m-%d %H:%M:%S"    # DEFAULT_TIMESTAMP_FORMAT (configs/constants.php)

# The samples LibreTime documents for station websites (docs/user-manual/
# exporting-the-schedule.md: "The comma-separated text metadata returned
# ... might be something like this"), member by member with the JSON type
# of each value. The sample's "0".."8" members of currentShow are PHP's
# numeric duplicates of a PDO row fetched in both modes in 2013; today's
# code fetches rows by name only, so they are not expected.
S, I, B, O, L = str, int, bool, dict, list
DOC_LIVE_INFO = {"env": S, "schedulerTime": S, "previous": O, "current": O, "next": O,
                 "currentShow": L, "nextShow": L, "timezone": S, "timezoneOffset": S,
                 "AIRTIME_API_VERSION": S}
DOC_TRACK = {"name": S, "starts": S, "ends": S, "type": S}
DOC_CURRENT_SHOW = {"start_timestamp": S, "end_timestamp": S, "name": S, "id": I,
                    "instance_id": I, "record": I, "url": S, "starts": S, "ends": S}
DOC_NEXT_SHOW = dict(DOC_CURRENT_SHOW, type=S)
DOC_WEEK_DAY_ROW = DOC_CURRENT_SHOW
DOC_WEEK_INFO = dict({d: L for d in ("monday", "tuesday", "wednesday", "thursday", "friday",
                                     "saturday", "sunday")}, AIRTIME_API_VERSION=S)


def doc_diff(shape, ours, where):
    """What in ours differs from a documented sample's members and types."""
    if not isinstance(ours, dict):
        return ["%s is %s, not an object" % (where, type(ours).__name__)]
    out = []
    for k, t in shape.items():
        if k not in ours:
            out.append("%s.%s is missing" % (where, k))
        elif not isinstance(ours[k], t) or (t is I and isinstance(ours[k], bool)):
            out.append("%s.%s is %s, not %s" % (where, k, type(ours[k]).__name__, t.__name__))
    return out


SHOW_NAME = "Morning & <Co>"
SHOW_NAME_HTML = "Morning &amp; &lt;Co&gt;"
# Long, with UTF-8 (2- and 3-octet characters), commas, semicolons, a
# backslash and a newline: folded and escaped in the feed.
DESCRIPTION = ("Früh; wach, munter \\ über alles — " * 4) + "\nzweite Zeile"
STATION = "Radio Ünïcode; Test, FM"


def parse_rfc3339(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def lt_parse(s, tz):
    return datetime.datetime.strptime(s, LT_TIME_FMT).replace(tzinfo=tz)


def is_lt_time(s):
    try:
        datetime.datetime.strptime(s, LT_TIME_FMT)
        return True
    except (TypeError, ValueError):
        return False


def check_ics_text(tap, body, expected_events):
    """CRLF everywhere, lines at most 75 octets, folded on character
    boundaries, the description escaped; libical parses it."""
    tap.ok(body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b""),
           "the feed uses CRLF line endings only")
    lines = body.split(b"\r\n")[:-1]
    tap.ok(all(len(ln) <= 75 for ln in lines), "no line is longer than 75 octets",
           max(len(ln) for ln in lines))
    decoded = True
    for ln in lines:
        try:
            ln.decode("utf-8")
        except UnicodeDecodeError:
            decoded = False
    tap.ok(decoded, "every physical line is whole UTF-8 (folded on character boundaries)")
    folded = [ln for ln in lines if ln.startswith(b" ")]
    tap.ok(len(folded) > 0, "long lines are folded (continuations start with a space)")
    unfolded = body.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
    desc = DESCRIPTION.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,") \
        .replace("\n", "\\n")
    tap.ok("DESCRIPTION:" + desc in unfolded, "the description is escaped (\\\\ \\; \\, \\n)",
           [u for u in unfolded if u.startswith("DESCRIPTION")][:1])
    tap.ok("X-WR-CALNAME:" + STATION.replace(";", "\\;").replace(",", "\\,") in unfolded,
           "X-WR-CALNAME is the station's name, escaped")
    tap.ok(unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-2] == "END:VCALENDAR" and
           "VERSION:2.0" in unfolded and any(u.startswith("PRODID:") for u in unfolded),
           "VCALENDAR with PRODID and VERSION:2.0")
    tap.ok(sum(u == "BEGIN:VEVENT" for u in unfolded) == expected_events,
           "one VEVENT per instance (%d)" % expected_events)

    r = subprocess.run([ICS_CHECK], input=body, capture_output=True)
    tap.ok(r.returncode == 0, "libical parses the feed", r.stderr.decode())
    out = [json.loads(ln) for ln in r.stdout.decode().splitlines()]
    return out


def main():
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    tap = Tap()
    api = Api(backend, "pub-" + backend)
    worker = None
    try:
        worker = spawn([ONAIR, "worker"], os.path.join(api.dir, "worker.log"), env=api.env)
        api.add_user("admin", "admin")
        c = api.client()
        c.login("admin")
        admin = api.client(c.post(V1 + "/tokens", {"name": "t"}).json["token"])
        anon = api.client()

        r = admin.patch(V1 + "/settings", {"name": STATION, "timezone": TZ})
        tap.ok(r.status == 200 and r.json["timezone"] == TZ, "the station is named and zoned", r)
        tz = zoneinfo.ZoneInfo(TZ)

        # One analysed file with title and artist.
        data = tone(os.path.join(api.dir, "t.mp3"), 440, 3)
        r = admin.post(V1 + "/files?filename=t.mp3", raw=data)
        fid = r.json["file"]["id"]
        admin.patch(V1 + "/files/%d" % fid, {"title": "Tone A", "artist": "The Sines",
                                             "album": "Waves"})
        tap.ok(wait_analysed(admin, [fid]) == ["ready"], "the upload is analysed")

        # A daily show that started 10 minutes ago (local time), one hour long.
        now = datetime.datetime.now(tz)
        start_local = (now - datetime.timedelta(minutes=10)).replace(second=0, microsecond=0)
        r = admin.post(V1 + "/shows", {"name": SHOW_NAME, "description": DESCRIPTION,
                                       "url": "https://example.org/morning?a=1&b=2",
                                       "color": "#336699", "genre": "Talk"})
        tap.ok(r.status == 201, "a show", r)
        show = r.json["id"]
        rec = {"frequency": "weekly", "weekdays": 127,
               "start_date": (start_local.date() - datetime.timedelta(days=1)).isoformat(),
               "start_time": start_local.strftime("%H:%M"), "duration_us": 3600 * 1000000,
               "timezone": TZ}
        r = admin.post(V1 + "/shows/%d/recurrences" % show, rec)
        tap.ok(r.status == 201, "a daily recurrence from yesterday", r)

        frm = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=7)
        mid = frm + datetime.timedelta(days=31)
        end = frm + datetime.timedelta(days=63)
        insts = []
        for a, b in ((frm, mid), (mid, end)):
            r = admin.get(V1 + "/instances?from=%s&to=%s" % (
                a.strftime("%Y-%m-%dT%H:%M:%SZ"), b.strftime("%Y-%m-%dT%H:%M:%SZ")))
            insts += [i for i in r.json["items"] if i["id"] not in {j["id"] for j in insts}]
        now_utc = datetime.datetime.now(datetime.timezone.utc)
        current = [i for i in insts if parse_rfc3339(i["starts_at"]) <= now_utc <
                   parse_rfc3339(i["ends_at"])]
        tap.ok(len(current) == 1, "one instance is on air now", insts[:3])
        cur = current[0]
        past = [i for i in insts if parse_rfc3339(i["ends_at"]) < now_utc]
        future = [i for i in insts if parse_rfc3339(i["starts_at"]) > now_utc]

        # Into it: 5 min silence (played before now), 10 min live (now), the file (next).
        url = V1 + "/instances/%d/items" % cur["id"]
        v = cur["version"]
        for body in ({"kind": "silence", "length_us": 300 * 1000000},
                     {"kind": "live", "length_us": 600 * 1000000},
                     {"file_id": fid}):
            r = admin.post(url, dict(body, version=v))
            tap.ok(r.status == 201, "placed %s" % json.dumps(body), r)
            v = r.json["version"] if r.status == 201 else v
        items = admin.get(V1 + "/instances/%d" % cur["id"]).json["items"]

        # ---------------------------------------------------- live-info
        r = anon.get("/api/live-info")
        li = r.json or {}
        tap.ok(r.status == 200 and set(li) == LT_LIVE_INFO,
               "live-info has LibreTime's members (GetPlayOrderRangeOld)", sorted(li))
        tap.ok(li.get("timezone") == TZ and li.get("AIRTIME_API_VERSION") == "1.1" and
               li.get("env") == "production" and li.get("source_enabled") == "Scheduled",
               "timezone, AIRTIME_API_VERSION, env, source_enabled", li)
        off = int(datetime.datetime.now(tz).utcoffset().total_seconds())
        tap.ok(li.get("timezoneOffset") == str(off), "timezoneOffset is a string of seconds",
               li.get("timezoneOffset"))
        st = lt_parse(li.get("schedulerTime", ""), tz)
        tap.ok(abs((st - datetime.datetime.now(tz)).total_seconds()) < 60,
               "schedulerTime is now in the station's zone", li.get("schedulerTime"))
        cs = li.get("currentShow") or [{}]
        tap.ok(len(li.get("currentShow", [])) == 1 and set(cs[0]) == LT_OLD_CURRENT,
               "currentShow: one row of getPrevCurrentNextOld", cs)
        c0 = cs[0]
        tap.ok(c0.get("instance_id") == cur["id"] and c0.get("id") == show and
               c0.get("name") == SHOW_NAME_HTML and c0.get("record") == 0 and
               c0.get("url") == "https://example.org/morning?a=1&amp;b=2" and
               c0.get("image_path") == "",
               "currentShow's ids, HTML-escaped name and url, record 0", c0)
        tap.ok(lt_parse(c0.get("starts"), tz) == parse_rfc3339(cur["starts_at"]) and
               c0.get("start_timestamp") == c0.get("starts") and
               lt_parse(c0.get("ends"), tz) == parse_rfc3339(cur["ends_at"]) and
               c0.get("end_timestamp") == c0.get("ends"),
               "currentShow's times are local \"Y-m-d H:i:s\"", c0)
        ns = li.get("nextShow") or [{}]
        tap.ok(len(li.get("nextShow", [])) == 1 and set(ns[0]) == LT_OLD_NEXT and
               ns[0].get("type") == "show" and ns[0].get("instance_id") == future[0]["id"],
               "nextShow: the next instance with type show", ns)
        prev, curr, nxt = li.get("previous"), li.get("current"), li.get("next")
        utc = datetime.timezone.utc
        tap.ok(isinstance(prev, dict) and set(prev) == LT_TRACK_OTHER and
               prev["type"] is None and prev["name"] == "" and prev["metadata"] is None and
               lt_parse(prev["starts"], utc) == parse_rfc3339(items[0]["starts_at"]),
               "previous: the silence, in UTC (as LibreTime's live-info)", prev)
        tap.ok(isinstance(curr, dict) and set(curr) == LT_TRACK_CURRENT_LIVE and
               curr["type"] == "livestream" and curr["name"] == SHOW_NAME_HTML +
               " - Live Stream" and curr["record"] == "0" and
               curr["media_item_played"] is False and
               lt_parse(curr["ends"], utc) == parse_rfc3339(items[1]["ends_at"]),
               "current: the live slot as LibreTime's livestream", curr)
        tap.ok(isinstance(nxt, dict) and set(nxt) == LT_TRACK_OTHER and
               nxt["type"] == "track" and nxt["name"] == "The Sines - Tone A" and
               nxt["metadata"]["id"] == fid and nxt["metadata"]["track_title"] == "Tone A" and
               nxt["metadata"]["artist_name"] == "The Sines" and
               nxt["metadata"]["album_title"] == "Waves" and
               "artwork_url" in nxt["metadata"] and
               nxt["metadata"]["length"].startswith("00:00:0"),
               "next: the file as a track with metadata", nxt)

        diff = doc_diff(DOC_LIVE_INFO, li, "live-info")
        diff += doc_diff(DOC_CURRENT_SHOW, (li.get("currentShow") or [None])[0], "currentShow.0")
        diff += doc_diff(DOC_NEXT_SHOW, (li.get("nextShow") or [None])[0], "nextShow.0")
        # (previous is the silence slot, which LibreTime has no kind for:
        # its type is null, checked above.)
        diff += doc_diff(DOC_TRACK, nxt, "next")
        diff += doc_diff(dict(DOC_TRACK, media_item_played=B), curr, "current")
        tap.ok(not diff and li["nextShow"][0]["type"] == "show",
               "live-info: every member of LibreTime's documented sample, of its type", diff)

        r = anon.get("/api/live-info?type=endofday&limit=1&timezone=utc&_=123")
        le = r.json or {}
        tap.ok(r.status == 200 and set(le) == LT_LIVE_INFO_EOD and le["timezone"] == "UTC" and
               le["timezoneOffset"] == "0",
               "live-info?type=endofday&timezone=utc: LibreTime's members, UTC upper case", le)
        tap.ok(len(le.get("currentShow", [])) == 1 and
               set(le["currentShow"][0]) == LT_NEXTSHOWS and
               lt_parse(le["currentShow"][0]["starts"], utc) ==
               parse_rfc3339(cur["starts_at"]) and len(le.get("nextShow", [])) <= 1 and
               all(set(s) == LT_NEXTSHOWS for s in le.get("nextShow", [])),
               "endofday: getCurrentShow and getNextShows rows (limit 1), in UTC", le)
        r = anon.get("/api/live-info/?callback")
        tap.ok(r.status == 200 and set(r.json) == LT_LIVE_INFO,
               "/api/live-info/ (LibreTime's documented URL, an empty callback)", r)
        for p in ("/api/live-info-v2/", "/api/week-info/"):
            r = anon.get(p)
            tap.ok(r.status == 200 and isinstance(r.json, dict), "%s answers too" % p, r)
        r = anon.get("/api/live-info?timezone=america/new_york")
        tap.ok(r.status == 200 and r.json["timezone"] == "America/New_York",
               "a lower-cased zone name is taken", r)
        r = anon.get("/api/live-info?callback=jQuery123_456")
        tap.ok(r.status == 200 and r.header("Content-Type").startswith(
            "application/javascript") and r.body.startswith(b"jQuery123_456({") and
            r.body.endswith(b"})") and
            set(json.loads(r.body[len(b"jQuery123_456("):-1])) == LT_LIVE_INFO,
            "JSONP with callback=", r)
        r = anon.get("/api/live-info?callback=alert(1)")
        tap.ok(is_problem(r, 400, "callback"), "a callback that is not a name is refused", r)

        # ---------------------------------------------------- live-info-v2
        r = anon.get("/api/live-info-v2")
        l2 = r.json or {}
        tap.ok(r.status == 200 and set(l2) == set(LT_V2) and
               all(set(l2[k]) == LT_V2[k] for k in LT_V2),
               "live-info-v2 has LibreTime's members (GetPlayOrderRange)", l2)
        tap.ok(l2.get("station", {}).get("timezone") == TZ and
               l2["station"]["AIRTIME_API_VERSION"] == "1.1" and
               l2["sources"] == {"livedj": "off", "masterdj": "off", "scheduledplay": "on"},
               "v2 station and sources", l2.get("station"))
        sh = l2.get("shows", {})
        tap.ok(isinstance(sh.get("current"), dict) and set(sh["current"]) == LT_V2_SHOW and
               sh["current"]["instance_id"] == cur["id"] and sh["current"]["genre"] == "Talk" and
               lt_parse(sh["current"]["starts"], tz) == parse_rfc3339(cur["starts_at"]),
               "v2 shows.current: a getPrevCurrentNext row, local time", sh.get("current"))
        tap.ok([s["instance_id"] for s in sh.get("previous", [])] == [p["id"] for p in past] and
               all(set(s) == LT_V2_SHOW for s in sh.get("previous", []) + sh.get("next", [])) and
               1 + len(sh.get("previous", [])) + len(sh.get("next", [])) <= 5,
               "v2 shows.previous and next (at most 5 in all)", sh)
        tr = l2.get("tracks", {})
        tap.ok(isinstance(tr.get("current"), dict) and tr["current"]["type"] == "livestream" and
               lt_parse(tr["current"]["starts"], tz) == parse_rfc3339(items[1]["starts_at"]) and
               isinstance(tr.get("next"), dict) and set(tr["next"]) == LT_TRACK_OTHER and
               "artwork_url" not in tr["next"]["metadata"] and
               isinstance(tr.get("previous"), dict),
               "v2 tracks, converted to the zone", tr)
        r = anon.get("/api/live-info-v2?days=1&shows=2&timezone=Europe/London")
        tap.ok(r.status == 200 and r.json["station"]["timezone"] == "Europe/London" and
               (r.json["shows"]["current"] is not None) + len(r.json["shows"]["next"]) +
               len(r.json["shows"]["previous"]) <= 2, "v2 days, shows and timezone", r)

        # ---------------------------------------------------- week-info
        r = anon.get("/api/week-info")
        wi = r.json or {}
        tap.ok(r.status == 200 and set(wi) == LT_WEEK_INFO and wi["AIRTIME_API_VERSION"] == "1.1",
               "week-info has monday .. nextsunday (WidgetHelper::getWeekInfo)", sorted(wi))
        monday = (datetime.datetime.now(tz).date() -
                  datetime.timedelta(days=datetime.datetime.now(tz).weekday()))
        ok = True
        seen = 0
        for k, day in enumerate(LT_DAYS + ["next" + d for d in LT_DAYS]):
            date = monday + datetime.timedelta(days=k)
            want = [i["id"] for i in insts
                    if parse_rfc3339(i["starts_at"]).astimezone(tz).date() == date]
            got = wi.get(day, [])
            seen += len(got)
            if [s.get("instance_id") for s in got] != want or \
                    any(set(s) != LT_NEXTSHOWS or not s["starts"].startswith(date.isoformat())
                        or s["name"] != SHOW_NAME_HTML for s in got):
                ok = False
        tap.ok(ok and seen > 0, "each day lists that local day's instances (%d)" % seen, wi)
        diff = doc_diff(DOC_WEEK_INFO, wi, "week-info")
        for day in DOC_WEEK_INFO:
            for n, row in enumerate(wi.get(day) or [] if day != "AIRTIME_API_VERSION" else []):
                diff += doc_diff(DOC_WEEK_DAY_ROW, row, "%s.%d" % (day, n))
        tap.ok(not diff and seen > 0,
               "week-info: every member of LibreTime's documented sample, of its type", diff)

        # ---------------------------------------------------- our own
        r = anon.get(V1 + "/public/now-playing")
        np = r.json or {}
        tap.ok(r.status == 200 and np.get("station") == {"name": STATION, "timezone": TZ},
               "now-playing: the station", np)
        tap.ok(np.get("now", {}).get("show", {}).get("instance_id") == cur["id"] and
               np["now"]["show"]["name"] == SHOW_NAME and
               np["now"]["show"]["starts_at"] == cur["starts_at"] and
               np["now"]["item"]["kind"] == "live" and
               np["now"]["item"]["starts_at"] == items[1]["starts_at"],
               "now-playing: the show and the live slot now", np.get("now"))
        tap.ok(np.get("next", {}).get("show", {}).get("instance_id") == future[0]["id"] and
               np["next"]["item"]["title"] == "Tone A" and
               np["next"]["item"]["artist"] == "The Sines" and
               np["next"]["item"]["show_name"] == SHOW_NAME and
               np["next"]["item"]["starts_at"] == items[2]["starts_at"],
               "now-playing: the next show and the file next", np.get("next"))
        tap.ok(np.get("streams") == {"icecast": None, "hls": None},
               "now-playing: no stream URLs when none is set", np.get("streams"))
        r = anon.get(V1 + "/public/now-playing?x=1")
        tap.ok(is_problem(r, 400, "x"), "now-playing takes no query parameters", r)

        # ---------------------------------------------------- the player page
        r = anon.get("/player?autoplay=1&theme=dark&unknown=x")
        csp = r.header("Content-Security-Policy") or ""
        tap.ok(r.status == 200 and r.header("Content-Type") == "text/html; charset=utf-8" and
               b"<audio" in r.body and b"api/v1/public/now-playing" in r.body,
               "/player is an HTML page (any query)", r)
        tap.ok("default-src 'none'" in csp and "frame-ancestors *" in csp and
               "connect-src 'self'" in csp and "media-src 'none'" in csp and
               "'unsafe-inline'" not in csp and r.header("X-Frame-Options") is None,
               "/player: a strict CSP that any site may frame (no stream: no media)", csp)
        tap.ok((r.header("Cache-Control") or "").startswith("public, max-age="),
               "/player may be cached", r.header("Cache-Control"))
        urls = re.findall(rb"https?://[^\s\"'<>]*", r.body)
        tap.ok(urls == [b"https://radio.example/player"],
               "/player names no absolute URL but the example in its comment", urls)

        r = anon.get(V1 + "/public/week")
        wk = r.json or {}
        today = datetime.datetime.combine(datetime.datetime.now(tz).date(), datetime.time(0),
                                          tz)
        wfrom, wto = today, datetime.datetime.combine(
            today.date() + datetime.timedelta(days=7), datetime.time(0), tz)
        want = [i["id"] for i in insts if parse_rfc3339(i["ends_at"]) > wfrom and
                parse_rfc3339(i["starts_at"]) < wto]
        tap.ok(r.status == 200 and parse_rfc3339(wk["from"]) == wfrom and
               parse_rfc3339(wk["to"]) == wto and
               [i["instance_id"] for i in wk["items"]] == want,
               "week: the instances of the 7 days from today's start", wk)
        w0 = (wk.get("items") or [{}])[0]
        tap.ok(w0.get("name") == SHOW_NAME and w0.get("description") == DESCRIPTION and
               w0.get("url") == "https://example.org/morning?a=1&b=2" and
               w0.get("color") == "#336699" and w0.get("show_id") == show,
               "week: name, description, url, color", w0)

        # ---------------------------------------------------- iCalendar
        r = anon.get(V1 + "/public/shows.ics")
        tap.ok(r.status == 200 and r.header("Content-Type") == "text/calendar; charset=utf-8",
               "shows.ics is text/calendar; charset=utf-8", r.header("Content-Type"))
        nowu = datetime.datetime.now(datetime.timezone.utc)
        want = [i for i in insts
                if parse_rfc3339(i["ends_at"]) > nowu - datetime.timedelta(days=7) and
                parse_rfc3339(i["starts_at"]) < nowu + datetime.timedelta(days=56)]
        out = check_ics_text(tap, r.body, len(want))
        calendar = out[0]["calendar"] if out and "calendar" in out[0] else {}
        tap.ok(calendar.get("version") == "2.0" and calendar.get("prodid") and
               calendar.get("calname") == STATION and calendar.get("errors") == 0,
               "libical: VERSION, PRODID, X-WR-CALNAME, no parse errors", calendar)
        events = [o["event"] for o in out if "event" in o]
        # The UID's domain: the station's name, octets outside [A-Za-z0-9.-] as "-".
        host = "".join(chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in ".-")
                       else "-" for b in STATION.encode())
        ok = len(events) == len(want)
        for e, i in zip(events, want):
            ok = ok and e["uid"] == "instance-%d@%s" % (i["id"], host) and \
                e["summary"] == SHOW_NAME and e["description"] == DESCRIPTION and \
                e["url"] == "https://example.org/morning?a=1&b=2" and e["utc"] and \
                e["dtstart"] == int(parse_rfc3339(i["starts_at"]).timestamp()) and \
                e["dtend"] == int(parse_rfc3339(i["ends_at"]).timestamp()) and \
                abs(e["dtstamp"] - time.time()) < 120
        tap.ok(ok, "libical: each VEVENT's UID, SUMMARY, DESCRIPTION, URL, UTC times",
               events[:2])
        r2 = anon.get(V1 + "/public/shows.ics")
        tap.ok([ln for ln in r2.body.split(b"\r\n") if ln.startswith(b"UID:")] ==
               [ln for ln in r.body.split(b"\r\n") if ln.startswith(b"UID:")],
               "UIDs are stable")

        # ---------------------------------------------------- stream URLs
        api.stop_api()
        for key, bad in (("ONAIR_PUBLIC_STREAM_URL", "ftp://radio.example/live.mp3"),
                         ("ONAIR_PUBLIC_HLS_URL", "https://user@radio.example/x.m3u8"),
                         ("ONAIR_PUBLIC_STREAM_URL", "https://radio.example/a b")):
            p = subprocess.run([ONAIR, "api"], env=dict(api.env, **{key: bad}),
                               capture_output=True, text=True, timeout=30)
            tap.ok(p.returncode == 2 and key[6:].lower().replace("_", ".", 1) in p.stderr,
                   "onair api refuses to start with %s=%s" % (key, bad), p.stderr[-600:])
        api.env["ONAIR_PUBLIC_STREAM_URL"] = "http://127.0.0.1:8000/live.mp3"
        api.env["ONAIR_PUBLIC_HLS_URL"] = "https://CDN.example.org:8443/hls/live.m3u8"
        api.start()
        np = anon.get(V1 + "/public/now-playing").json or {}
        tap.ok(np.get("streams") == {"icecast": "http://127.0.0.1:8000/live.mp3",
                                     "hls": "https://CDN.example.org:8443/hls/live.m3u8"},
               "now-playing: the configured stream URLs", np.get("streams"))
        csp = anon.get("/player").header("Content-Security-Policy") or ""
        tap.ok("media-src http://127.0.0.1:8000 https://cdn.example.org:8443;" in csp,
               "/player: media only from the streams' origins", csp)

        # ---------------------------------------------------- switched off
        api.stop_api()
        api.env["ONAIR_API_PUBLIC"] = "false"
        api.start()
        for p in ("/api/live-info", "/api/live-info-v2", "/api/week-info", "/api/week-info/",
                  V1 + "/public/now-playing", V1 + "/public/week", V1 + "/public/shows.ics",
                  "/player"):
            r = anon.get(p)
            tap.ok(is_problem(r, 404), "with ONAIR_API_PUBLIC=false %s is 404" % p, r)
        r = admin.get(V1 + "/public/week")
        tap.ok(is_problem(r, 404), "... even with a token", r)

        api.finish(tap)
    finally:
        if worker:
            from apilib import stop
            stop(worker)
        api.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
