#!/usr/bin/env python3
"""Build docs/openapi.json, the OpenAPI 3.1 document of the web API.

    docs/openapi/build_openapi.py build/src/onair/onair > docs/openapi.json

Where each part comes from:

- the routes, their roles and the declared resources (fields, types,
  flags, bounds, enum choices) from the server itself:
  `onair api routes --json` (src/api/routes.c, src/api/res_*.c ...);
- which columns may be NULL (so which members may be null) from the
  migrations, src/db/schema_v*.sql.h;
- the hand-written routes (auth, media, items, criteria, the schedule,
  history) and the rules the resources' check hooks add (name patterns,
  URL schemes, colours) from this script: keep them in step with the C.

The output is deterministic (sorted keys, 2-space indent). tests/api
checks that the committed document is this script's output, that it is
valid OpenAPI 3.1 with exactly the server's routes, and that every
response the API tests receive is documented and matches its schema
(tests/api/check_openapi.mjs).
"""
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
S = "#/components/schemas/"
R = "#/components/responses/"
H = "#/components/headers/"
PRM = "#/components/parameters/"

INT64_MAX = 9223372036854775807
# A path id: 1..15 digits without a leading zero (src/api/router.c).
ID_MAX = 999999999999999
BODY_JSON_MAX = 1024 * 1024
# Constants of src/station/*.h the hand-written routes check against.
SMARTBLOCK_DURATION_MAX = 31 * 86400 * 1000000
SMARTBLOCK_FIELD_SIZE = 32
SMARTBLOCK_VALUE_SIZE = 256
SMARTBLOCK_CRITERIA_MAX = 100
SMARTBLOCK_ITEMS_MAX = 10000
PLACEMENT_ITEMS_MAX = 20000
PLACEMENT_LENGTH_MAX = 31 * 86400 * 1000000
PLAYLIST_ITEMS_MAX = 5000
SHOW_HOSTS_MAX = 50
TEXT_MAX_DEFAULT = 2000
ROLES = ["admin", "program_manager", "host", "guest"]


def ref(name):
    return {"$ref": S + name}


def resp(code):
    return {"$ref": R + str(code)}


def nullable(s):
    """s, or null."""
    s = dict(s)
    t = s.get("type")
    if "$ref" in s or "oneOf" in s or "anyOf" in s or t is None:
        return {"anyOf": [s, {"type": "null"}]}
    if isinstance(t, str):
        s["type"] = [t, "null"]
    elif "null" not in t:
        s["type"] = list(t) + ["null"]
    if "enum" in s and None not in s["enum"]:
        s["enum"] = list(s["enum"]) + [None]
    return s


TIME = {"type": "string", "format": "date-time"}
INT = {"type": "integer"}
UINT = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
NUM = {"type": "number"}
ID = {"type": "integer", "minimum": 1}
PATH_ID = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
ROLE = {"type": "string", "enum": ROLES}
BINARY = {"type": "string", "contentMediaType": "application/octet-stream"}


def obj(props, required=None, extra=False, **kw):
    """An object with exactly props (all required unless told)."""
    o = {"type": "object", "properties": props}
    o["required"] = sorted(props.keys() if required is None else required)
    if not extra:
        o["additionalProperties"] = False
    o.update(kw)
    return o


def array(items, **kw):
    a = {"type": "array", "items": items}
    a.update(kw)
    return a


# ---------------------------------------------------------------------------
# Which columns may be NULL: the migrations.

