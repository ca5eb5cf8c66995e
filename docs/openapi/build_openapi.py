#!/usr/bin/env python3
"""Build docs/openapi.json, the OpenAPI 3.1 document of the web API.

The generic resources (src/api/resource.c) are described from their field
declarations, which `onair api routes --json` prints; the hand-written
routes are described here. Run after changing either:

    docs/openapi/build_openapi.py build/src/onair/onair > docs/openapi.json

tests/api checks that the committed document is this script's output, that
it is valid OpenAPI 3.1, that it has every route, and that every response
the tests receive matches it.
"""
import json
import subprocess
import sys

P = "#/components/schemas/"
R = "#/components/responses/"


def ref(name):
    return {"$ref": P + name}


def nullable(s):
    s = dict(s)
    t = s.get("type")
    if isinstance(t, str):
        s["type"] = [t, "null"]
    elif "$ref" in s or "oneOf" in s:
        return {"oneOf": [s, {"type": "null"}]}
    return s


TIME = {"type": "string", "format": "date-time"}
INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
NUM = {"type": "number"}
ID = {"type": "integer", "minimum": 1}


def obj(props, required=None, extra=False):
    o = {"type": "object", "properties": props}
    o["required"] = sorted(required if required is not None else props.keys())
    if not extra:
        o["additionalProperties"] = False
    return o


def field_schema(f, for_request):
    t = f["type"]
    if t in ("int", "id"):
        s = dict(INT)
        if t == "id":
            s["minimum"] = 1
        if for_request and ("min" in f or "max" in f):
            s["minimum"] = f.get("min", 0)
            s["maximum"] = f.get("max")
    elif t == "real":
        s = dict(NUM)
    elif t == "bool":
        s = dict(BOOL)
    elif t == "time":
        s = dict(TIME)
    elif t == "json":
        s = {}
    elif t == "enum":
        s = {"type": "string", "enum": f["choices"]}
    else:
        s = dict(STR)
        if for_request and f.get("max"):
            s["maxLength"] = f["max"]
        if for_request and "nonempty" in f["flags"]:
            s["minLength"] = 1
    return s


NEVER_NULL = {"id", "created_at", "updated_at", "version"}


def resource_schemas(table, res):
    fields = res["fields"]
    name = schema_name(table)
    props, req = {}, []
    for f in fields:
        if "virtual" in f["flags"]:
            continue
        s = field_schema(f, False)
        may_null = ("null" in f["flags"] or "ro" in f["flags"]) and f["name"] not in NEVER_NULL
        if f["type"] == "json":
            s = {}
        elif may_null:
            s = nullable(s)
        props[f["name"]] = s
        req.append(f["name"])
    out = {name: obj(props, req)}
    wprops, wreq = {}, []
    for f in fields:
        if "ro" in f["flags"]:
            continue
        s = field_schema(f, True)
        if "null" in f["flags"] and f["type"] != "json":
            s = nullable(s)
        wprops[f["name"]] = s
        if "req" in f["flags"]:
            wreq.append(f["name"])
    out[name + "Create"] = obj(wprops, wreq)
    up = dict(wprops)
    if res["versioned"]:
        up["version"] = {"type": "integer", "minimum": 1,
                         "description": "the version read: the update fails with 409 when "
                                        "it changed since"}
    out[name + "Update"] = obj(up, [])
    out[name + "List"] = obj({"items": {"type": "array", "items": ref(name)},
                              "total": INT, "limit": INT, "offset": INT})
    return out


def schema_name(table):
    names = {"files": "File", "track_types": "TrackType", "webstreams": "Webstream",
             "podcasts": "Podcast", "podcast_episodes": "Episode", "playlists": "Playlist",
             "smart_blocks": "SmartBlock", "shows": "Show", "show_recurrences": "Recurrence",
             "show_exceptions": "Exception", "users": "User", "tasks": "Task",
             "station_settings": "Settings"}
    return names[table]


