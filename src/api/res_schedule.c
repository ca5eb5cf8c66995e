/*
 * res_schedule.c - the schedule: show instances (made from the rules for
 * the window asked, with how full each is), the items of an instance
 * (placed, moved and removed with the version the client read), and the
 * schedule window a calendar view reads.
 *
 * An instance of a linked show plays and edits the items of the instance
 * it is linked to (its content instance): its document shows those
 * items, at the times they have in it, and the content instance's
 * version, which is the one an edit must name; the schedule window
 * lists them the same way. The copies the builder keeps in each linked
 * instance (origin "linked", what playout gets) are not edited directly.
 */
#include "api/resources.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/audit.h"
#include "api/body.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "station/build.h"
#include "station/instances.h"
#include "station/placement.h"

#define DAY_US (INT64_C(86400) * 1000000)
/* Longest window of GET /instances and of GET /schedule. */
#define INSTANCES_WINDOW_DAYS 62
#define SCHEDULE_WINDOW_DAYS 31
/* Instances are made from this long before the window (a show on air at
 * its start), but never for occurrences older than this before now: the
 * past is not made up afterwards. */
#define LOOKBACK_US (INT64_C(48) * 3600 * 1000000)
/* instances_materialise tries (-EBUSY, -EEXIST: another connection). */
#define MATERIALISE_TRIES 3
/* Windows remembered as materialised, and for how long: rules changed by
 * another process (another API server, the command line) show after at
 * most this long. */
#define COVER_SLOTS 8
#define COVER_TTL_US (INT64_C(60) * 1000000)
/* Most instances one GET /instances lists, items one GET /schedule. */
#define INSTANCES_ROWS_MAX 10000
#define SCHEDULE_ROWS_MAX 100000
/* Smallest and largest gain_db of an item (as the compiler clamps). */
#define GAIN_MIN (-60.0)
#define GAIN_MAX 24.0

/* ------------------------------------------------------------ helpers */

static json_t *col_int_json(struct db_rows *rows, int col)
{
	return db_col_is_null(rows, col) ? json_null() : json_integer(db_col_int(rows, col));
}

/* Text as JSON: null for NULL, U+FFFD for text that is not UTF-8. */
static json_t *col_text_json(struct db_rows *rows, int col)
{
	if (db_col_is_null(rows, col))
		return json_null();
	const char *t = db_col_text(rows, col);
	json_t *v = json_string(t ? t : "");
	return v ? v : json_string("\xef\xbf\xbd");
}

/* Read the window [from, to) from the query: both required, to after
 * from, at most max_days apart. true, or false with res filled (400
 * naming the parameter). */
static bool window_params(struct api_request *req, int max_days, int64_t *from, int64_t *to,
			  struct api_response *res)
{
	static const char *const keys[] = { "from", "to" };
	int64_t *out[] = { from, to };
	for (size_t i = 0; i < 2; i++) {
		int r = query_time(req, keys[i], out[i], res);
		if (r < 0)
			return false;
		if (r == 0) {
			problem_field(res, 400, keys[i], "query parameter %s is required: an RFC"
				      " 3339 time (2026-11-28T18:00:00Z)", keys[i]);
			return false;
		}
	}
	if (*to <= *from) {
		problem_field(res, 400, "to", "to must be after from");
		return false;
	}
	if (*to - *from > max_days * DAY_US) {
		problem_field(res, 400, "to", "the window is at most %d days long", max_days);
		return false;
	}
	return true;
}

/*
 * The windows this process materialised lately (until: when that is too
 * old to trust). A change through this process (resource_schedule_changed)
 * forgets them all; epoch tells a materialisation that ran across a
 * change not to record its window.
 */
static pthread_mutex_t cover_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int64_t from, to, until;
} cover[COVER_SLOTS];
static uint64_t cover_epoch;

void schedule_cache_invalidate(void)
{
	pthread_mutex_lock(&cover_lock);
	cover_epoch++;
	memset(cover, 0, sizeof(cover));
	pthread_mutex_unlock(&cover_lock);
}

/* Whether [from, to) was materialised lately; *epoch: the current one. */
static bool covered(int64_t from, int64_t to, int64_t now, uint64_t *epoch)
{
	bool hit = false;
	pthread_mutex_lock(&cover_lock);
	*epoch = cover_epoch;
	for (size_t i = 0; i < COVER_SLOTS && !hit; i++)
		hit = cover[i].until > now && cover[i].from <= from && to <= cover[i].to;
	pthread_mutex_unlock(&cover_lock);
	return hit;
}

/* Remember [from, to) as materialised at now, unless a change came in
 * since epoch; the slot that expires first makes room. */
static void cover_add(int64_t from, int64_t to, int64_t now, uint64_t epoch)
{
	pthread_mutex_lock(&cover_lock);
	if (epoch == cover_epoch) {
		size_t k = 0;
		for (size_t i = 1; i < COVER_SLOTS; i++) {
			if (cover[i].until < cover[k].until)
				k = i;
		}
		cover[k].from = from;
		cover[k].to = to;
		cover[k].until = now + COVER_TTL_US;
	}
	pthread_mutex_unlock(&cover_lock);
}