def sql_columns():
    """{table: {column: nullable}} from src/db/schema_v*.sql.h."""
    tables = {}
    files = sorted(glob.glob(os.path.join(ROOT, "src", "db", "schema_v*.sql.h")),
                   key=lambda p: int(re.search(r"schema_v(\d+)", p).group(1)))
    if not files:
        sys.exit("build_openapi.py: no src/db/schema_v*.sql.h")
    for path in files:
        with open(path) as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = re.sub(r"//[^\n]*", "", text)
        text = re.sub(r"^\s*#[^\n]*", "", text, flags=re.M)
        sql = "".join(m.group(1) for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', text))
        for stmt in sql.split(";"):
            stmt = " ".join(stmt.split())
            m = re.match(r"CREATE TABLE (\w+) \((.*)\)$", stmt, re.I)
            if m:
                cols = {}
                depth, part, parts = 0, "", []
                for ch in m.group(2):
                    depth += ch == "("
                    depth -= ch == ")"
                    if ch == "," and depth == 0:
                        parts.append(part)
                        part = ""
                    else:
                        part += ch
                parts.append(part)
                for p in parts:
                    p = p.strip()
                    word = p.split(" ")[0].upper()
                    if word in ("CHECK", "UNIQUE", "PRIMARY", "FOREIGN", "CONSTRAINT"):
                        continue
                    cols[p.split(" ")[0]] = column_nullable(p)
                tables[m.group(1)] = cols
                continue
            m = re.match(r"ALTER TABLE (\w+) ADD COLUMN (.*)$", stmt, re.I)
            if m:
                tables.setdefault(m.group(1), {})[m.group(2).split(" ")[0]] = \
                    column_nullable(m.group(2))
    return tables


def column_nullable(definition):
    d = definition.upper()
    return not ("NOT NULL" in d or "PRIMARY KEY" in d or "{{ID}}" in d)


# ---------------------------------------------------------------------------
# Resources served by the generic engine (src/api/resource.c).

SCHEMA_NAMES = {
    "files": "File", "track_types": "TrackType", "webstreams": "Webstream",
    "podcasts": "Podcast", "podcast_episodes": "Episode", "playlists": "Playlist",
    "smart_blocks": "SmartBlock", "shows": "Show", "show_recurrences": "Recurrence",
    "show_exceptions": "Exception", "users": "User", "tasks": "Task",
    "station_settings": "Settings",
}


def schema_name(table):
    if table in SCHEMA_NAMES:
        return SCHEMA_NAMES[table]
    name = "".join(p.capitalize() for p in table.split("_"))
    return name[:-1] if name.endswith("s") else name


# An http(s) URL with a host, without spaces or control characters (url_ok).
URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://[^/\\x00-\\x20\\x7f][^\\x00-\\x20\\x7f]*$"

# Rules of the resources' check hooks (and of a virtual field), for
# request bodies: {(table, field): schema members to add}.
CHECK_RULES = {
    ("users", "name"): {"pattern": "^[A-Za-z0-9._@-]*$",
                        "description": "letters, digits, '.', '_', '-' and '@'"},
    ("users", "password"): {"type": "string", "minLength": 8, "maxLength": 1024,
                            "writeOnly": True,
                            "description": "set or change the password (stored hashed)"},
    ("track_types", "code"): {"pattern": "^[a-z0-9_-]*$",
                              "description": "a-z, 0-9, '_' and '-' (used in smart block "
                                             "criteria)"},
    ("webstreams", "url"): {"pattern": URL_PATTERN,
                            "description": "an http:// or https:// URL with a host, without "
                                           "spaces or control characters"},
    ("podcasts", "url"): {"pattern": URL_PATTERN,
                          "description": "the feed: an http:// or https:// URL with a host, "
                                         "without spaces or control characters"},
    ("shows", "url"): {"pattern": "^$|" + URL_PATTERN,
                       "description": "an http:// or https:// URL with a host (or empty)"},
    ("shows", "color"): {"pattern": "^#[0-9A-Fa-f]{6}$"},
    ("shows", "background_color"): {"pattern": "^#[0-9A-Fa-f]{6}$"},
    ("show_recurrences", "start_date"): {"pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                         "description": "local date, YYYY-MM-DD"},
    ("show_recurrences", "end_date"): {"pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                       "description": "the last local date (inclusive)"},
    ("show_recurrences", "start_time"): {"pattern": "^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$",
                                         "description": "local time, HH:MM or HH:MM:SS"},
    ("show_recurrences", "timezone"): {"description": "an IANA time zone (Europe/Berlin)"},
    ("show_recurrences", "weekdays"): {"description": "bit 0 = Monday .. bit 6 = Sunday"},
    ("show_recurrences", "week_position"): {"not": {"const": 0},
                                            "description": "1..5, or -1 for the last; null "
                                                           "unless monthly_by_weekday"},
    ("show_exceptions", "instance_date"): {"pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                           "description": "the local date the instance "
                                                          "would have had"},
    ("station_settings", "timezone"): {"description": "an IANA time zone (Europe/Berlin)"},
    ("smart_blocks", "limit_value"): {"description": "files (at most %d) or microseconds, "
                                                     "by limit_type" % SMARTBLOCK_ITEMS_MAX},
}

# Members whose JSON is a document of its own.
OUTPUTS = {
    "type": ["array", "object"],
    "description": "the playout settings: outputs, HLS and live inputs "
                   "(src/station/settings.h); a bare array is the outputs",
    "examples": [{"outputs": [{"mount": "/live.mp3", "format": "mp3", "bitrate": 128}],
                  "hls": {"enabled": True, "bitrate": 128, "segment": 2, "segments": 6}}],
}
JSON_FIELDS = {("station_settings", "outputs"): OUTPUTS}


def field_schema(table, f, for_request):
    t = f["type"]
    lo, hi = f.get("min"), f.get("max")
    bounded = lo is not None and (lo != 0 or hi != 0)
    if t == "id" or (f["name"] == "id" and t == "int"):
        s = dict(ID)
    elif t == "int":
        s = dict(INT)
        if for_request and bounded:
            s["minimum"], s["maximum"] = lo, hi
    elif t == "real":
        s = dict(NUM)
        if for_request and bounded:
            s["minimum"], s["maximum"] = lo, hi
    elif t == "bool":
        s = dict(BOOL)
    elif t == "time":
        s = dict(TIME)
    elif t == "json":
        s = dict(JSON_FIELDS.get((table, f["name"]), {}))
    elif t == "enum":
        s = {"type": "string", "enum": list(f["choices"])}
    else:
        s = dict(STR)
        if for_request:
            # Bytes of UTF-8 in the server, characters here: at most.
            s["maxLength"] = hi if hi else TEXT_MAX_DEFAULT
            if "nonempty" in f["flags"]:
                s["minLength"] = 1
    if for_request:
        s.update(CHECK_RULES.get((table, f["name"]), {}))
    return s


def resource_schemas(table, res, columns, listed):
    fields = res["fields"]
    name = schema_name(table)
    cols = columns.get(table)
    if cols is None:
        sys.exit("build_openapi.py: table %s is not in src/db/schema_v*.sql.h" % table)
    props, ro = {}, []
    for f in fields:
        if "virtual" in f["flags"]:
            continue
        col = f.get("column", f["name"])
        if col not in cols:
            sys.exit("build_openapi.py: column %s.%s is not in the migrations" % (table, col))
        s = field_schema(table, f, False)
        if f["type"] != "json" and (cols[col] or "null" in f["flags"]):
            s = nullable(s)
        if "ro" in f["flags"]:
            s["readOnly"] = True
            ro.append(f["name"])
        props[f["name"]] = s
    out = {name: obj(props)}
    wprops, wreq = {}, []
    for f in fields:
        if "ro" in f["flags"]:
            continue
        s = field_schema(table, f, True)
        if "null" in f["flags"] and f["type"] != "json":
            s = nullable(s)
        if "owner" in f["flags"]:
            s["description"] = ("the owner: the caller when not given; only a "
                                "program_manager may give another user")
        wprops[f["name"]] = s
        if "req" in f["flags"]:
            wreq.append(f["name"])
    refused = (" Read-only members (%s) are refused." % ", ".join(sorted(ro))) if ro else ""
    out[name + "Create"] = obj(wprops, wreq, description="A new %s.%s" % (res["name"], refused))
    up = dict(wprops)
    if res["versioned"]:
        up["version"] = {"type": "integer", "minimum": 1,
                         "description": "the version read: the change is refused (409) when "
                                        "the %s changed since" % res["name"]}
    out[name + "Update"] = obj(up, [], description="The members to change (PATCH)." + refused)
    if listed:
        out[name + "List"] = obj({"items": array(ref(name)), "total": UINT,
                                  "total_exact": dict(BOOL, description=(
                                      "false when a search (q) matched more than 1000: "
                                      "total is then 1000, a lower bound")),
                                  "limit": {"type": "integer", "minimum": 1, "maximum": 500},
                                  "offset": UINT})
    return out


def filter_schema(f):
    t = f["type"]
    if t in ("int", "id"):
        s = dict(INT)
    elif t == "bool":
        s = dict(BOOL)
    elif t == "enum":
        s = {"type": "string", "enum": list(f["choices"])}
    else:
        s = dict(STR)
    if "null" in f["flags"]:
        s = {"anyOf": [s, {"type": "string", "const": "null"}]}
    return s


def list_params(res):
    params = [{"$ref": PRM + "limit"}, {"$ref": PRM + "offset"}]
    sorts = [f["name"] for f in res["fields"] if "sort" in f["flags"]]
    if sorts:
        params.append({"name": "sort", "in": "query", "description":
                       "a field, or -field for descending",
                       "schema": {"type": "string",
                                  "enum": sorted(sorts + ["-" + s for s in sorts])}})
    search = [f["name"] for f in res["fields"] if "search" in f["flags"]]
    if search:
        params.append({"name": "q", "in": "query", "schema": STR,
                       "description": "case-insensitive substring of " + ", ".join(search)})
    for f in res["fields"]:
        if "filter" in f["flags"]:
            params.append({"name": f["name"], "in": "query", "schema": filter_schema(f),
                           "description": "only rows whose %s is this value%s" % (
                               f["name"], " (null: none)" if "null" in f["flags"] else "")})
    return params


# ---------------------------------------------------------------------------
# Operations.

def errs(*codes):
    return {str(c): resp(c) for c in codes}


def json_body(schema, desc=None):
    b = {"required": True, "content": {"application/json": {"schema": schema}}}
    if desc:
        b["description"] = desc
    return b


def ok(schema, status="200", desc="OK", content="application/json", headers=None):
    r = {"description": desc, "content": {content: {"schema": schema}}}
    if headers:
        r["headers"] = headers
    return {str(status): r}


def empty(status, desc, headers=None):
    r = {"description": desc}
    if headers:
        r["headers"] = headers
    return {str(status): r}


def hdr(name):
    return {"$ref": H + name}


LOCATION = {"Location": hdr("Location")}
QUERY = ("query",)     # marks an operation that reads query parameters: 400
BODY = ("body",)       # a JSON body: 400, 413, 415, 422


def op(summary, responses, params=None, body=None, reads=(), description=None):
    o = {"summary": summary, "responses": responses}
    if params:
        o["parameters"] = params
    if body:
        o["requestBody"] = body
    if description:
        o["description"] = description
    o["x-reads"] = set(reads) | ({"body"} if body and "application/json" in body.get(
        "content", {}) else set())
    return o


def q(name, schema, desc=None, required=False):
    p = {"name": name, "in": "query", "schema": schema}
    if required:
        p["required"] = True
    if desc:
        p["description"] = desc
    return p


def window(days, extra=()):
    return [q("from", TIME, "start of the window (RFC 3339)", True),
            q("to", TIME, "end of the window, after from and at most %d days later" % days,
              True)] + list(extra)


def custom_operations():
    """Schemas and operations of the hand-written routes, by (METHOD, path
    as in the route table)."""
    s = {}
    s["Me"] = obj({"id": ID, "name": STR, "display_name": STR, "email": nullable(STR),
                   "role": ROLE})
    s["Token"] = obj({"id": ID, "user_id": ID, "name": STR, "role": ROLE, "created_at": TIME,
                      "last_used_at": nullable(TIME), "revoked_at": nullable(TIME)})
    s["NewToken"] = obj(dict(s["Token"]["properties"], token={
        "type": "string", "pattern": "^onair_",
        "description": "the secret: shown this once, send it as Authorization: Bearer"}))
    s["Login"] = obj({"user": ref("Me"), "csrf_token": STR, "expires_at": TIME})
    s["Health"] = obj({"status": {"type": "string", "const": "ok"}, "version": STR})

    ref_id = nullable(ID)
    s["PlaylistItem"] = obj({
        "id": ID, "position": UINT,
        "kind": {"type": "string", "enum": ["file", "smart_block", "webstream"]},
        "file_id": ref_id, "smart_block_id": ref_id, "webstream_id": ref_id,
        "cue_in_us": nullable(INT), "cue_out_us": nullable(INT), "fade_in_us": nullable(INT),
        "fade_out_us": nullable(INT), "crossfade_us": nullable(INT), "gain_db": nullable(NUM),
        "title": nullable(STR), "artist": nullable(STR), "name": nullable(STR),
        "duration_us": nullable(UINT)},
        description="title and artist of a file; name of a smart block or webstream; "
                    "duration_us null when unknown (a smart block, a file not analysed)")
    s["PlaylistItems"] = obj({"playlist_id": ID, "version": ID, "total_us": UINT,
                              "total_known": BOOL, "items": array(ref("PlaylistItem"))})

    def bounded(lo, hi):
        return nullable({"type": "integer", "minimum": lo, "maximum": hi})
    cue = bounded(0, PLACEMENT_LENGTH_MAX)
    fade = bounded(0, PLACEMENT_LENGTH_MAX)
    s["PlaylistItemsPut"] = obj({
        "version": dict(ID, description="the playlist version read (409 when it changed)"),
        "items": array(obj({
            "file_id": ref_id, "smart_block_id": ref_id, "webstream_id": ref_id,
            "cue_in_us": dict(cue, description="files only"),
            "cue_out_us": dict(cue, description="files only; after cue_in_us"),
            "fade_in_us": fade, "fade_out_us": fade, "crossfade_us": fade,
            "gain_db": nullable({"type": "number", "minimum": -60, "maximum": 20})}, [],
            description="exactly one of file_id, smart_block_id, webstream_id; cue points "
                        "for files only (within the file); no fades or gain for a smart "
                        "block (its files play with their own); a crossfade shorter than "
                        "the item"),
            maxItems=PLAYLIST_ITEMS_MAX)})

    modifiers = ["is", "is_not", "contains", "not_contains", "starts_with", "ends_with",
                 "greater", "less", "between", "in_last", "not_in_last"]
    s["Criterion"] = obj({"id": ID, "group": {"type": "integer", "minimum": 0, "maximum": 99},
                          "field": STR, "modifier": {"type": "string", "enum": modifiers},
                          "value": STR, "value2": nullable(STR)})
    s["Criteria"] = obj({"smart_block_id": ID, "criteria": array(ref("Criterion"))})
    value = {"type": "string", "maxLength": SMARTBLOCK_VALUE_SIZE - 1}
    s["CriteriaPut"] = obj({"criteria": array(obj({
        "group": {"type": "integer", "minimum": 0, "maximum": 99,
                  "description": "criteria of one group must all match (AND); groups are "
                                 "alternatives (OR); default 0"},
        "field": {"type": "string", "maxLength": SMARTBLOCK_FIELD_SIZE - 1,
                  "description": "a file field (title, artist, genre, track_type, ...)"},
        "modifier": {"type": "string", "enum": modifiers},
        "value": value, "value2": dict(nullable(value), description="the upper bound of "
                                                                    "between")},
        ["field", "modifier", "value"]), maxItems=SMARTBLOCK_CRITERIA_MAX)})
    s["Preview"] = obj({"smart_block_id": ID, "at": TIME, "total_us": UINT,
                        "candidates": UINT, "separation_relaxed": UINT, "short_fill": BOOL,
                        "items": array(obj({"file_id": ID, "length_us": UINT,
                                            "title": nullable(STR),
                                            "artist": nullable(STR)}))})
    s["Hosts"] = obj({"show_id": ID, "hosts": array(obj(
        {"id": ID, "name": STR, "display_name": STR}))})
    s["HostsPut"] = obj({"user_ids": array(ID, maxItems=SHOW_HOSTS_MAX)})
    s["RecurrenceItems"] = obj({"items": array(ref("Recurrence"))})
    s["ExceptionItems"] = obj({"items": array(ref("Exception"))})

    inst = {"id": ID, "show_id": ID, "show_name": STR,
            "color": nullable(STR), "starts_at": TIME, "ends_at": TIME, "version": ID,
            "recurrence_id": nullable(ID), "instance_date": nullable(DATE),
            "rebroadcast_of": nullable(ID), "linked_to": nullable(ID), "scheduled_us": UINT,
            "gap_us": UINT, "overbooked_us": UINT, "items_count": UINT}
    s["Instance"] = obj(inst)
    s["InstanceList"] = obj({"items": array(ref("Instance"), maxItems=10000)})
    item_kind = {"type": "string", "enum": ["file", "webstream", "live", "silence"]}
    s["ScheduledItem"] = obj({
        "id": ID, "position": UINT, "kind": item_kind,
        "file_id": nullable(ID), "webstream_id": nullable(ID), "starts_at": TIME,
        "ends_at": TIME, "cue_in_us": nullable(INT), "cue_out_us": nullable(INT),
        "fade_in_us": nullable(INT), "fade_out_us": nullable(INT),
        "crossfade_us": nullable(INT), "gain_db": nullable(NUM), "title": nullable(STR),
        "artist": nullable(STR),
        "origin": {"type": "string",
                   "enum": ["manual", "linked", "rebroadcast", "autoplaylist"]},
        "source_playlist_id": nullable(ID), "source_smart_block_id": nullable(ID)},
        description="title: the file's title or the webstream's name")
    s["InstanceDetail"] = obj(dict(
        inst, hosts=array(ID, description="user ids of the show's hosts"),
        content_instance_id=dict(ID, description="the instance whose items these are (itself,"
                                 " or the root of a linked show): edits go there"),
        items=array(ref("ScheduledItem"),
                    description="the items (of the instance whose content it shares, when "
                                "linked or a rebroadcast)"),
        item_ids=array(ID, description="after an insert: the ids of the items placed")),
        sorted(list(inst) + ["hosts", "items", "content_instance_id"]))
    place = {"type": "integer", "minimum": 0, "maximum": PLACEMENT_LENGTH_MAX}
    s["ItemInsert"] = obj({
        "version": dict(ID, description="the instance version read (409 when it changed)"),
        "position": {"type": "integer", "minimum": -1, "maximum": PLACEMENT_ITEMS_MAX,
                     "description": "insert before this index; -1 (default): at the end"},
        "file_id": ID, "webstream_id": ID, "playlist_id": ID, "smart_block_id": ID,
        "kind": {"type": "string", "enum": ["live", "silence"],
                 "description": "a live or silence slot (with length_us)"},
        "length_us": {"type": "integer", "minimum": 1, "maximum": PLACEMENT_LENGTH_MAX,
                      "description": "live, silence and webstream items"},
        "cue_in_us": dict(place, description="files only"),
        "cue_out_us": dict(place, description="files only"),
        "fade_in_us": dict(place, description="files only"),
        "fade_out_us": dict(place, description="files only"),
        "crossfade_us": dict(place, description="files only"),
        "gain_db": {"type": "number", "minimum": -60, "maximum": 24,
                    "description": "files only"}},
        ["version"], description="exactly one of file_id, webstream_id, playlist_id, "
                                 "smart_block_id, or kind with length_us; length_us also for "
                                 "a webstream; cue points, fades and gain for a file only. A "
                                 "playlist or smart block is expanded into files.")
    s["ItemMove"] = obj({
        "version": dict(ID, description="the version read of the item's instance"),
        "position": {"type": "integer", "minimum": -1, "maximum": PLACEMENT_ITEMS_MAX,
                     "description": "the new index; -1: the end"},
        "instance_id": dict(ID, description="move into this instance (default: the same)"),
        "target_version": dict(ID, description="the version read of instance_id (required "
                                               "when it is another instance)")},
        ["version", "position"])
    s["Window"] = obj({"from": TIME, "to": TIME, "items": array(obj({
        "id": ID, "instance_id": ID, "show_id": ID, "show_name": STR, "starts_at": TIME,
        "ends_at": TIME, "kind": item_kind, "file_id": nullable(ID),
        "webstream_id": nullable(ID), "title": nullable(STR), "artist": nullable(STR),
        "duration_us": ID}), maxItems=100000)},
        description="items of a linked show's instances are its content instance's, at the "
                    "times they have in each")
    s["AsRun"] = obj({"items": array(obj({
        "id": ID, "started_at": TIME, "ended_at": nullable(TIME),
        "scheduled_start_at": nullable(TIME), "title": nullable(STR), "artist": nullable(STR),
        "file_id": nullable(ID), "show_name": nullable(STR), "instance_id": nullable(ID),
        "source": STR, "end_reason": nullable(STR), "playout_instance": STR,
        "kind": {"type": "string", "enum": ["item", "live"],
                 "description": "item: a scheduled item (one row although several playout "
                                "instances played it); live: a DJ's session (title: their "
                                "name; id: the session's), one for the same DJ heard by "
                                "several instances within 30 s"}})),
        "limit": {"type": "integer", "minimum": 1, "maximum": 100000}, "offset": UINT})
    s["Listeners"] = obj({"items": array(obj({"output": STR, "at": TIME,
                                               "listeners": UINT}), maxItems=50000)})
    s["ShowListeners"] = obj({"items": array(obj({
        "instance_id": ID, "show_id": ID, "show_name": STR, "starts_at": TIME,
        "ends_at": TIME, "output": STR, "peak": UINT, "average": NUM, "samples": UINT}))})
    s["Upload"] = obj({"file": ref("File"), "duplicate": BOOL,
                       "task_id": dict(nullable(STR), description="the analysis task; null for "
                                       "a duplicate or when the queue is down"),
                       "detail": STR})
    s["Waveform"] = obj({"buckets": UINT,
                         "min": array({"type": "number", "minimum": -1, "maximum": 1}),
                         "max": array({"type": "number", "minimum": -1, "maximum": 1})})
    s["Episode"] = obj({
        "id": ID, "podcast_id": ID, "guid": STR, "title": STR, "description": STR,
        "published_at": nullable(TIME), "enclosure_url": STR, "enclosure_size": nullable(INT),
        "file_id": nullable(ID), "import_status": {"type": "string", "enum": [
            "new", "pending", "imported", "failed", "skipped"]},
        "failure_reason": nullable(STR), "created_at": TIME})
    s["EpisodeList"] = obj({"items": array(ref("Episode")), "total": UINT,
                            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
                            "offset": UINT})
    s["Retried"] = obj({"retried": ID, "task_id": STR})
    planned = obj({"item_id": ID, "instance_id": ID, "show_id": ID, "show_name": STR,
                   "starts_at": TIME, "ends_at": TIME, "kind": item_kind,
                   "file_id": nullable(ID), "title": nullable(STR), "artist": nullable(STR)},
                  description="a schedule item: title is the file's title or the "
                              "webstream's name")
    s["PlannedItem"] = planned
    s["PlayoutStatus"] = obj({
        "instance": dict(STR, description="the playout instance's name"),
        "last_seen": dict(TIME, description="its last event"),
        "healthy": dict(BOOL, description="heard of within the last 90 s"),
        "source": {"type": "string", "enum": ["schedule", "show_live", "main_live",
                                              "fallback", "safety", "none"]},
        "snapshot_revision": UINT,
        "on_air": nullable(obj({"item_id": ID, "started_at": TIME, "scheduled": TIME,
                                "title": nullable(STR), "artist": nullable(STR)})),
        "live": obj({"main": nullable(STR), "show": nullable(STR)},
                    description="the DJ connected to each live input (\"unknown\" when "
                                "not named), or null"),
        "outputs": array(obj({"output": STR, "up": BOOL, "changed_at": TIME,
                              "message": nullable(STR)}), maxItems=17),
        "hls_listeners": nullable(UINT),
        "watchdog": dict(nullable(obj({
            "dead_air": dict(BOOL, description="an alarm is on (the last action is not "
                                               "\"recovered\")"),
            "action": {"type": "string", "enum": ["fallback", "restart_output",
                                                  "restart_liquidsoap", "recovered"]},
            "cause": {"type": "string", "enum": ["silence", "output"]},
            "output": nullable(STR), "message": nullable(STR), "at": TIME})),
            description="the dead-air watchdog's last action, or null if it never acted"),
        "last_error": nullable(obj({"message": STR, "at": TIME}))})
    s["Status"] = obj({
        "version": dict(UINT, description="changes whenever a playout reports a change"),
        "instances": array(ref("PlayoutStatus"), maxItems=16,
                           description="each playout instance heard of, by name"),
        "at": TIME,
        "planned_now": dict(nullable(ref("PlannedItem")), description="the item the "
                            "schedule has on air now"),
        "planned_next": dict(nullable(ref("PlannedItem")), description="the next item "
                             "the schedule has")},
        description="what the playouts say (instances, from their events) and what the "
                    "schedule plans now and next")
    s["PlayoutCommand"] = obj({
        "command": {"type": "string",
                    "enum": ["skip", "source", "disconnect_live", "reload", "status"],
                    "description": "skip: end the item on air; source: switch a source on "
                                   "or off; disconnect_live: end a DJ's connection; reload: "
                                   "re-read the schedule; status: report"},
        "source": {"type": "string", "enum": ["schedule", "show_live", "main_live"],
                   "description": "source command only"},
        "enabled": dict(BOOL, description="source command only"),
        "input": {"type": "string", "enum": ["main", "show"],
                  "description": "disconnect_live command only"},
        "instance": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
                     "description": "only this playout instance (default: every one)"}},
        required=["command"])
    s["PlayoutCommandResult"] = obj({
        "id": dict(STR, description="the command's id (in the audit log)"),
        "command": STR,
        "ok": dict(BOOL, description="every instance that answered carried it out"),
        "replies": array(obj({
            "instance": STR,
            "ok": BOOL,
            "error": dict(nullable(STR), description="why it was not carried out"),
            "status": nullable(obj({
                "snapshot_revision": UINT,
                "source": {"type": "string", "enum": ["schedule", "show_live", "main_live",
                                                      "fallback", "safety", "none"]},
                "on_air_item_id": nullable(ID),
                "next_item_id": nullable(ID),
                "next_start": nullable(TIME),
                "cache_ready": UINT,
                "cache_missing": UINT,
                "outputs": array(obj({"output": STR, "up": BOOL}))}))}),
            minItems=1, description="one per instance that answered, by name"),
        "waited_us": dict(UINT, description="how long the answers took")})

    o = {}
    V = "/api/v1"
    o[("GET", V + "/health")] = op(
        "Whether the server is up (and reaches its database)",
        ok(ref("Health")))
    o[("GET", V + "/openapi.json")] = op(
        "This document", ok({"type": "object", "required": ["openapi", "info", "paths"]},
                            headers={"Cache-Control": hdr("Cache-Control")}))
    o[("POST", V + "/auth/login")] = op(
        "Log in: sets the session cookie and answers the CSRF token",
        dict(ok(ref("Login"), headers={"Set-Cookie": hdr("Set-Cookie")}),
             **errs(401, 429)),
        body=json_body(obj({"name": {"type": "string", "maxLength": 128},
                            "password": {"type": "string", "maxLength": 1024}})),
        description="401 for a wrong name or password; 429 (Retry-After) after too many "
                    "failed logins for the account or the address.")
    o[("POST", V + "/auth/logout")] = op(
        "End this session (clears the cookie)",
        empty(204, "logged out", {"Set-Cookie": hdr("Set-Cookie")}))
    o[("GET", V + "/auth/me")] = op(
        "Who is calling",
        dict(ok(obj({"user": ref("Me"), "auth": {"type": "string",
                                                  "enum": ["session", "token"]},
                     "csrf_token": dict(nullable(STR), description="the session's; null "
                                                                   "for a token")})),
             **errs(404)))
    o[("PUT", V + "/auth/password")] = op(
        "Change your password (ends your other sessions)",
        empty(204, "changed"),
        body=json_body(obj({"current_password": {"type": "string", "maxLength": 1024},
                            "new_password": {"type": "string", "minLength": 8,
                                             "maxLength": 1024}})),
        description="422 names current_password when it is wrong.")
    o[("GET", V + "/tokens")] = op(
        "Your API tokens (an admin: anyone's, with user_id)",
        ok(obj({"items": array(ref("Token"))})),
        params=[q("user_id", ID, "another user's tokens (admin only: 403 otherwise)")],
        reads=QUERY)
    o[("POST", V + "/tokens")] = op(
        "Make an API token; its secret is shown once",
        ok(ref("NewToken"), 201, "made"),
        body=json_body(obj({"name": {"type": "string", "minLength": 1, "maxLength": 200},
                            "role": dict(ROLE, description="at most your own role "
                                                           "(default)")}, ["name"])))
    o[("DELETE", V + "/tokens/{id}")] = op(
        "Revoke a token (yours; an admin: anyone's)", empty(204, "revoked"))
    o[("DELETE", V + "/users/{id}")] = op(
        "Delete a user (not yourself, not the last admin)",
        dict(empty(204, "deleted"), **errs(409)))

    o[("POST", V + "/files")] = op(
        "Upload a file: the raw body, streamed to the media store",
        dict(ok(ref("Upload"), 201, "stored, waiting for analysis", headers=LOCATION),
             **ok(ref("Upload"), 200, "the same bytes are already a file", headers=LOCATION),
             **errs(413, 415, 422)),
        params=[q("filename", {"type": "string", "maxLength": 255},
                  "the file's name, for its extension"),
                q("track_type_id", ID)],
        body={"required": True, "description": "the file's bytes; any type but multipart/*",
              "content": {"application/octet-stream": {"schema": BINARY},
                          "audio/*": {"schema": BINARY}}},
        reads=QUERY,
        description="413 when Content-Length or the bytes pass api.max_upload_mb; 415 for a "
                    "form (multipart) upload; 422 for an empty body or an unknown "
                    "track_type_id; 503 when the media store fails.")
    content_headers = {"ETag": hdr("ETag"), "X-Content-Hash": hdr("X-Content-Hash"),
                       "Accept-Ranges": hdr("Accept-Ranges"),
                       "Cache-Control": hdr("Cache-Control")}
    media = {"audio/*": {"schema": BINARY}, "application/octet-stream": {"schema": BINARY}}
    content_params = [
        {"name": "Range", "in": "header", "schema": STR, "description": "bytes=first-last"},
        {"name": "If-Range", "in": "header", "schema": STR,
         "description": "the ETag: the Range applies only while it matches"},
        {"name": "If-None-Match", "in": "header", "schema": STR,
         "description": "an ETag (or *): 304 when it matches"}]
    content_responses = {
        "200": {"description": "the bytes (Content-Type: the file's type)",
                "headers": content_headers, "content": media},
        "206": {"description": "a range of the bytes",
                "headers": dict(content_headers, **{"Content-Range": hdr("Content-Range")}),
                "content": media},
        "304": {"description": "not changed (If-None-Match)", "headers": {
            "ETag": hdr("ETag"), "X-Content-Hash": hdr("X-Content-Hash")}},
    }
    content_responses.update(errs(416))
    o[("GET", V + "/files/{id}/content")] = op(
        "The file's bytes (Range, ETag, If-None-Match): playout's download",
        content_responses, params=content_params,
        description="Also answers HEAD. The bytes of an id never change (content addressed).")
    o[("HEAD", V + "/files/{id}/content")] = op(
        "The file's size, type and ETag without the bytes",
        {k: (dict({kk: vv for kk, vv in v.items() if kk != "content"},
                  description="as GET, without the bytes") if "content" in v else v)
         for k, v in content_responses.items()},
        params=content_params)
    o[("GET", V + "/files/{id}/waveform")] = op(
        "The waveform the analysis made",
        ok(ref("Waveform"), headers={"Cache-Control": hdr("Cache-Control")}),
        description="404 also while the file has no waveform yet.")
    o[("POST", V + "/files/{id}/analyze")] = op(
        "Analyse the file again",
        ok(obj({"file_id": ID, "task_id": STR}), 202, "queued"),
        description="503 when the message queue is not connected.")

    o[("GET", V + "/podcasts/{id}/episodes")] = op(
        "A podcast's episodes, newest first", ok(ref("EpisodeList")),
        params=[{"$ref": PRM + "limit"}, {"$ref": PRM + "offset"}], reads=QUERY)
    o[("POST", V + "/podcasts/{id}/poll")] = op(
        "Poll the feed now",
        ok(obj({"podcast_id": ID, "queued": {"type": "boolean", "const": True}}), 202,
           "queued"))
    o[("POST", V + "/podcasts/{id}/episodes/{id}/ingest")] = op(
        "Import an episode into the library",
        dict(ok(obj({"episode_id": ID, "task_id": STR}), 202, "queued"), **errs(409)),
        description="404 when the episode is not one of the podcast's; 409 when it is "
                    "imported or being imported.")

    o[("GET", V + "/playlists/{id}/items")] = op(
        "A playlist's items", ok(ref("PlaylistItems")), reads=QUERY,
        description="Takes no query parameters (400 for any).")
    o[("PUT", V + "/playlists/{id}/items")] = op(
        "Replace a playlist's items (optimistic concurrency on version)",
        dict(ok(ref("PlaylistItems")), **errs(409)),
        body=json_body(ref("PlaylistItemsPut")),
        description="403 unless the caller owns the playlist or is a program_manager; "
                    "409 when version is not the playlist's.")
    o[("GET", V + "/smart-blocks/{id}/criteria")] = op(
        "A smart block's criteria", ok(ref("Criteria")), reads=QUERY,
        description="Takes no query parameters (400 for any).")
    o[("PUT", V + "/smart-blocks/{id}/criteria")] = op(
        "Replace a smart block's criteria", ok(ref("Criteria")),
        body=json_body(ref("CriteriaPut")),
        description="403 unless the caller owns the smart block or is a program_manager; "
                    "422 names criteria.N for the criterion at fault.")
    o[("GET", V + "/smart-blocks/{id}/preview")] = op(
        "What the smart block would pick",
        dict(ok(ref("Preview")), **errs(422)),
        params=[q("at", TIME, "when it would play (default: now)"),
                q("remaining_us", {"type": "integer", "minimum": 0,
                                   "maximum": SMARTBLOCK_DURATION_MAX},
                  "the time left in the show (for fill_show)"),
                q("seed", {"type": "integer", "minimum": 0}, "for the random order")],
        reads=QUERY,
        description="422 when the block's criteria cannot pick anything.")

    o[("GET", V + "/shows/{id}/hosts")] = op("A show's hosts", ok(ref("Hosts")))
    o[("PUT", V + "/shows/{id}/hosts")] = op(
        "Set a show's hosts", dict(ok(ref("Hosts")), **errs(409)),
        body=json_body(ref("HostsPut")),
        description="409 when the show or a user was deleted meanwhile.")
    o[("GET", V + "/shows/{id}/recurrences")] = op(
        "A show's recurrence rules", ok(ref("RecurrenceItems")), reads=QUERY,
        description="Takes no query parameters (400 for any).")
    o[("POST", V + "/shows/{id}/recurrences")] = op(
        "Add a recurrence rule (checked by the station's rules)",
        ok(ref("Recurrence"), 201, "made", headers=LOCATION),
        body=json_body(ref("RecurrenceCreate")),
        description="422 names the member a rule breaks (recurrence_validate). The show's "
                    "instances to come follow at once. Location: /api/v1/recurrences/{id}.")
    o[("GET", V + "/recurrences/{id}/exceptions")] = op(
        "A rule's exceptions", ok(ref("ExceptionItems")), reads=QUERY,
        description="Takes no query parameters (400 for any).")
    o[("POST", V + "/recurrences/{id}/exceptions")] = op(
        "Cancel, move or mark edited one occurrence",
        dict(ok(ref("Exception"), 201, "made", headers=LOCATION), **errs(409)),
        body=json_body(ref("ExceptionCreate")),
        description="422 when the rule has no occurrence on instance_date, or for moved "
                    "times that are missing (moved), given (not moved) or out of order; 409 "
                    "when the date has an exception already. Location: "
                    "/api/v1/exceptions/{id}.")

    o[("GET", V + "/instances")] = op(
        "Show instances of a window (at most 62 days)", ok(ref("InstanceList")),
        params=window(62, [q("show_id", ID, "only this show's")]), reads=QUERY)
    o[("GET", V + "/instances/{id}")] = op(
        "A show instance with its items", ok(ref("InstanceDetail")), reads=QUERY,
        description="Takes no query parameters (400 for any).")
    o[("POST", V + "/instances/{id}/items")] = op(
        "Place a file, webstream, playlist, smart block or live/silence slot",
        dict(ok(ref("InstanceDetail"), 201, "placed: the instance with item_ids",
                headers=LOCATION), **errs(409)),
        body=json_body(ref("ItemInsert")),
        description="403 for a host who does not host the show; 409 when version is not "
                    "the instance's or the show has ended; 422 when it does not fit.")
    o[("PATCH", V + "/schedule-items/{id}")] = op(
        "Move an item (within or between instances)",
        dict(ok(ref("InstanceDetail"), desc="the instance it is in now"), **errs(409)),
        body=json_body(ref("ItemMove")),
        description="403 for a host who does not host the show(s); 409 when a version is "
                    "stale, the show has ended or the item is a linked show's copy; 422 "
                    "when instance_id names no instance or target_version is missing.")
    o[("DELETE", V + "/schedule-items/{id}")] = op(
        "Remove an item",
        dict(empty(204, "removed"), **errs(409, 422)),
        params=[q("version", ID, "the instance version read", True)],
        reads=QUERY,
        description="400 without version; 409 when it is stale, the show has ended or the "
                    "item is a linked show's copy.")
    o[("GET", V + "/schedule")] = op(
        "What plays in a window (at most 31 days)", ok(ref("Window")),
        params=window(31), reads=QUERY)

    o[("GET", V + "/status")] = op(
        "What is on air: each playout's own report and the schedule's now and next",
        ok(ref("Status")), reads=QUERY,
        description="Takes no query parameters (400 for any). The playouts' part comes "
                    "from their events (empty while the queue is down).")
    o[("GET", V + "/as-run")] = op(
        "What went on air (JSON, or CSV with format=csv or Accept: text/csv)",
        {"200": {"description": "the log, oldest first", "content": {
            "application/json": {"schema": ref("AsRun")},
            "text/csv": {"schema": {"type": "string",
                                    "description": "RFC 4180, a header line, the JSON "
                                                   "members as columns"}}},
            "headers": {"Content-Disposition": hdr("Content-Disposition")}}},
        params=window(366, [
            q("format", {"type": "string", "enum": ["json", "csv"]}),
            q("limit", {"type": "integer", "minimum": 1, "maximum": 100000},
              "default 1000 (CSV: 100000)"),
            q("offset", UINT),
            {"name": "Accept", "in": "header", "schema": STR,
             "description": "text/csv for CSV when format is not given"}]),
        reads=QUERY)
    o[("GET", V + "/listeners")] = op(
        "Listener counts (at most 31 days, 50000 samples)", ok(ref("Listeners")),
        params=window(31, [q("output", STR, "only this output (\"hls\", "
                                             "\"icecast:/live.mp3\")")]),
        reads=QUERY)
    o[("POST", V + "/playout/commands")] = op(
        "Send a command to every playout instance (or one) and answer their replies",
        dict(ok(ref("PlayoutCommandResult")), **errs(403, 503)),
        body=json_body(ref("PlayoutCommand")),
        description="The answers are awaited until every instance known to be healthy "
                    "has replied, at most 2 s. Program managers may send any command; a "
                    "host may skip, switch show_live and disconnect the show input while a "
                    "show they host is on air (403 otherwise), and ask for status at any "
                    "time. 503 when no instance answered or the queue is not connected.")
    o[("GET", V + "/status/stream")] = op(
        "The playouts' live state as server-sent events: one `status` event at once, then "
        "one at each change (data: the Status document without planned_now/next), and a "
        "keep-alive comment every 15 s",
        {"200": {"description": "an endless text/event-stream",
                 "content": {"text/event-stream": {"schema": STR}}},
         "503": resp(503)}, reads=QUERY)
    o[("GET", V + "/listeners/shows")] = op(
        "Listeners per show instance and output (at most 366 days)",
        ok(ref("ShowListeners")), params=window(366), reads=QUERY)

    o[("GET", V + "/settings")] = op("The station's settings", ok(ref("Settings")))
    o[("PATCH", V + "/settings")] = op(
        "Change the station's settings",
        dict(ok(ref("Settings")), **errs(409)),
        body=json_body(ref("SettingsUpdate")),
        description="409 when version is given and is not the settings' version; 422 for "
                    "an unknown time zone or outputs playout would refuse.")
    o[("POST", V + "/tasks/{id}/retry")] = op(
        "Retry a failed task",
        dict(ok(ref("Retried"), 202, "queued again"), **errs(409)),
        description="409 unless the task failed and what it worked on still exists; 503 "
                    "when the message queue is not connected.")
    public_operations(s, o)
    return s, o


# LibreTime's time format ("Y-m-d H:i:s", local to the zone shown).
LT_TIME = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"}


def public_operations(s, o):
    """The public endpoints (src/api/public.c): no login, 404 when api.public
    is false. The LibreTime ones reproduce legacy/application/controllers/
    ApiController.php (liveInfoAction, liveInfoV2Action, weekInfoAction)."""
    lt_params = [q("timezone", STR, "a zone name (europe/berlin) or one the tz database "
                                    "has in upper case (utc); else the station's zone"),
                 q("callback", STR, "JSONP: answer application/javascript callback(...)")]
    s["LtShow"] = obj({
        "start_timestamp": LT_TIME, "end_timestamp": LT_TIME, "name": STR,
        "description": STR, "genre": STR, "id": ID, "instance_id": ID,
        "instance_description": STR, "record": INT, "url": STR,
        "image_path": {"type": "string", "description": "always \"\": no show logos"},
        "starts": LT_TIME, "ends": LT_TIME, "type": {"type": "string", "const": "show"}},
        ["name", "id", "instance_id", "record", "starts", "ends"],
        description="a show instance as LibreTime's SQL rows give it (strings "
                    "HTML-escaped); which members depends on the list (ApiController.php)")
    s["LtMetadata"] = obj({
        "id": ID, "track_title": nullable(STR), "artist_name": nullable(STR),
        "album_title": nullable(STR), "genre": nullable(STR), "year": nullable(STR),
        "track_number": nullable(INT), "composer": nullable(STR), "label": nullable(STR),
        "isrc_number": nullable(STR), "language": nullable(STR), "comments": nullable(STR),
        "mime": nullable(STR), "bit_rate": nullable(INT), "sample_rate": nullable(INT),
        "filesize": nullable(INT), "length": nullable(STR), "cuein": nullable(STR),
        "cueout": nullable(STR), "bpm": nullable(INT), "artwork_url": {"type": "null"}},
        ["id", "track_title", "artist_name", "album_title", "length"],
        description="a subset of LibreTime's cc_files columns (CcFiles::sanitizeResponse); "
                    "artwork_url (live-info only) is null")
    s["LtTrack"] = obj({
        "starts": LT_TIME, "ends": LT_TIME,
        "type": {"type": ["string", "null"], "enum": ["track", "webstream", "livestream",
                                                      None]},
        "name": STR, "media_item_played": BOOL, "metadata": nullable(ref("LtMetadata")),
        "record": {"type": "string", "const": "0"}},
        ["starts", "ends", "type", "name"],
        description="an item of the schedule as Schedule::getPreviousCurrentNextMedia "
                    "gives it; media_item_played and record only for the current one")
    lt_prev = {"anyOf": [ref("LtTrack"), ref("LtShow"), {"type": "null"}]}
    s["LiveInfo"] = obj({
        "env": STR, "schedulerTime": LT_TIME, "previous": lt_prev,
        "current": nullable(ref("LtTrack")), "next": lt_prev,
        "currentShow": array(ref("LtShow")), "nextShow": array(ref("LtShow")),
        "source_enabled": STR, "timezone": STR,
        "timezoneOffset": {"type": "string", "pattern": "^-?[0-9]+$"},
        "AIRTIME_API_VERSION": {"type": "string", "const": "1.1"}},
        ["env", "schedulerTime", "currentShow", "nextShow", "timezone", "timezoneOffset",
         "AIRTIME_API_VERSION"],
        description="previous, current, next (in UTC) and source_enabled only for "
                    "type=interval")
    s["LiveInfoV2"] = obj({
        "station": obj({"env": STR, "schedulerTime": LT_TIME, "source_enabled": STR,
                        "timezone": STR,
                        "AIRTIME_API_VERSION": {"type": "string", "const": "1.1"}}),
        "tracks": obj({"previous": nullable(ref("LtTrack")),
                       "current": nullable(ref("LtTrack")),
                       "next": nullable(ref("LtTrack"))}),
        "shows": obj({"previous": array(ref("LtShow")), "current": nullable(ref("LtShow")),
                      "next": array(ref("LtShow"))}),
        "sources": obj({"livedj": {"type": "string", "enum": ["on", "off"]},
                        "masterdj": {"type": "string", "enum": ["on", "off"]},
                        "scheduledplay": {"type": "string", "enum": ["on", "off"]}})})
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    s["WeekInfo"] = obj(dict({d: array(ref("LtShow")) for d in
                              days + ["next" + d for d in days]},
                             AIRTIME_API_VERSION={"type": "string", "const": "1.1"}))
    jsonp = {"application/javascript": {"schema": {
        "type": "string", "description": "callback(the JSON document)"}}}

    def lt_ok(name, desc):
        r = ok(ref(name), desc=desc)
        r["200"]["content"].update(jsonp)
        return dict(r, **errs(404))

    o[("GET", "/api/live-info")] = op(
        "LibreTime's live-info: the show and track before, now and next",
        lt_ok("LiveInfo", "as LibreTime's liveInfoAction"),
        params=[q("type", {"type": "string", "enum": ["interval", "endofday"]},
                  "interval (default): 2 days around now; endofday: to the next midnight"),
                q("limit", STR, "endofday: at most this many next shows (default 5)")] +
        lt_params, reads=QUERY,
        description="No login; 404 when api.public is false. Unknown query parameters "
                    "are ignored, as LibreTime does. 400 only for a callback that is not a "
                    "JavaScript name.")
    o[("GET", "/api/live-info-v2")] = op(
        "LibreTime's live-info-v2: tracks and shows before, now and next",
        lt_ok("LiveInfoV2", "as LibreTime's liveInfoV2Action"),
        params=[q("days", STR, "shows up to the midnight this many days ahead (default 2)"),
                q("shows", STR, "at most this many shows in all (default 5)")] + lt_params,
        reads=QUERY,
        description="No login; 404 when api.public is false. Unknown query parameters are "
                    "ignored.")
    o[("GET", "/api/week-info")] = op(
        "LibreTime's week-info: the shows of this week and the next, day by day",
        lt_ok("WeekInfo", "as LibreTime's weekInfoAction"), params=lt_params,
        reads=QUERY,
        description="No login; 404 when api.public is false. Weeks start on Monday 00:00 "
                    "in the station's zone.")
    # LibreTime's documented URLs end in a slash: the same operations.
    for name in ("live-info", "live-info-v2", "week-info"):
        o[("GET", "/api/%s/" % name)] = dict(o[("GET", "/api/" + name)])
    pub_station = obj({"name": STR, "timezone": STR})
    s["PublicShow"] = obj({"instance_id": ID, "show_id": ID, "name": STR,
                           "starts_at": TIME, "ends_at": TIME})
    s["PublicItem"] = obj({
        "kind": {"type": "string", "enum": ["file", "webstream", "live", "silence"]},
        "title": nullable(STR), "artist": nullable(STR), "show_name": STR,
        "instance_id": ID, "starts_at": TIME, "ends_at": TIME},
        description="title: the file's title or the webstream's name; ends_at at most the "
                    "instance's end")
    s["NowPlaying"] = obj({
        "station": pub_station,
        "now": obj({"show": nullable(ref("PublicShow")), "item": nullable(ref("PublicItem"))}),
        "next": obj({"show": nullable(ref("PublicShow")),
                     "item": nullable(ref("PublicItem"))}),
        "streams": obj({"icecast": nullable({"type": "string", "format": "uri"}),
                        "hls": nullable({"type": "string", "format": "uri"})},
                       description="where listeners play the station: the Icecast mount "
                                   "(public.stream_url) and the HLS playlist "
                                   "(public.hls_url); null when not set")})
    s["PublicWeekShow"] = obj({"instance_id": ID, "show_id": ID, "name": STR,
                               "description": STR, "url": nullable(STR),
                               "color": nullable(STR), "starts_at": TIME, "ends_at": TIME})
    s["PublicWeek"] = obj({"station": pub_station, "from": TIME, "to": TIME,
                           "items": array(ref("PublicWeekShow"))})
    o[("GET", "/api/v1/public/now-playing")] = op(
        "What plays now and next (no login)", dict(ok(ref("NowPlaying")), **errs(404)),
        reads=QUERY,
        description="No login; 404 when api.public is false. Takes no query parameters. "
                    "The embeddable player page (GET /player) reads it.")
    o[("GET", "/api/v1/public/week")] = op(
        "The shows of the 7 days from today's start in the station's zone (no login)",
        dict(ok(ref("PublicWeek")), **errs(404)), reads=QUERY,
        description="No login; 404 when api.public is false. Takes no query parameters.")
    o[("GET", "/api/v1/public/shows.ics")] = op(
        "The show instances from 7 days back to 8 weeks ahead as iCalendar (no login)",
        dict(ok({"type": "string", "description": "RFC 5545: a VCALENDAR with one VEVENT per "
                 "instance (UID instance-<id>@<station>, times in UTC)"},
                content="text/calendar"), **errs(404)),
        reads=QUERY,
        description="No login; 404 when api.public is false. Takes no query parameters.")
    o[("GET", "/player")] = op(
        "The embeddable player page (no login)",
        dict(ok({"type": "string", "description": "one self-contained HTML document: "
                 "now playing and next from GET /api/v1/public/now-playing, a play/stop "
                 "button and a volume control for the stream it names"},
                content="text/html", headers={
                    "Content-Security-Policy": {
                        "description": "inline script and style by hash only, fetches "
                                       "from its own origin, media from the stream URLs' "
                                       "origins, frame-ancestors * (any site may embed it)",
                        "schema": STR},
                    "Cache-Control": hdr("Cache-Control")}), **errs(404)),
        params=[q("autoplay", {"type": "string", "enum": ["1"]},
                  "1: start the stream at once when the browser allows it"),
                q("theme", {"type": "string", "enum": ["dark", "light"]},
                  "the colours; else the visitor's preference")],
        description="No login; 404 when api.public is false. Embed it in an iframe. The "
                    "page reads its query parameters itself and ignores unknown ones or "
                    "values; the server ignores the query.")


def generic_operation(route, res, name):
    k = route["handler"]
    what = res["name"]
    versioned = res["versioned"]
    if k == "list":
        return op("List %ss" % what, ok(ref(name + "List")), params=list_params(res),
                  reads=QUERY)
    if k == "create":
        return op("Make a %s" % what,
                  dict(ok(ref(name), 201, "made", headers=LOCATION), **errs(409)),
                  body=json_body(ref(name + "Create")),
                  description="409 when a unique member is taken; 422 names each member "
                              "at fault (unknown, read-only, wrong type, out of range, a "
                              "reference to nothing).")
    if k == "get":
        return op("A %s" % what, ok(ref(name)))
    if k == "update":
        return op("Change a %s (the members given)" % what,
                  dict(ok(ref(name)), **errs(409)),
                  body=json_body(ref(name + "Update")),
                  description="403 when the caller may not change this one (not its "
                              "owner); 409 when a unique member is taken%s." % (
                                  " or version is stale" if versioned else ""))
    return op("Delete a %s" % what, dict(empty(204, "deleted"), **errs(409)),
              description="409 while it is still used (scheduled, in a playlist or show).")


def operation_id(method, path):
    rest = path[len("/api/v1/"):] if path.startswith("/api/v1/") else \
        path[len("/api/"):] if path.startswith("/api/") else path[1:]
    words = [w.strip("{}") for w in rest.replace("-", "_").replace(
        ".", "_").split("/")]
    return method.lower() + "_" + "_".join(words)


def name_path(path):
    """The table's {id}, {id}: the first stays id, later ones are named by
    the segment before them (/podcasts/{id}/episodes/{episode_id})."""
    segs = path.split("/")
    seen = 0
    for i, sgm in enumerate(segs):
        if sgm == "{id}":
            seen += 1
            if seen > 1:
                prev = segs[i - 1]
                segs[i] = "{%s_id}" % (prev[:-1] if prev.endswith("s") else prev)
    return "/".join(segs)


def main():
    onair = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/src/onair/onair")
    table = json.loads(subprocess.run([onair, "api", "routes", "--json"], check=True,
                                      capture_output=True, text=True).stdout)
    columns = sql_columns()
    schemas = {}
    listed = {r["resource"] for r in table["routes"] if r["handler"] == "list"}
    for t, res in table["resources"].items():
        schemas.update(resource_schemas(t, res, columns, t in listed))
    custom_schemas, custom = custom_operations()
    for k in custom_schemas:
        if k in schemas:
            sys.exit("build_openapi.py: schema %s is declared twice" % k)
    schemas.update(custom_schemas)
    schemas["Problem"] = obj({
        "type": {"type": "string", "format": "uri-reference",
                 "description": "always about:blank: the status says what it is"},
        "title": STR, "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": STR,
        "errors": array(ref("FieldError"), minItems=1, maxItems=50,
                        description="each member at fault (422; a query parameter for 400)")},
        ["type", "title", "status", "detail"],
        description="RFC 9457 problem details")
    schemas["FieldError"] = obj({
        "field": {"type": "string", "description": "the member (items.3.file_id), or the "
                                                   "query parameter"},
        "message": STR})

    paths = {}
    routes = [dict(r) for r in table["routes"]]
    # HEAD is answered by every GET route; the download documents it.
    for r in list(routes):
        if (r["method"], r["path"]) == ("GET", "/api/v1/files/{id}/content"):
            routes.append(dict(r, method="HEAD"))
    used = set()
    for route in routes:
        key = (route["method"], route["path"])
        if key in custom:
            o = dict(custom[key])
            used.add(key)
        elif route["handler"] != "custom" and route["resource"]:
            o = generic_operation(route, table["resources"][route["resource"]],
                                  schema_name(route["resource"]))
        else:
            sys.exit("build_openapi.py: no description of %s %s: add it to "
                     "custom_operations()" % key)
        path = name_path(route["path"])
        responses = dict(o["responses"])
        reads = o.pop("x-reads")
        # Every route: 401 for a wrong credential (even where none is
        # needed), 403 for too weak a role, a missing CSRF token or the
        # playout credential off its route, 503 when the database cannot
        # be reached.
        codes = {401, 403, 503}
        if "{" in path:
            codes.add(404)
        if "query" in reads:
            codes.add(400)
        if "body" in reads:
            codes |= {400, 413, 415, 422}
        for c in sorted(codes):
            responses.setdefault(str(c), resp(c))
        o["responses"] = dict(sorted(responses.items()))
        params = [{"name": n, "in": "path", "required": True, "schema": PATH_ID}
                  for n in re.findall(r"\{(\w+)\}", path)]
        if params or o.get("parameters"):
            o["parameters"] = params + o.get("parameters", [])
        unsafe = route["method"] not in ("GET", "HEAD")
        if route["role"] == "none":
            o["security"] = [{}]
        else:
            o["security"] = [{"session": [], "csrf": []} if unsafe else {"session": []},
                             {"bearer": []}]
            o["description"] = ("Needs the role %s or more%s. " % (
                route["role"], "; or the playout service credential" if route["service"]
                else "") + o.get("description", "")).strip()
        o["x-onair-role"] = route["role"]
        if route["service"]:
            o["x-onair-service"] = True
        o["operationId"] = operation_id(route["method"], path)
        o["tags"] = [path.split("/")[3].split(".")[0] if path.startswith("/api/v1/")
                     else "libretime" if path.startswith("/api/") else "public"]
        paths.setdefault(path, {})[route["method"].lower()] = o
    unused = set(custom) - used
    if unused:
        sys.exit("build_openapi.py: described but not in the route table: %s" %
                 ", ".join("%s %s" % k for k in sorted(unused)))

    reasons = {
        400: "malformed JSON, a body that is not an object, or an unknown, missing or "
             "invalid query parameter (named in errors)",
        401: "no credential, or a wrong one (WWW-Authenticate)",
        403: "not allowed: the role, not the owner, no or a wrong X-CSRF-Token, or the "
             "playout credential off its route",
        404: "no such thing",
        405: "the path exists, the method does not (Allow); any path of this document",
        409: "a conflict: taken, still in use, or changed since the version read",
        413: "the body is larger than 1 MiB of JSON, or the file than api.max_upload_mb",
        415: "the body is not application/json (or an upload is a form)",
        416: "the range is outside the file (Content-Range: bytes */size)",
        422: "invalid members, each named in errors",
        429: "too many failed logins (Retry-After)",
        503: "the database, the queue or the media store is busy or down (Retry-After)",
    }
    err_headers = {401: {"WWW-Authenticate": hdr("WWW-Authenticate")},
                   405: {"Allow": hdr("Allow")},
                   416: {"Content-Range": hdr("Content-Range")},
                   429: {"Retry-After": hdr("Retry-After")},
                   503: {"Retry-After": hdr("Retry-After")}}
    responses = {}
    for c, d in reasons.items():
        r = {"description": d, "content": {"application/problem+json": {"schema": {
            "allOf": [ref("Problem"), {"properties": {"status": {"const": c}}}]}}}}
        if c in err_headers:
            r["headers"] = err_headers[c]
        responses[str(c)] = r
    headers = {
        "Location": {"description": "the new (or existing) resource's path",
                     "schema": STR},
        "Retry-After": {"description": "seconds", "schema": UINT},
        "WWW-Authenticate": {"schema": STR},
        "Allow": {"description": "the methods of this path", "schema": STR},
        "Content-Range": {"schema": STR},
        "ETag": {"description": "the content hash, quoted", "schema": STR},
        "X-Content-Hash": {"description": "sha256:<hex>", "schema": STR},
        "Accept-Ranges": {"schema": {"type": "string", "const": "bytes"}},
        "Cache-Control": {"schema": STR},
        "Content-Disposition": {"schema": STR},
        "Set-Cookie": {"description": "onair_session (HttpOnly, SameSite=Strict)",
                       "schema": STR},
    }
    parameters = {
        "limit": {"name": "limit", "in": "query", "description": "at most this many items",
                  "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
        "offset": {"name": "offset", "in": "query", "description": "skip this many items",
                   "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647,
                              "default": 0}},
    }
    doc = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": "onair web API", "version": "1",
                 "description": "The station's HTTP API. Roles, logging in, errors and "
                                "media: docs/api.md. Any path answers 405 (Allow) to a "
                                "method it does not have, and 404 to a path that is not "
                                "here. Unknown body members and unknown query parameters "
                                "are errors. Times are RFC 3339 (UTC); durations are "
                                "integer microseconds (members named *_us).",
                 "license": {"name": "AGPL-3.0-or-later",
                             "identifier": "AGPL-3.0-or-later"}},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "headers": headers,
            "parameters": parameters,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "onair_session",
                            "description": "from POST /api/v1/auth/login"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                         "description": "the csrf_token of the login: with the session "
                                        "cookie, every method but GET and HEAD needs it"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token (POST /api/v1/tokens), or the "
                                          "playout service credential (media only)"}},
        },
    }
    json.dump(doc, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