def list_params(res):
    params = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                     "maximum": 500, "default": 50}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ]
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
            params.append({"name": f["name"], "in": "query", "schema": STR,
                           "description": "equal to this value (null: no value)"})
    return params


def err(*codes):
    return {str(c): {"$ref": R + str(c)} for c in codes}


def body(schema, content="application/json"):
    return {"required": True, "content": {content: {"schema": schema}}}


def ok(schema, status="200", desc="OK", content="application/json"):
    return {status: {"description": desc, "content": {content: {"schema": schema}}}}


def window_params(extra=()):
    return [{"name": "from", "in": "query", "required": True, "schema": TIME},
            {"name": "to", "in": "query", "required": True, "schema": TIME}] + list(extra)


def custom_operations():
    """Schemas and operations of the hand-written routes, by (method, path)."""
    s = {}
    s["Problem"] = {"type": "object", "required": ["type", "title", "status", "detail"],
                    "properties": {"type": STR, "title": STR, "status": INT, "detail": STR,
                                   "errors": {"type": "array", "items": obj(
                                       {"field": STR, "message": STR})}}}
    s["Me"] = obj({"id": INT, "name": STR, "display_name": STR, "email": nullable(STR),
                   "role": {"type": "string", "enum": ["admin", "program_manager", "host",
                                                       "guest"]}})
    s["Token"] = obj({"id": INT, "user_id": INT, "name": STR, "role": STR, "created_at": TIME,
                      "last_used_at": nullable(TIME), "revoked_at": nullable(TIME)})
    s["NewToken"] = obj(dict(s["Token"]["properties"], token=STR))
    s["PlaylistItem"] = obj({
        "id": INT, "position": INT, "kind": {"type": "string",
                                             "enum": ["file", "smart_block", "webstream"]},
        "file_id": nullable(INT), "smart_block_id": nullable(INT), "webstream_id": nullable(INT),
        "cue_in_us": nullable(INT), "cue_out_us": nullable(INT), "fade_in_us": nullable(INT),
        "fade_out_us": nullable(INT), "crossfade_us": nullable(INT), "gain_db": nullable(NUM),
        "title": nullable(STR), "artist": nullable(STR), "name": nullable(STR),
        "duration_us": nullable(INT)})
    s["PlaylistItems"] = obj({"playlist_id": INT, "version": INT, "total_us": INT,
                              "total_known": BOOL,
                              "items": {"type": "array", "items": ref("PlaylistItem")}})
    over = {"cue_in_us": nullable({"type": "integer", "minimum": 0}),
            "cue_out_us": nullable({"type": "integer", "minimum": 0}),
            "fade_in_us": nullable({"type": "integer", "minimum": 0}),
            "fade_out_us": nullable({"type": "integer", "minimum": 0}),
            "crossfade_us": nullable({"type": "integer", "minimum": 0}),
            "gain_db": nullable({"type": "number", "minimum": -60, "maximum": 20})}
    s["PlaylistItemsPut"] = obj({"version": ID, "items": {"type": "array", "maxItems": 5000,
                                 "items": obj(dict(over, file_id=nullable(ID),
                                                   smart_block_id=nullable(ID),
                                                   webstream_id=nullable(ID)), [])}})
    crit = {"group": {"type": "integer", "minimum": 0, "maximum": 99}, "field": STR,
            "modifier": {"type": "string", "enum": [
                "is", "is_not", "contains", "not_contains", "starts_with", "ends_with",
                "greater", "less", "between", "in_last", "not_in_last"]},
            "value": STR, "value2": nullable(STR)}
    s["Criterion"] = obj(dict(crit, id=INT))
    s["Criteria"] = obj({"smart_block_id": INT, "criteria": {"type": "array",
                                                              "items": ref("Criterion")}})
    s["CriteriaPut"] = obj({"criteria": {"type": "array", "maxItems": 100,
                                         "items": obj(crit, ["field", "modifier", "value"])}})
    s["Preview"] = obj({"smart_block_id": INT, "at": TIME, "total_us": INT, "candidates": INT,
                        "separation_relaxed": INT, "short_fill": BOOL,
                        "items": {"type": "array", "items": obj(
                            {"file_id": INT, "length_us": INT, "title": nullable(STR),
                             "artist": nullable(STR)})}})
    s["Hosts"] = obj({"show_id": INT, "hosts": {"type": "array", "items": obj(
        {"id": INT, "name": STR, "display_name": STR})}})
    inst = {"id": INT, "show_id": INT, "show_name": STR, "color": nullable(STR),
            "starts_at": TIME, "ends_at": TIME, "version": INT, "recurrence_id": nullable(INT),
            "instance_date": nullable(STR), "rebroadcast_of": nullable(INT),
            "linked_to": nullable(INT), "scheduled_us": INT, "gap_us": INT,
            "overbooked_us": INT, "items_count": INT}
    s["Instance"] = obj(inst)
    s["InstanceList"] = obj({"items": {"type": "array", "items": ref("Instance")}})
    s["ScheduledItem"] = obj({
        "id": INT, "position": INT, "kind": {"type": "string",
                                             "enum": ["file", "webstream", "live", "silence"]},
        "file_id": nullable(INT), "webstream_id": nullable(INT), "starts_at": TIME,
        "ends_at": TIME, "cue_in_us": nullable(INT), "cue_out_us": nullable(INT),
        "fade_in_us": nullable(INT), "fade_out_us": nullable(INT),
        "crossfade_us": nullable(INT), "gain_db": nullable(NUM), "title": nullable(STR),
        "artist": nullable(STR), "origin": nullable(STR), "source_playlist_id": nullable(INT)})
    s["InstanceDetail"] = obj(dict(inst, hosts={"type": "array", "items": INT},
                                   items={"type": "array", "items": ref("ScheduledItem")},
                                   item_ids={"type": "array", "items": INT}),
                              sorted(list(inst) + ["hosts", "items"]))
    s["ItemInsert"] = obj(dict(over, version=ID,
                               position={"type": "integer", "minimum": -1},
                               file_id=ID, webstream_id=ID, playlist_id=ID, smart_block_id=ID,
                               kind={"type": "string", "enum": ["live", "silence"]},
                               length_us={"type": "integer", "minimum": 1}), ["version"])
    s["ItemMove"] = obj({"version": ID, "position": {"type": "integer", "minimum": -1},
                         "instance_id": ID, "target_version": ID}, ["version", "position"])
    s["Window"] = obj({"from": TIME, "to": TIME, "items": {"type": "array", "items": obj({
        "id": INT, "instance_id": INT, "show_id": INT, "show_name": STR, "starts_at": TIME,
        "ends_at": TIME, "kind": STR, "file_id": nullable(INT), "webstream_id": nullable(INT),
        "title": nullable(STR), "artist": nullable(STR), "duration_us": nullable(INT)})}})
    s["AsRun"] = obj({"items": {"type": "array", "items": obj({
        "id": INT, "started_at": TIME, "ended_at": nullable(TIME),
        "scheduled_start_at": nullable(TIME), "title": nullable(STR), "artist": nullable(STR),
        "file_id": nullable(INT), "show_name": nullable(STR), "instance_id": nullable(INT),
        "source": STR, "end_reason": nullable(STR), "playout_instance": STR})},
        "limit": INT, "offset": INT})
    s["Listeners"] = obj({"items": {"type": "array", "items": obj(
        {"output": STR, "at": TIME, "listeners": INT})}})
    s["ShowListeners"] = obj({"items": {"type": "array", "items": obj({
        "instance_id": INT, "show_id": INT, "show_name": STR, "starts_at": TIME,
        "ends_at": TIME, "output": STR, "peak": INT, "average": NUM, "samples": INT})}})
    s["Upload"] = obj({"file": ref("File"), "duplicate": BOOL, "task_id": nullable(STR),
                       "detail": STR})
    s["Queued"] = {"type": "object", "additionalProperties": True}
    s["Episode"] = obj({
        "id": INT, "podcast_id": INT, "guid": STR, "title": STR, "description": STR,
        "published_at": nullable(TIME), "enclosure_url": STR, "enclosure_size": nullable(INT),
        "file_id": nullable(INT), "import_status": {"type": "string", "enum": [
            "new", "pending", "imported", "failed", "skipped"]},
        "failure_reason": nullable(STR), "created_at": TIME})
    s["Episodes"] = obj({"items": {"type": "array", "items": ref("Episode")}, "total": INT,
                         "limit": INT, "offset": INT})

    ops = {}
    idp = [{"name": "id", "in": "path", "required": True, "schema": ID}]
    ops[("GET", "/api/v1/health")] = {"summary": "The smallest answer: the server is up",
                                      "responses": ok(obj({"status": STR, "version": STR}))}
    ops[("GET", "/api/v1/openapi.json")] = {"summary": "This document",
                                            "responses": ok({"type": "object"})}
    ops[("POST", "/api/v1/auth/login")] = {
        "summary": "Log in: sets the session cookie, answers the CSRF token",
        "requestBody": body(obj({"name": STR, "password": STR})),
        "responses": dict(ok(obj({"user": ref("Me"), "csrf_token": STR, "expires_at": TIME})),
                          **err(400, 401, 415, 422, 429))}
    ops[("POST", "/api/v1/auth/logout")] = {"summary": "End this session",
                                            "responses": {"204": {"description": "logged out"}}}
    ops[("GET", "/api/v1/auth/me")] = {
        "summary": "Who is calling",
        "responses": ok(obj({"user": ref("Me"), "auth": {"type": "string",
                                                         "enum": ["session", "token"]},
                             "csrf_token": nullable(STR)}))}
    ops[("PUT", "/api/v1/auth/password")] = {
        "summary": "Change your password (ends your other sessions)",
        "requestBody": body(obj({"current_password": STR, "new_password": {
            "type": "string", "minLength": 8}})),
        "responses": dict({"204": {"description": "changed"}}, **err(400, 415, 422))}
    ops[("GET", "/api/v1/tokens")] = {
        "summary": "Your API tokens (an admin: anyone's, with user_id)",
        "parameters": [{"name": "user_id", "in": "query", "schema": ID}],
        "responses": ok(obj({"items": {"type": "array", "items": ref("Token")}}))}
    ops[("POST", "/api/v1/tokens")] = {
        "summary": "Make an API token; its secret is shown once",
        "requestBody": body(obj({"name": STR, "role": {"type": "string", "enum": [
            "admin", "program_manager", "host", "guest"]}}, ["name"])),
        "responses": dict(ok(ref("NewToken"), "201", "made"), **err(400, 415, 422))}
    ops[("DELETE", "/api/v1/tokens/{id}")] = {"summary": "Revoke a token", "parameters": idp,
                                              "responses": {"204": {"description": "revoked"}}}
    ops[("DELETE", "/api/v1/users/{id}")] = {
        "summary": "Delete a user (not yourself, not the last admin)", "parameters": idp,
        "responses": dict({"204": {"description": "deleted"}}, **err(409))}
    ops[("POST", "/api/v1/files")] = {
        "summary": "Upload a file: the raw body, streamed to the media store",
        "parameters": [{"name": "filename", "in": "query", "schema": STR,
                        "description": "the file's name, for its extension"},
                       {"name": "track_type_id", "in": "query", "schema": ID}],
        "requestBody": {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}, "audio/*": {
            "schema": {"type": "string", "format": "binary"}}}},
        "responses": dict(ok(ref("Upload"), "201", "stored, waiting for analysis"),
                          **ok(ref("Upload"), "200", "the same bytes are already a file"),
                          **err(400, 413, 415, 422, 503))}
    binary = {"type": "string", "format": "binary"}
    ops[("GET", "/api/v1/files/{id}/content")] = {
        "summary": "The file's bytes (Range, ETag, If-None-Match); playout's download",
        "parameters": idp,
        "responses": dict(ok(binary, "200", "the bytes", "audio/*"),
                          **ok(binary, "206", "a range of the bytes", "audio/*"),
                          **{"304": {"description": "not changed (If-None-Match)"}},
                          **err(416))}
    ops[("GET", "/api/v1/files/{id}/waveform")] = {
        "summary": "The waveform the analysis made (JSON)", "parameters": idp,
        "responses": ok({"type": ["object", "array"]})}
    ops[("POST", "/api/v1/files/{id}/analyze")] = {
        "summary": "Analyse the file again", "parameters": idp,
        "responses": dict(ok(obj({"file_id": INT, "task_id": STR}), "202", "queued"),
                          **err(503))}
    ops[("GET", "/api/v1/podcasts/{id}/episodes")] = {
        "summary": "A podcast's episodes, newest first",
        "parameters": idp + list_params({"fields": []}),
        "responses": ok(ref("Episodes"))}
    ops[("POST", "/api/v1/podcasts/{id}/poll")] = {
        "summary": "Poll the feed now", "parameters": idp,
        "responses": dict(ok(obj({"podcast_id": INT, "queued": BOOL}), "202", "queued"),
                          **err(503))}
    ops[("POST", "/api/v1/podcasts/{id}/episodes/{id2}/ingest")] = {
        "summary": "Import an episode into the library",
        "parameters": idp + [{"name": "id2", "in": "path", "required": True, "schema": ID}],
        "responses": dict(ok(obj({"episode_id": INT, "task_id": STR}), "202", "queued"),
                          **err(409, 503))}
    ops[("GET", "/api/v1/playlists/{id}/items")] = {
        "summary": "A playlist's items", "parameters": idp, "responses": ok(ref("PlaylistItems"))}
    ops[("PUT", "/api/v1/playlists/{id}/items")] = {
        "summary": "Replace a playlist's items (optimistic concurrency on version)",
        "parameters": idp, "requestBody": body(ref("PlaylistItemsPut")),
        "responses": dict(ok(ref("PlaylistItems")), **err(400, 409, 415, 422))}
    ops[("GET", "/api/v1/smart-blocks/{id}/criteria")] = {
        "summary": "A smart block's criteria", "parameters": idp, "responses": ok(ref("Criteria"))}
    ops[("PUT", "/api/v1/smart-blocks/{id}/criteria")] = {
        "summary": "Replace a smart block's criteria", "parameters": idp,
        "requestBody": body(ref("CriteriaPut")),
        "responses": dict(ok(ref("Criteria")), **err(400, 415, 422))}
    ops[("GET", "/api/v1/smart-blocks/{id}/preview")] = {
        "summary": "What the smart block would pick",
        "parameters": idp + [{"name": "at", "in": "query", "schema": TIME},
                             {"name": "remaining_us", "in": "query", "schema": INT},
                             {"name": "seed", "in": "query", "schema": INT}],
        "responses": dict(ok(ref("Preview")), **err(400, 422))}
    ops[("GET", "/api/v1/shows/{id}/hosts")] = {"summary": "A show's hosts", "parameters": idp,
                                                "responses": ok(ref("Hosts"))}
    ops[("PUT", "/api/v1/shows/{id}/hosts")] = {
        "summary": "Set a show's hosts", "parameters": idp,
        "requestBody": body(obj({"user_ids": {"type": "array", "maxItems": 50,
                                              "items": ID}})),
        "responses": dict(ok(ref("Hosts")), **err(400, 415, 422))}
    ops[("GET", "/api/v1/shows/{id}/recurrences")] = {
        "summary": "A show's recurrence rules", "parameters": idp,
        "responses": ok(obj({"items": {"type": "array", "items": ref("Recurrence")}}))}
    ops[("POST", "/api/v1/shows/{id}/recurrences")] = {
        "summary": "Add a recurrence rule (checked by the station's rules)", "parameters": idp,
        "requestBody": body(ref("RecurrenceCreate")),
        "responses": dict(ok(ref("Recurrence"), "201", "made"), **err(400, 409, 415, 422))}
    ops[("GET", "/api/v1/recurrences/{id}/exceptions")] = {
        "summary": "A rule's exceptions", "parameters": idp,
        "responses": ok(obj({"items": {"type": "array", "items": ref("Exception")}}))}
    ops[("POST", "/api/v1/recurrences/{id}/exceptions")] = {
        "summary": "Cancel, move or mark edited one occurrence", "parameters": idp,
        "requestBody": body(ref("ExceptionCreate")),
        "responses": dict(ok(ref("Exception"), "201", "made"), **err(400, 409, 415, 422))}
    ops[("GET", "/api/v1/instances")] = {
        "summary": "Show instances of a window (at most 62 days)",
        "parameters": window_params([{"name": "show_id", "in": "query", "schema": ID}]),
        "responses": dict(ok(ref("InstanceList")), **err(400))}
    ops[("GET", "/api/v1/instances/{id}")] = {
        "summary": "A show instance with its items", "parameters": idp,
        "responses": ok(ref("InstanceDetail"))}
    ops[("POST", "/api/v1/instances/{id}/items")] = {
        "summary": "Place a file, webstream, playlist, smart block or live/silence slot",
        "parameters": idp, "requestBody": body(ref("ItemInsert")),
        "responses": dict(ok(ref("InstanceDetail"), "201", "placed"), **err(400, 409, 415, 422))}
    ops[("PATCH", "/api/v1/schedule-items/{id}")] = {
        "summary": "Move an item (within or between instances)", "parameters": idp,
        "requestBody": body(ref("ItemMove")),
        "responses": dict(ok(ref("InstanceDetail")), **err(400, 409, 415, 422))}
    ops[("DELETE", "/api/v1/schedule-items/{id}")] = {
        "summary": "Remove an item",
        "parameters": idp + [{"name": "version", "in": "query", "required": True,
                              "schema": ID}],
        "responses": dict({"204": {"description": "removed"}}, **err(400, 409, 422))}
    ops[("GET", "/api/v1/schedule")] = {
        "summary": "What plays in a window (at most 31 days)", "parameters": window_params(),
        "responses": dict(ok(ref("Window")), **err(400))}
    ops[("GET", "/api/v1/as-run")] = {
        "summary": "What went on air (JSON, or CSV with format=csv or Accept: text/csv)",
        "parameters": window_params([
            {"name": "format", "in": "query", "schema": {"type": "string",
                                                         "enum": ["json", "csv"]}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}]),
        "responses": dict(ok(ref("AsRun")),
                          **{"200": {"description": "the log", "content": {
                              "application/json": {"schema": ref("AsRun")},
                              "text/csv": {"schema": STR}}}}, **err(400))}
    ops[("GET", "/api/v1/listeners")] = {
        "summary": "Listener counts (at most 31 days)",
        "parameters": window_params([{"name": "output", "in": "query", "schema": STR}]),
        "responses": dict(ok(ref("Listeners")), **err(400))}
    ops[("GET", "/api/v1/listeners/shows")] = {
        "summary": "Listeners per show instance and output", "parameters": window_params(),
        "responses": dict(ok(ref("ShowListeners")), **err(400))}
    ops[("GET", "/api/v1/settings")] = {"summary": "The station's settings",
                                        "responses": ok(ref("Settings"))}
    ops[("PATCH", "/api/v1/settings")] = {
        "summary": "Change the station's settings", "requestBody": body(ref("SettingsUpdate")),
        "responses": dict(ok(ref("Settings")), **err(400, 409, 415, 422))}
    ops[("POST", "/api/v1/tasks/{id}/retry")] = {
        "summary": "Retry a failed task", "parameters": idp,
        "responses": dict(ok(ref("Queued"), "202", "queued again"), **err(409, 503))}
    return s, ops