int schedule_materialise(struct api_request *req, int64_t from, int64_t to,
			 struct api_response *res)
{
	int64_t start = from - LOOKBACK_US;
	if (start < req->now - LOOKBACK_US)
		start = req->now - LOOKBACK_US;
	if (start >= to)
		return 0;	/* the past only: its instances are history */
	uint64_t epoch;
	if (covered(start, to, req->now, &epoch))
		return 0;
	struct instances_report rep;
	int r = 0;
	for (int i = 0; i < MATERIALISE_TRIES; i++) {
		r = instances_materialise(req->db, start, to, req->now, NULL, &rep);
		if (r != -EBUSY && r != -EEXIST)
			break;
	}
	if (r < 0) {
		problem_errno(res, r == -EEXIST ? -EBUSY : r, "making the show instances", NULL);
		return -1;
	}
	if (rep.n_problems)
		log_debug("api", "%zu rules skipped while making instances; the first: %s",
			  rep.n_problems + rep.problems_dropped, rep.problems[0].reason);
	instances_report_release(&rep);
	cover_add(start, to, req->now, epoch);
	return 0;
}

/*
 * Bring instance id in step with its rule before it is read or edited
 * (a rule changed by a PATCH, which materialises nothing): its window is
 * materialised unless that was done lately; the instance may be gone
 * afterwards. Instances that have started never change. 0, or -1 with
 * res filled.
 */
static int instance_fresh(struct api_request *req, int64_t id, struct api_response *res)
{
	int64_t starts;
	int r = db_query_int(req->db, "SELECT starts_at FROM show_instances WHERE id = $1",
			     DB_PARAMS(DB_I(id)), &starts);
	if (r == -ENOENT || (r == 0 && starts <= req->now))
		return 0;	/* the caller says it does not exist, or history */
	if (r < 0) {
		problem_errno(res, r, "the show instance", NULL);
		return -1;
	}
	return schedule_materialise(req, starts, starts + 1, res);
}

/* ------------------------------------------------------------ instances */

/* The columns of an instance; INST_FROM joins the content instance (c). */
#define INST_COLUMNS \
	"SELECT i.id, i.show_id, s.name, s.color, i.starts_at, i.ends_at," \
	" COALESCE(c.version, i.version), i.recurrence_id, i.instance_date, i.rebroadcast_of," \
	" i.linked_to, COALESCE(c.id, i.id), COALESCE(c.starts_at, i.starts_at)"
#define INST_FROM \
	" FROM show_instances i JOIN shows s ON s.id = i.show_id" \
	" LEFT JOIN show_instances c ON c.id = COALESCE(i.linked_to, i.id)"
enum {
	IC_ID, IC_SHOW, IC_NAME, IC_COLOR, IC_STARTS, IC_ENDS, IC_VERSION, IC_RECURRENCE,
	IC_DATE, IC_REBROADCAST, IC_LINKED, IC_CONTENT, IC_CONTENT_STARTS
};

/* The instance of the current row, without its fill. */
static json_t *instance_json(struct db_rows *rows)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(db_col_int(rows, IC_ID)));
	json_object_set_new(o, "show_id", json_integer(db_col_int(rows, IC_SHOW)));
	json_object_set_new(o, "show_name", col_text_json(rows, IC_NAME));
	json_object_set_new(o, "color", col_text_json(rows, IC_COLOR));
	json_object_set_new(o, "starts_at", json_time(db_col_int(rows, IC_STARTS)));
	json_object_set_new(o, "ends_at", json_time(db_col_int(rows, IC_ENDS)));
	json_object_set_new(o, "version", json_integer(db_col_int(rows, IC_VERSION)));
	json_object_set_new(o, "recurrence_id", col_int_json(rows, IC_RECURRENCE));
	json_object_set_new(o, "instance_date", col_text_json(rows, IC_DATE));
	json_object_set_new(o, "rebroadcast_of", col_int_json(rows, IC_REBROADCAST));
	json_object_set_new(o, "linked_to", col_int_json(rows, IC_LINKED));
	return o;
}

/* Add how full instance o is (placement_fill). 0 or a database error
 * (-ENOENT: deleted meanwhile). */
static int add_fill(struct db *db, json_t *o)
{
	struct placement_fill f;
	int r = placement_fill(db, json_integer_value(json_object_get(o, "id")), &f);
	if (r < 0)
		return r;
	json_object_set_new(o, "scheduled_us", json_integer(f.scheduled_us));
	json_object_set_new(o, "gap_us", json_integer(f.gap_us));
	json_object_set_new(o, "overbooked_us", json_integer(f.overbooked_us));
	json_object_set_new(o, "items_count", json_integer((json_int_t)f.n_items));
	return 0;
}

