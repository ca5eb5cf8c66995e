/*
 * asrun.c - playout events into the as-run log; see asrun.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "messages/asrun.h"
#include "protocol/protocol.h"

#define COMPONENT "as-run"

/* Store the event; *fresh says whether it was new. */
static int store_event(struct db *db, const struct proto_event *e, const char *json, size_t len,
		       int64_t now, bool *fresh)
{
	char *body = xstrndup(json, len);
	bool item = e->kind == PROTO_EV_ITEM_STARTED || e->kind == PROTO_EV_ITEM_ENDED;
	bool has_source = e->kind == PROTO_EV_ITEM_STARTED || e->kind == PROTO_EV_SOURCE_CHANGED ||
			  e->kind == PROTO_EV_HEARTBEAT;
	int r = db_exec(db,
			"INSERT INTO playout_events (instance, seq, at, kind, item_id, source, reason,"
			" snapshot_revision, body, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7,"
			" $8, $9, $10) ON CONFLICT (instance, seq) DO NOTHING",
			DB_PARAMS(DB_T(e->instance), DB_I((int64_t)e->seq), DB_I(e->at),
				  DB_T(proto_event_kind_name(e->kind)),
				  item ? DB_I(e->item_id) : DB_N,
				  has_source ? DB_T(proto_source_name(e->source)) : DB_N,
				  e->kind == PROTO_EV_ITEM_ENDED ? DB_T(proto_end_reason_name(e->reason))
								 : DB_N,
				  DB_I((int64_t)e->snapshot_revision), DB_T(body), DB_I(now)));
	free(body);
	if (r < 0)
		return r;
	*fresh = r == 1;
	return 0;
}

/* What the schedule says about an item: its show instance, file and
 * start, with the file's title and artist. found false when the item is
 * gone (deleted after it was published). */
struct item_info {
	bool found;
	int64_t instance_id, file_id, scheduled;
	char *title, *artist;
};