def generic_operation(route, res):
    name = schema_name(route["resource"])
    idp = [{"name": "id", "in": "path", "required": True, "schema": ID}]
    k = route["handler"]
    what = res["name"]
    if k == "list":
        return {"summary": "List %ss" % what, "parameters": list_params(res),
                "responses": dict(ok(ref(name + "List")), **err(400))}
    if k == "create":
        return {"summary": "Make a %s" % what, "requestBody": body(ref(name + "Create")),
                "responses": dict(ok(ref(name), "201", "made"), **err(400, 409, 413, 415, 422))}
    if k == "get":
        return {"summary": "A %s" % what, "parameters": idp, "responses": ok(ref(name))}
    if k == "update":
        return {"summary": "Change a %s (the fields given)" % what, "parameters": idp,
                "requestBody": body(ref(name + "Update")),
                "responses": dict(ok(ref(name)), **err(400, 409, 413, 415, 422))}
    return {"summary": "Delete a %s" % what, "parameters": idp,
            "responses": dict({"204": {"description": "deleted"}}, **err(409))}


def main():
    onair = sys.argv[1] if len(sys.argv) > 1 else "build/src/onair/onair"
    table = json.loads(subprocess.run([onair, "api", "routes", "--json"], check=True,
                                      capture_output=True, text=True).stdout)
    schemas = {}
    for t, res in table["resources"].items():
        schemas.update(resource_schemas(t, res))
    custom_schemas, custom = custom_operations()
    schemas.update(custom_schemas)
    paths = {}
    for route in table["routes"]:
        key = (route["method"], route["path"])
        path = route["path"]
        if path == "/api/v1/podcasts/{id}/episodes/{id}/ingest":
            path = "/api/v1/podcasts/{id}/episodes/{id2}/ingest"
            key = (route["method"], path)
        if key in custom:
            op = dict(custom[key])
        elif route["handler"] != "custom":
            op = generic_operation(route, table["resources"][route["resource"]])
        else:
            sys.exit("no description of %s %s" % key)
        resp = op["responses"]
        # Any route answers 401 to a wrong bearer token and 403 to the
        # playout credential (which may only download media).
        resp.update(err(401, 403))
        if route["role"] != "none" or route["service"]:
            op["security"] = [{"session": []}, {"bearer": []}]
        else:
            op["security"] = [{}]
        if "{id}" in path:
            resp.update(err(404))
        resp.update(err(405))
        if route["role"] != "none":
            op["description"] = "Needs the role %s or more%s." % (
                route["role"], "; or the playout service credential" if route["service"] else "")
        op["x-onair-role"] = route["role"]
        paths.setdefault(path, {})[route["method"].lower()] = op
    problem = {"content": {"application/problem+json": {"schema": ref("Problem")}}}
    reasons = {400: "malformed JSON or an invalid query parameter", 401: "no or a wrong credential",
               403: "not allowed (role, owner, CSRF token)", 404: "no such thing",
               405: "method not allowed here", 409: "a conflict: taken, in use, or changed since",
               413: "the body or file is too large", 415: "the body is not JSON",
               416: "the range is outside the file", 422: "invalid fields (each named)",
               429: "too many failed logins (Retry-After)",
               503: "the database or the queue is busy or down (Retry-After)"}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "onair web API", "version": "1",
                 "description": "The station's HTTP API. Roles, logging in, errors and "
                                "media: docs/api.md.",
                 "license": {"name": "AGPL-3.0-or-later",
                             "identifier": "AGPL-3.0-or-later"}},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {str(c): dict(problem, description=d) for c, d in reasons.items()},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "onair_session",
                            "description": "from POST /api/v1/auth/login; changes also need "
                                           "the X-CSRF-Token header"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token, or the playout service credential"}},
        },
    }
    json.dump(doc, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