void instances_list_handler(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "from", "to", "show_id", NULL };
	int64_t from, to, show = 0;
	if (!query_only(req, allowed, res) ||
	    !window_params(req, INSTANCES_WINDOW_DAYS, &from, &to, res) ||
	    query_int(req, "show_id", 1, INT64_MAX, &show, res) < 0 ||
	    schedule_materialise(req, from, to, res) < 0)
		return;
	/* As instances_list: overlapping [from, to), found by the index on
	 * starts_at from the longest show before from. */
	static const char *const sql[] = {
		INST_COLUMNS INST_FROM
		" WHERE i.starts_at < $2 AND i.starts_at >= $3 AND i.ends_at > $1"
		" ORDER BY i.starts_at, i.id LIMIT $4",
		INST_COLUMNS INST_FROM
		" WHERE i.starts_at < $2 AND i.starts_at >= $3 AND i.ends_at > $1"
		" AND i.show_id = $5 ORDER BY i.starts_at, i.id LIMIT $4",
	};
	struct db_rows *rows;
	int r;
	if (show)
		r = db_query(req->db, sql[1],
			     DB_PARAMS(DB_I(from), DB_I(to), DB_I(from - INSTANCES_LENGTH_MAX),
				       DB_I(INSTANCES_ROWS_MAX + 1), DB_I(show)),
			     &rows);
	else
		r = db_query(req->db, sql[0],
			     DB_PARAMS(DB_I(from), DB_I(to), DB_I(from - INSTANCES_LENGTH_MAX),
				       DB_I(INSTANCES_ROWS_MAX + 1)),
			     &rows);
	if (r < 0) {
		problem_errno(res, r, "the instances", NULL);
		return;
	}
	json_t *items = json_array();
	while (db_rows_next(rows))
		json_array_append_new(items, instance_json(rows));
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r == 0 && json_array_size(items) > INSTANCES_ROWS_MAX) {
		json_decref(items);
		problem_field(res, 400, "to", "the window holds more than %d show instances;"
			      " ask for a shorter one", INSTANCES_ROWS_MAX);
		return;
	}
	for (size_t i = json_array_size(items); r == 0 && i-- > 0;) {
		r = add_fill(req->db, json_array_get(items, i));
		if (r == -ENOENT) {	/* deleted since it was listed */
			json_array_remove(items, i);
			r = 0;
		}
	}
	if (r < 0) {
		json_decref(items);
		problem_errno(res, r, "the instances", NULL);
		return;
	}
	api_response_json(res, 200, json_pack("{s:o}", "items", items));
}

/* The items of content instance content, at the times they have in an
 * instance starting shift later, into a new array; NULL and *err. */
static json_t *items_json(struct db *db, int64_t content, int64_t shift, int *err)
{
	struct db_rows *rows;
	*err = db_query(db,
			"SELECT si.id, si.position, si.kind, si.file_id, si.webstream_id,"
			" si.starts_at, si.ends_at, si.cue_in_us, si.cue_out_us, si.fade_in_us,"
			" si.fade_out_us, si.crossfade_us, si.gain_db, COALESCE(f.title, w.name),"
			" f.artist, si.origin, si.source_playlist_id, si.source_smart_block_id"
			" FROM schedule_items si LEFT JOIN files f ON f.id = si.file_id"
			" LEFT JOIN webstreams w ON w.id = si.webstream_id"
			" WHERE si.instance_id = $1 ORDER BY si.position, si.id",
			DB_PARAMS(DB_I(content)), &rows);
	if (*err < 0)
		return NULL;
	json_t *items = json_array();
	while (db_rows_next(rows)) {
		json_t *it = json_object();
		json_object_set_new(it, "id", json_integer(db_col_int(rows, 0)));
		json_object_set_new(it, "position", json_integer(db_col_int(rows, 1)));
		json_object_set_new(it, "kind", col_text_json(rows, 2));
		json_object_set_new(it, "file_id", col_int_json(rows, 3));
		json_object_set_new(it, "webstream_id", col_int_json(rows, 4));
		json_object_set_new(it, "starts_at", json_time(db_col_int(rows, 5) + shift));
		json_object_set_new(it, "ends_at", json_time(db_col_int(rows, 6) + shift));
		json_object_set_new(it, "cue_in_us", col_int_json(rows, 7));
		json_object_set_new(it, "cue_out_us", col_int_json(rows, 8));
		json_object_set_new(it, "fade_in_us", col_int_json(rows, 9));
		json_object_set_new(it, "fade_out_us", col_int_json(rows, 10));
		json_object_set_new(it, "crossfade_us", col_int_json(rows, 11));
		json_object_set_new(it, "gain_db", db_col_is_null(rows, 12) ? json_null()
				    : json_real(db_col_real(rows, 12)));
		json_object_set_new(it, "title", col_text_json(rows, 13));
		json_object_set_new(it, "artist", col_text_json(rows, 14));
		json_object_set_new(it, "origin", col_text_json(rows, 15));
		json_object_set_new(it, "source_playlist_id", col_int_json(rows, 16));
		json_object_set_new(it, "source_smart_block_id", col_int_json(rows, 17));
		json_array_append_new(items, it);
	}
	*err = db_rows_error(rows);
	db_rows_free(rows);
	if (*err < 0) {
		json_decref(items);
		return NULL;
	}
	return items;
}

