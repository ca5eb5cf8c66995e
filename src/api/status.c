/*
 * status.c - GET /api/v1/status: what is on air. The playouts' own view
 * (live.h: source, item, DJs, outputs, health) and the schedule's (the
 * item planned now and the next one, from the database).
 */
#include "api/resources.h"

#include "api/body.h"
#include "api/live.h"
#include "db/db.h"

#define PLANNED_SQL \
	"SELECT si.id, si.instance_id, s.id, s.name, si.starts_at, si.ends_at, si.kind," \
	" si.file_id, COALESCE(f.title, w.name), f.artist FROM schedule_items si" \
	" JOIN show_instances i ON i.id = si.instance_id JOIN shows s ON s.id = i.show_id" \
	" LEFT JOIN files f ON f.id = si.file_id" \
	" LEFT JOIN webstreams w ON w.id = si.webstream_id"

/* The first row of a planned-item query as JSON, or null. */
static json_t *planned(struct api_request *req, const char *sql)
{
	struct db_rows *rows;
	if (db_query(req->db, sql, DB_PARAMS(DB_I(req->now)), &rows) < 0)
		return json_null();
	json_t *o = json_null();
	if (db_rows_next(rows)) {
		o = json_pack("{s:I, s:I, s:I, s:s, s:o, s:o, s:s}",
			      "item_id", (json_int_t)db_col_int(rows, 0),
			      "instance_id", (json_int_t)db_col_int(rows, 1),
			      "show_id", (json_int_t)db_col_int(rows, 2),
			      "show_name", db_col_text(rows, 3),
			      "starts_at", json_time(db_col_int(rows, 4)),
			      "ends_at", json_time(db_col_int(rows, 5)),
			      "kind", db_col_text(rows, 6));
		json_object_set_new(o, "file_id", json_col_int(rows, 7));
		json_object_set_new(o, "title", json_col_text(rows, 8));
		json_object_set_new(o, "artist", json_col_text(rows, 9));
	}
	db_rows_free(rows);
	return o;
}

void status_get(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { NULL };
	if (!query_only(req, allowed, res))
		return;
	json_t *doc = live_status_json(req->ctx->live, req->now);
	json_object_set_new(doc, "at", json_time(req->now));
	json_object_set_new(doc, "planned_now", planned(req, PLANNED_SQL
		" WHERE si.starts_at <= $1 AND si.ends_at > $1 ORDER BY si.starts_at DESC, si.id"
		" LIMIT 1"));
	json_object_set_new(doc, "planned_next", planned(req, PLANNED_SQL
		" WHERE si.starts_at > $1 ORDER BY si.starts_at, si.id LIMIT 1"));
	api_response_json(res, 200, doc);
}

void status_stream(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { NULL };
	if (!query_only(req, allowed, res))
		return;
	if (!req->ctx->live) {
		problem(res, 503, "the live status is not available (no message queue)");
		api_response_header(res, "Retry-After", "5");
		return;
	}
	res->status = 200;
	res->sse = true;
}