static int item_info(struct db *db, int64_t item_id, struct item_info *out)
{
	memset(out, 0, sizeof(*out));
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT si.instance_id, si.file_id, si.starts_at, f.title, f.artist"
			 " FROM schedule_items si LEFT JOIN files f ON f.id = si.file_id"
			 " WHERE si.id = $1",
			 DB_PARAMS(DB_I(item_id)), &rows);
	if (r < 0)
		return r;
	if (db_rows_next(rows)) {
		out->found = true;
		out->instance_id = db_col_int(rows, 0);
		out->file_id = db_col_int(rows, 1);
		out->scheduled = db_col_int(rows, 2);
		const char *t = db_col_text(rows, 3), *a = db_col_text(rows, 4);
		out->title = t ? xstrdup(t) : NULL;
		out->artist = a ? xstrdup(a) : NULL;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

static void item_info_release(struct item_info *i)
{
	free(i->title);
	free(i->artist);
}

/* The as_run row of a schedule item, if any: 0 with *id set (0 = none). */
static int find_row(struct db *db, int64_t item_id, int64_t *id)
{
	int r = db_query_int(db, "SELECT id FROM as_run WHERE schedule_item_id = $1",
			     DB_PARAMS(DB_I(item_id)), id);
	if (r == -ENOENT) {
		*id = 0;
		return 0;
	}
	return r;
}

static int insert_row(struct db *db, const struct proto_event *e, const struct item_info *info,
		      bool ended)
{
	const char *title = info->title ? info->title : e->meta.title;
	const char *artist = info->artist ? info->artist : e->meta.artist;
	return db_exec(db,
		       "INSERT INTO as_run (playout_instance, event_seq, schedule_item_id,"
		       " instance_id, file_id, title, artist, scheduled_start_at, started_at,"
		       " ended_at, source, end_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
		       " $10, $11, $12)",
		       DB_PARAMS(DB_T(e->instance), DB_I((int64_t)e->seq),
				 info->found ? DB_I(e->item_id) : DB_N,
				 info->instance_id ? DB_I(info->instance_id) : DB_N,
				 info->file_id ? DB_I(info->file_id) : DB_N, DB_T(title),
				 DB_T(artist), DB_I(info->found ? info->scheduled : e->scheduled),
				 DB_I(e->at), ended ? DB_I(e->at) : DB_N,
				 DB_T(proto_source_name(ended ? PROTO_SRC_SCHEDULE : e->source)),
				 ended ? DB_T(proto_end_reason_name(e->reason)) : DB_N));
}

static int item_started(struct db *db, const struct proto_event *e)
{
	struct item_info info;
	int r = item_info(db, e->item_id, &info);
	int64_t row = 0;
	if (r == 0 && info.found)
		r = find_row(db, e->item_id, &row);
	if (r < 0)
		goto out_release;
	if (row) {
		r = db_exec(db,
			    "UPDATE as_run SET started_at = $1 WHERE id = $2 AND started_at > $1",
			    DB_PARAMS(DB_I(e->at), DB_I(row)));
		goto out_release;
	}
	r = insert_row(db, e, &info, false);
	if (r >= 0 && info.file_id)
		r = db_exec(db,
			    "UPDATE files SET play_count = play_count + 1, last_played_at ="
			    " CASE WHEN last_played_at IS NULL OR last_played_at < $1 THEN $1"
			    " ELSE last_played_at END WHERE id = $2",
			    DB_PARAMS(DB_I(e->at), DB_I(info.file_id)));
out_release:
	item_info_release(&info);
	return r < 0 ? r : 0;
}

static int item_ended(struct db *db, const struct proto_event *e)
{
	struct item_info info;
	int r = item_info(db, e->item_id, &info);
	int64_t row = 0;
	if (r == 0 && info.found)
		r = find_row(db, e->item_id, &row);
	if (r < 0)
		goto out_release;
	if (!row) {
		/* Ended without a start we know of: it did not play. */
		r = insert_row(db, e, &info, true);
		goto out_release;
	}
	r = db_exec(db,
		    "UPDATE as_run SET ended_at = CASE WHEN ended_at IS NULL OR ended_at < $1"
		    " THEN $1 ELSE ended_at END, end_reason = CASE WHEN end_reason = 'completed'"
		    " THEN end_reason WHEN ended_at IS NULL OR ended_at <= $1 OR $2 = 'completed'"
		    " THEN $2 ELSE end_reason END WHERE id = $3",
		    DB_PARAMS(DB_I(e->at), DB_T(proto_end_reason_name(e->reason)), DB_I(row)));
out_release:
	item_info_release(&info);
	return r < 0 ? r : 0;
}

static int live_connected(struct db *db, const struct proto_event *e)
{
	return db_exec(db,
		       "INSERT INTO live_sessions (input, user_id, user_name, instance_id,"
		       " playout_instance, connected_at, event_seq) VALUES ($1,"
		       " (SELECT id FROM users WHERE lower(name) = lower($2)), $2,"
		       " (SELECT i.id FROM show_instances i WHERE i.starts_at <= $3"
		       "  AND i.ends_at > $3 ORDER BY i.starts_at DESC, i.id DESC LIMIT 1),"
		       " $4, $3, $5)",
		       DB_PARAMS(DB_T(proto_live_input_name(e->input)), DB_T(e->user),
				 DB_I(e->at), DB_T(e->instance), DB_I((int64_t)e->seq)));
}

static int live_disconnected(struct db *db, const struct proto_event *e)
{
	return db_exec(db,
		       "UPDATE live_sessions SET disconnected_at = $1 WHERE id = (SELECT id FROM"
		       " live_sessions WHERE playout_instance = $2 AND input = $3 AND"
		       " disconnected_at IS NULL AND connected_at <= $1"
		       " ORDER BY connected_at DESC, id DESC LIMIT 1)",
		       DB_PARAMS(DB_I(e->at), DB_T(e->instance),
				 DB_T(proto_live_input_name(e->input))));
}

/* A heartbeat's HLS listener count, at its second. */
static int heartbeat(struct db *db, const struct proto_event *e)
{
	if (!e->hls_reported)
		return 0;
	char output[96];
	snprintf(output, sizeof(output), "hls:%s", e->instance);
	return db_exec(db,
		       "INSERT INTO listener_counts (output, at, listeners) VALUES ($1, $2, $3)"
		       " ON CONFLICT (output, at) DO NOTHING",
		       DB_PARAMS(DB_T(output), DB_I(e->at - time_floor_mod(e->at, USEC_PER_SEC)),
				 DB_I(e->hls_listeners)));
}

int asrun_apply(struct db *db, const char *json, size_t len, int64_t now,
		struct asrun_result *out)
{
	memset(out, 0, sizeof(*out));
	struct proto_event e;
	struct proto_error perr;
	int r = proto_event_decode(json, len, &e, &perr);
	if (r < 0) {
		snprintf(out->err, sizeof(out->err), "%s", perr.text);
		return -EINVAL;
	}
	out->kind = (int)e.kind;
	out->reason = (int)e.reason;
	if ((r = db_begin(db)) < 0)
		goto out_release;
	bool fresh = false;
	r = store_event(db, &e, json, len, now, &fresh);
	if (r == 0 && fresh) {
		switch (e.kind) {
		case PROTO_EV_ITEM_STARTED:
			r = item_started(db, &e);
			break;
		case PROTO_EV_ITEM_ENDED:
			r = item_ended(db, &e);
			break;
		case PROTO_EV_LIVE_CONNECTED:
			r = live_connected(db, &e);
			break;
		case PROTO_EV_LIVE_DISCONNECTED:
			r = live_disconnected(db, &e);
			break;
		case PROTO_EV_HEARTBEAT:
			r = heartbeat(db, &e);
			break;
		default:
			break;
		}
	}
	if (r >= 0)
		r = db_commit(db);
	if (r < 0) {
		snprintf(out->err, sizeof(out->err), "%.250s", db_errmsg(db));
		db_rollback(db);
	} else {
		out->duplicate = !fresh;
		r = 0;
	}
out_release:
	proto_event_release(&e);
	return r;
}

/* ------------------------------------------------------------ consumer */

struct asrun_consumer {
	struct mq *mq;
	struct db *db;
	struct metric *events, *items;
	pthread_t thread;
	atomic_bool stop;
};

static void handle(struct asrun_consumer *c, struct mq_msg *m)
{
	struct asrun_result res;
	int r = asrun_apply(c->db, m->data, m->len, time_now_us(), &res);
	if (r == -EINVAL) {
		log_warn(COMPONENT, "dropping an event that does not decode (%s): %s", m->subject,
			 res.err);
		mq_msg_term(m);
	} else if (r < 0) {
		log_warn(COMPONENT, "storing an event failed (%s); it comes again in 1 s", res.err);
		mq_msg_nak(m, USEC_PER_SEC);
	} else {
		mq_msg_ack(m);
		if (!res.duplicate) {
			const char *kind = proto_event_kind_name((enum proto_event_kind)res.kind);
			metric_add(c->events, 1, &kind);
			const char *result = res.kind == PROTO_EV_ITEM_STARTED ? "started"
				: proto_end_reason_name((enum proto_end_reason)res.reason);
			if (res.kind == PROTO_EV_ITEM_STARTED || res.kind == PROTO_EV_ITEM_ENDED)
				metric_add(c->items, 1, &result);
		}
	}
}

static void *consume(void *arg)
{
	struct asrun_consumer *c = arg;
	struct mq_consumer *con = NULL;
	bool warned = false;
	while (!atomic_load(&c->stop)) {
		if (!con) {
			struct mq_consumer_options o = { .stream = MQ_STREAM_EVENTS,
							 .durable = ASRUN_DURABLE,
							 .filter = MQ_SUBJECT_EVENTS ".>" };
			int r = mq_connected(c->mq) ? mq_consumer_open(c->mq, &o, &con) : -ENOTCONN;
			if (r < 0) {
				if (!warned && r != -ENOTCONN)
					log_warn(COMPONENT, "cannot read the events yet: %s",
						 onair_strerror(r));
				warned = true;
				con = NULL;
				for (int i = 0; i < 10 && !atomic_load(&c->stop); i++)
					nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
				continue;
			}
			log_info(COMPONENT, "reading playout events");
			warned = false;
		}
		struct mq_msg *msgs[64];
		size_t n = 0;
		int r = mq_consumer_fetch(con, msgs, 64, 500 * USEC_PER_MSEC, &n);
		for (size_t i = 0; i < n; i++) {
			handle(c, msgs[i]);
			mq_msg_free(msgs[i]);
		}
		if (r < 0 && r != -ETIMEDOUT && r != -ENOTCONN) {
			log_warn(COMPONENT, "reading events failed: %s; reopening", onair_strerror(r));
			mq_consumer_close(con);
			con = NULL;
		}
	}
	mq_consumer_close(con);
	return NULL;
}

int asrun_start(struct asrun_consumer **out, struct mq *mq, const char *db_url,
		struct metrics *metrics, char *err, size_t errlen)
{
	struct asrun_consumer *c = xcalloc(1, sizeof(*c));
	c->mq = mq;
	c->events = metrics_counter(metrics, "onair_events_total",
				    "playout events stored (redeliveries not counted)", "event");
	c->items = metrics_counter(metrics, "onair_asrun_items_total",
				   "as-run items: started, and how they ended", "result");
	int r = db_open(&c->db, db_url, err, errlen);
	if (r < 0) {
		free(c);
		return r;
	}
	r = -pthread_create(&c->thread, NULL, consume, c);
	if (r < 0) {
		db_close(c->db);
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void asrun_stop(struct asrun_consumer *c)
{
	if (!c)
		return;
	atomic_store(&c->stop, true);
	pthread_join(c->thread, NULL);
	db_close(c->db);
	free(c);
}