/* The user ids hosting show, a new array; NULL and *err. */
static json_t *hosts_json(struct db *db, int64_t show, int *err)
{
	struct db_rows *rows;
	*err = db_query(db, "SELECT user_id FROM show_hosts WHERE show_id = $1 ORDER BY user_id",
			DB_PARAMS(DB_I(show)), &rows);
	if (*err < 0)
		return NULL;
	json_t *hosts = json_array();
	while (db_rows_next(rows))
		json_array_append_new(hosts, json_integer(db_col_int(rows, 0)));
	*err = db_rows_error(rows);
	db_rows_free(rows);
	if (*err < 0) {
		json_decref(hosts);
		return NULL;
	}
	return hosts;
}

/* The document of instance id: as listed, with content_instance_id, its
 * items and its hosts. NULL and *err (-ENOENT: no such instance). */
static json_t *instance_document(struct db *db, int64_t id, int *err)
{
	struct db_rows *rows;
	*err = db_query(db, INST_COLUMNS INST_FROM " WHERE i.id = $1", DB_PARAMS(DB_I(id)),
			&rows);
	if (*err < 0)
		return NULL;
	json_t *o = NULL;
	int64_t content = 0, shift = 0, show = 0;
	if (db_rows_next(rows)) {
		o = instance_json(rows);
		content = db_col_int(rows, IC_CONTENT);
		shift = db_col_int(rows, IC_STARTS) - db_col_int(rows, IC_CONTENT_STARTS);
		show = db_col_int(rows, IC_SHOW);
	}
	*err = db_rows_error(rows);
	db_rows_free(rows);
	if (*err == 0 && !o)
		*err = -ENOENT;
	if (*err < 0)
		goto fail;
	json_object_set_new(o, "content_instance_id", json_integer(content));
	if ((*err = add_fill(db, o)) < 0)
		goto fail;
	json_t *items = items_json(db, content, shift, err);
	if (!items)
		goto fail;
	json_object_set_new(o, "items", items);
	json_t *hosts = hosts_json(db, show, err);
	if (!hosts)
		goto fail;
	json_object_set_new(o, "hosts", hosts);
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* Answer status with the document of instance id (and extra's members,
 * taken; may be NULL). */
static void answer_instance(struct api_request *req, struct api_response *res, int status,
			    int64_t id, json_t *extra)
{
	int r;
	json_t *doc = instance_document(req->db, id, &r);
	if (!doc) {
		json_decref(extra);
		char what[48];
		snprintf(what, sizeof(what), "show instance %" PRId64, id);
		problem_errno(res, r, what, NULL);
		return;
	}
	if (extra) {
		json_object_update(doc, extra);
		json_decref(extra);
	}
	api_response_json(res, status, doc);
}

void instance_get(struct api_request *req, struct api_response *res)
{
	static const char *const none[] = { NULL };
	if (query_only(req, none, res) && instance_fresh(req, req->ids[0], res) == 0)
		answer_instance(req, res, 200, req->ids[0], NULL);
}

/* ------------------------------------------------------------ editing items */

/*
 * Whether the caller may edit the items of instance id: program managers
 * and admins any, hosts those of the shows they host. 0, or -1 with res
 * filled: no such instance (404; 422 naming field when the body named
 * it), 403 not a host of its show.
 */
static int may_schedule(struct api_request *req, int64_t id, const char *field,
			struct api_response *res)
{
	int64_t show, user;
	int r = db_query_int(req->db, "SELECT show_id FROM show_instances WHERE id = $1",
			     DB_PARAMS(DB_I(id)), &show);
	if (r == -ENOENT && field) {
		problem_field(res, 422, field, "show instance %" PRId64 " does not exist", id);
		return -1;
	}
	if (r < 0) {
		char what[48];
		snprintf(what, sizeof(what), "show instance %" PRId64, id);
		problem_errno(res, r, what, NULL);
		return -1;
	}
	if (req->caller.role >= ROLE_PM)
		return 0;
	r = db_query_int(req->db, "SELECT user_id FROM show_hosts WHERE show_id = $1"
			 " AND user_id = $2", DB_PARAMS(DB_I(show), DB_I(req->caller.user_id)),
			 &user);
	if (r == 0)
		return 0;
	if (r == -ENOENT)
		problem(res, 403, "only the hosts of show %" PRId64 " or a program manager may"
			" change its schedule", show);
	else
		problem_errno(res, r, "the show's hosts", NULL);
	return -1;
}

/* Answer a failed placement edit: r and its sentence err; field names
 * the body member a -EINVAL or -ENOENT is about (NULL: none). */
static void placement_failed(struct api_response *res, int r, const char *err, const char *field)
{
	const char *detail = err[0] ? err : NULL;
	switch (r) {
	case -ESTALE:
	case -EPERM:
		problem(res, 409, "%s", detail ? detail : "the show instance cannot be changed");
		return;
	case -EINVAL:
		if (strncmp(err, "position ", 9) == 0)
			field = "position";
		if (field)
			problem_field(res, 422, field, "%s", detail ? detail : "is not valid");
		else
			problem(res, 422, "%s", detail ? detail : "the items are not valid");
		return;
	case -ENOENT:
		/* The instance addressed (checked before, so deleted
		 * meanwhile) is a 404; what the body names a 422. */
		if (field && strncmp(err, "show instance", 13) != 0 &&
		    strncmp(err, "target show instance", 20) != 0) {
			problem_field(res, 422, field, "%s", detail ? detail : "does not exist");
			return;
		}
		problem(res, 404, "%s", detail ? detail : "the show instance does not exist");
		return;
	case -E2BIG:
		problem(res, 422, "%s", detail ? detail : "too many items in one show instance");
		return;
	default:
		problem_errno(res, r, "the schedule", detail);
		return;
	}
}

/* The sources an item may come from, by their body member. */
static const struct {
	const char *member;
	enum build_source kind;
	const char *what;
} sources[] = {
	{ "file_id", BUILD_FILE, "file" },
	{ "webstream_id", BUILD_WEBSTREAM, "webstream" },
	{ "playlist_id", BUILD_PLAYLIST, "playlist" },
	{ "smart_block_id", BUILD_SMART_BLOCK, "smart block" },
};
#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

/* An insert request, read from its body. */
struct insert {
	int64_t version;
	long position;
	int source;		/* index in sources[], or -1 for kind */
	int64_t source_id;
	struct placement_item item;	/* file, webstream, live or silence */
};

/* Read the insert body into *in; errors added to fe. */
static void insert_read(json_t *body, struct insert *in, struct field_errors *fe)
{
	static const char *const allowed[] = {
		"version", "position", "file_id", "webstream_id", "playlist_id", "smart_block_id",
		"kind", "length_us", "cue_in_us", "cue_out_us", "fade_in_us", "fade_out_us",
		"crossfade_us", "gain_db", NULL };
	body_only(body, allowed, fe);
	if (body_int(body, "version", 1, INT64_MAX, &in->version, fe) == 0)
		field_error(fe, "version", "is required: the version of the show instance read");
	int64_t pos = -1;
	body_int(body, "position", -1, PLACEMENT_ITEMS_MAX, &pos, fe);
	in->position = (long)pos;

	size_t given = 0;
	in->source = -1;
	for (size_t i = 0; i < NSOURCES; i++) {
		if (!json_object_get(body, sources[i].member))
			continue;
		if (given++) {
			field_error(fe, sources[i].member, "give only one of file_id, webstream_id,"
				    " playlist_id, smart_block_id and kind");
			continue;
		}
		in->source = (int)i;
		body_int(body, sources[i].member, 1, INT64_MAX, &in->source_id, fe);
	}
	const char *kind = NULL;
	enum placement_kind pk = PLACEMENT_FILE;
	if (body_text(body, "kind", 16, &kind, fe) > 0) {
		if (given++)
			field_error(fe, "kind", "give only one of file_id, webstream_id,"
				    " playlist_id, smart_block_id and kind");
		else if (strcmp(kind, "live") == 0)
			pk = PLACEMENT_LIVE;
		else if (strcmp(kind, "silence") == 0)
			pk = PLACEMENT_SILENCE;
		else
			field_error(fe, "kind", "must be live or silence (a file, webstream,"
				    " playlist or smart block is given by its id)");
	}
	if (given == 0)
		field_error(fe, "kind", "give one of file_id, webstream_id, playlist_id,"
			    " smart_block_id, or kind (live or silence) with length_us");
	bool file = in->source == 0, webstream = in->source == 1;
	if (in->source == -1 && kind)
		placement_item_init(&in->item, pk);
	else
		placement_item_init(&in->item, webstream ? PLACEMENT_WEBSTREAM : PLACEMENT_FILE);
	in->item.file_id = file ? in->source_id : 0;
	in->item.webstream_id = webstream ? in->source_id : 0;

	int64_t len = 0;
	int has_len = body_int(body, "length_us", 1, PLACEMENT_LENGTH_MAX, &len, fe);
	if (has_len > 0 && !webstream && !kind)
		field_error(fe, "length_us", "is only for live, silence and webstream items");
	else if (has_len == 0 && in->source == -1 &&
		 (in->item.kind == PLACEMENT_LIVE || in->item.kind == PLACEMENT_SILENCE))
		field_error(fe, "length_us", "is required for a %s item", kind);
	in->item.length_us = len;

	static const char *const overrides[] = { "cue_in_us", "cue_out_us", "fade_in_us",
						  "fade_out_us", "crossfade_us" };
	int64_t *slots[] = { &in->item.cue_in_us, &in->item.cue_out_us, &in->item.fade_in_us,
			     &in->item.fade_out_us, &in->item.crossfade_us };
	for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
		if (!json_object_get(body, overrides[i]))
			continue;
		if (!file)
			field_error(fe, overrides[i], "is only for a file");
		else
			body_int(body, overrides[i], 0, PLACEMENT_LENGTH_MAX, slots[i], fe);
	}
	json_t *gain = json_object_get(body, "gain_db");
	if (gain && !file) {
		field_error(fe, "gain_db", "is only for a file");
	} else if (gain) {
		double g = json_is_number(gain) ? json_number_value(gain) : GAIN_MIN - 1;
		if (g < GAIN_MIN || g > GAIN_MAX)
			field_error(fe, "gain_db", "must be a number from %.0f to %.0f", GAIN_MIN,
				    GAIN_MAX);
		in->item.gain_db = g;
		in->item.has_gain = true;
	}
}

/*
 * Where an insert at position of instance id goes, for build_expand: the
 * start of the item now at position (the end of the last one to
 * append), in the instance's time, and the show's free time (its end
 * less the end of its last item; 0 when it is full).
 */
static int insert_point(struct db *db, int64_t id, long position, struct build_context *ctx)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT i.starts_at, i.ends_at, COALESCE(c.id, i.id),"
			 " COALESCE(c.starts_at, i.starts_at) FROM show_instances i"
			 " LEFT JOIN show_instances c ON c.id = COALESCE(i.linked_to, i.id)"
			 " WHERE i.id = $1",
			 DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return r;
	int64_t starts = 0, ends = 0, content = 0, shift = 0;
	bool found = db_rows_next(rows);
	if (found) {
		starts = db_col_int(rows, 0);
		ends = db_col_int(rows, 1);
		content = db_col_int(rows, 2);
		shift = starts - db_col_int(rows, 3);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return r;
	if (!found)
		return -ENOENT;
	int64_t end = starts, at = -1;
	r = db_query_int(db, "SELECT MAX(ends_at) FROM schedule_items WHERE instance_id = $1",
			 DB_PARAMS(DB_I(content)), &end);
	if (r == 0)
		end += shift;
	else if (r == -ENODATA || r == -ENOENT)
		end = starts;
	else
		return r;
	if (position >= 0) {
		r = db_query_int(db, "SELECT starts_at FROM schedule_items WHERE instance_id = $1"
				 " AND position = $2", DB_PARAMS(DB_I(content), DB_I(position)),
				 &at);
		if (r == 0)
			at += shift;
		else if (r != -ENOENT && r != -ENODATA)
			return r;
	}
	ctx->at = at >= 0 && position >= 0 ? at : end;
	ctx->remaining_us = ends > end ? ends - end : 0;
	ctx->seed = (uint64_t)ctx->at ^ ((uint64_t)id * UINT64_C(0x9e3779b97f4a7c15));
	return 0;
}

/* Expand playlist or smart block in->source_id at the insert point into
 * *out. 0, or -1 with res filled. */
static int expand(struct api_request *req, int64_t instance, const struct insert *in,
		  struct build_items *out, struct api_response *res)
{
	const char *member = sources[in->source].member, *what = sources[in->source].what;
	struct build_context ctx;
	int r = insert_point(req->db, instance, in->position, &ctx);
	if (r == 0)
		r = build_expand(req->db, sources[in->source].kind, in->source_id, &ctx, NULL, out);
	if (r == -ENOENT) {
		int64_t found;
		const char *sql = in->source == 2 ? "SELECT id FROM playlists WHERE id = $1"
						  : "SELECT id FROM smart_blocks WHERE id = $1";
		if (db_query_int(req->db, sql, DB_PARAMS(DB_I(in->source_id)), &found) == 0)
			problem_field(res, 422, member, "a smart block of %s %" PRId64
				      " no longer exists", what, in->source_id);
		else
			problem_field(res, 422, member, "no %s has this id", what);
		return -1;
	}
	if (r == -EINVAL) {
		problem_field(res, 422, member, "%s %" PRId64 " holds a smart block that is not"
			      " valid (check its criteria)", what, in->source_id);
		return -1;
	}
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return -1;
	}
	if (out->n == 0) {
		problem_field(res, 422, member, "%s %" PRId64 " gives no item here (%s)", what,
			      in->source_id, in->source == 2 ? "it is empty"
			      : "no file matches its criteria");
		return -1;
	}
	return 0;
}

/* The member of an insert body a placement sentence is about: the
 * override it names when the body gives it, else the source's member. */
static const char *insert_field(json_t *body, const struct insert *in, const char *err)
{
	static const struct {
		const char *word, *member;
	} named[] = {
		{ "cue out", "cue_out_us" }, { "cue in", "cue_in_us" },
		{ "crossfade", "crossfade_us" }, { "fade_in", "fade_in_us" },
		{ "fade_out", "fade_out_us" },
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (strstr(err, named[i].word) && json_object_get(body, named[i].member))
			return named[i].member;
	}
	return in->source >= 0 ? sources[in->source].member : "kind";
}

void instance_items_insert(struct api_request *req, struct api_response *res)
{
	int64_t id = req->ids[0];
	if (instance_fresh(req, id, res) < 0 || may_schedule(req, id, NULL, res) < 0)
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct insert in = { .version = 0 };
	struct field_errors fe = { 0 };
	struct build_items built = { 0 };
	int64_t *ids = NULL;
	insert_read(body, &in, &fe);
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	const struct placement_item *items = &in.item;
	size_t n = 1;
	if (in.source == 2 || in.source == 3) {
		if (expand(req, id, &in, &built, res) < 0)
			goto out;
		items = built.items;
		n = built.n;
	}
	ids = xcalloc(n, sizeof(*ids));
	char err[256] = "";
	int64_t version;
	int r = placement_insert(req->db, req->now, id, in.version, in.position, items, n,
				 &version, ids, err, sizeof(err));
	if (r < 0) {
		placement_failed(res, r, err, insert_field(body, &in, err));
		goto out;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_integer(ids[i]));
	char details[160];
	snprintf(details, sizeof(details), "{\"items\": %zu, \"first_item_id\": %" PRId64
		 ", \"position\": %ld}", n, ids[0], in.position);
	audit(req, "schedule", "show instance", id, details);
	resource_schedule_changed(req);
	char loc[64];
	snprintf(loc, sizeof(loc), "/api/v1/instances/%" PRId64, id);
	answer_instance(req, res, 201, id, json_pack("{s:o}", "item_ids", list));
	if (res->status == 201)
		api_response_header(res, "Location", loc);
out:
	free(ids);
	build_items_release(&built);
	json_decref(body);
}

/*
 * The instance an edit of item id addresses, into *instance: the one
 * holding it, or, when that one has ended and is the content of a linked
 * show, its first instance to come that shares it (so that the linked
 * show's content stays editable). 0, or -1 with res filled: 404 no such
 * item, 409 an item of a linked instance's copy.
 */
static int item_instance(struct api_request *req, int64_t id, int64_t *instance,
			 struct api_response *res)
{
	struct db_rows *rows;
	int r = db_query(req->db,
			 "SELECT si.instance_id, i.linked_to, i.ends_at FROM schedule_items si"
			 " JOIN show_instances i ON i.id = si.instance_id WHERE si.id = $1",
			 DB_PARAMS(DB_I(id)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the item", NULL);
		return -1;
	}
	bool found = db_rows_next(rows);
	int64_t linked = 0, ends = 0;
	if (found) {
		*instance = db_col_int(rows, 0);
		linked = db_col_is_null(rows, 1) ? 0 : db_col_int(rows, 1);
		ends = db_col_int(rows, 2);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	char what[48];
	snprintf(what, sizeof(what), "item %" PRId64, id);
	if (r == 0 && !found)
		r = -ENOENT;
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return -1;
	}
	if (linked) {
		problem(res, 409, "item %" PRId64 " is a copy of the items of show instance %"
			PRId64 " (a linked show): change them there", id, linked);
		return -1;
	}
	if (ends > req->now)
		return 0;
	int64_t next;
	r = db_query_int(req->db, "SELECT id FROM show_instances WHERE linked_to = $1"
			 " AND ends_at > $2 ORDER BY starts_at, id LIMIT 1",
			 DB_PARAMS(DB_I(*instance), DB_I(req->now)), &next);
	if (r == 0)
		*instance = next;
	return 0;	/* else placement says the show has ended */
}

void schedule_item_move(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "version", "position", "instance_id",
					       "target_version", NULL };
	int64_t item = req->ids[0], src;
	if (item_instance(req, item, &src, res) < 0 || instance_fresh(req, src, res) < 0 ||
	    may_schedule(req, src, NULL, res) < 0)
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	body_only(body, allowed, &fe);
	int64_t version = 0, pos = 0, dst = src, dst_version = 0;
	if (body_int(body, "version", 1, INT64_MAX, &version, &fe) == 0)
		field_error(&fe, "version", "is required: the version of the item's show instance");
	if (body_int(body, "position", -1, PLACEMENT_ITEMS_MAX, &pos, &fe) == 0)
		field_error(&fe, "position", "is required (-1 for the end)");
	int has_dst = body_int(body, "instance_id", 1, INT64_MAX, &dst, &fe);
	int has_dst_version = body_int(body, "target_version", 1, INT64_MAX, &dst_version, &fe);
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	if (has_dst > 0 && dst != src && (instance_fresh(req, dst, res) < 0 ||
					  may_schedule(req, dst, "instance_id", res) < 0))
		goto out;
	int64_t src_content = src, dst_content = dst;
	int r = 0;
	if (dst != src && ((r = placement_content_instance(req->db, src, &src_content)) < 0 ||
			   (r = placement_content_instance(req->db, dst, &dst_content)) < 0)) {
		problem_errno(res, r, "the show instance", NULL);
		goto out;
	}
	if (src_content != dst_content && has_dst_version <= 0) {
		problem_field(res, 422, "target_version", "is required to move an item to another"
			      " show instance: the version of show instance %" PRId64 " read", dst);
		goto out;
	}
	char err[256] = "";
	r = placement_move(req->db, req->now, src, version, item, dst,
			   has_dst_version > 0 ? dst_version : version, (long)pos, NULL, err,
			   sizeof(err));
	if (r < 0) {
		placement_failed(res, r, err, NULL);
		goto out;
	}
	char details[96];
	snprintf(details, sizeof(details), "{\"instance_id\": %" PRId64 ", \"position\": %" PRId64
		 "}", dst, pos);
	audit(req, "update", "schedule item", item, details);
	resource_schedule_changed(req);
	answer_instance(req, res, 200, dst, NULL);
out:
	json_decref(body);
}

void schedule_item_remove(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "version", NULL };
	int64_t item = req->ids[0], version = 0, inst;
	if (!query_only(req, allowed, res))
		return;
	int q = query_int(req, "version", 1, INT64_MAX, &version, res);
	if (q < 0)
		return;
	if (q == 0) {
		problem_field(res, 400, "version", "query parameter version is required: the"
			      " version of the item's show instance");
		return;
	}
	if (item_instance(req, item, &inst, res) < 0 || instance_fresh(req, inst, res) < 0 ||
	    may_schedule(req, inst, NULL, res) < 0)
		return;
	char err[256] = "";
	int r = placement_remove(req->db, req->now, inst, version, &item, 1, NULL, err,
				 sizeof(err));
	if (r < 0) {
		placement_failed(res, r, err, NULL);
		return;
	}
	audit(req, "delete", "schedule item", item, NULL);
	resource_schedule_changed(req);
	res->status = 204;
}

/* ------------------------------------------------------------ the window */

void schedule_window(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "from", "to", NULL };
	int64_t from, to;
	if (!query_only(req, allowed, res) ||
	    !window_params(req, SCHEDULE_WINDOW_DAYS, &from, &to, res) ||
	    schedule_materialise(req, from, to, res) < 0)
		return;
	/* The items of the instances overlapping the window (found by the
	 * index on starts_at, from the longest show before from) that
	 * overlap it themselves; those of a linked instance are its
	 * content instance's, at the times they have in it. */
	struct db_rows *rows;
	int r = db_query(req->db,
			 "SELECT si.id, i.id, i.show_id, s.name,"
			 " si.starts_at + (i.starts_at - c.starts_at) AS item_starts,"
			 " si.ends_at + (i.starts_at - c.starts_at), si.kind, si.file_id,"
			 " si.webstream_id, COALESCE(f.title, w.name), f.artist"
			 " FROM show_instances i"
			 " JOIN show_instances c ON c.id = COALESCE(i.linked_to, i.id)"
			 " JOIN schedule_items si ON si.instance_id = c.id"
			 " JOIN shows s ON s.id = i.show_id"
			 " LEFT JOIN files f ON f.id = si.file_id"
			 " LEFT JOIN webstreams w ON w.id = si.webstream_id"
			 " WHERE i.starts_at < $2 AND i.starts_at >= $3 AND i.ends_at > $1"
			 " AND si.starts_at + (i.starts_at - c.starts_at) < $2"
			 " AND si.ends_at + (i.starts_at - c.starts_at) > $1"
			 " ORDER BY item_starts, i.id, si.position LIMIT $4",
			 DB_PARAMS(DB_I(from), DB_I(to), DB_I(from - INSTANCES_LENGTH_MAX),
				   DB_I(SCHEDULE_ROWS_MAX + 1)),
			 &rows);
	if (r < 0) {
		problem_errno(res, r, "the schedule", NULL);
		return;
	}
	json_t *items = json_array();
	size_t n = 0;
	while (db_rows_next(rows) && ++n <= SCHEDULE_ROWS_MAX) {
		int64_t starts = db_col_int(rows, 4), ends = db_col_int(rows, 5);
		json_t *it = json_object();
		json_object_set_new(it, "id", json_integer(db_col_int(rows, 0)));
		json_object_set_new(it, "instance_id", json_integer(db_col_int(rows, 1)));
		json_object_set_new(it, "show_id", json_integer(db_col_int(rows, 2)));
		json_object_set_new(it, "show_name", col_text_json(rows, 3));
		json_object_set_new(it, "starts_at", json_time(starts));
		json_object_set_new(it, "ends_at", json_time(ends));
		json_object_set_new(it, "kind", col_text_json(rows, 6));
		json_object_set_new(it, "file_id", col_int_json(rows, 7));
		json_object_set_new(it, "webstream_id", col_int_json(rows, 8));
		json_object_set_new(it, "title", col_text_json(rows, 9));
		json_object_set_new(it, "artist", col_text_json(rows, 10));
		json_object_set_new(it, "duration_us", json_integer(ends - starts));
		json_array_append_new(items, it);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		json_decref(items);
		problem_errno(res, r, "the schedule", NULL);
		return;
	}
	if (n > SCHEDULE_ROWS_MAX) {
		json_decref(items);
		problem_field(res, 400, "to", "the window holds more than %d items; ask for a"
			      " shorter one", SCHEDULE_ROWS_MAX);
		return;
	}
	api_response_json(res, 200, json_pack("{s:o, s:o, s:o}", "from", json_time(from), "to",
					      json_time(to), "items", items));
}
