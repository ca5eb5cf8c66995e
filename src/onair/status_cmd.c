/*
 * status_cmd.c - "onair status"; see status_cmd.h.
 *
 * The findings are gathered into one JSON document (what --json prints),
 * problems are added to it with their level, and the screen is printed
 * from the same document.
 */
#include "onair/status_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "messages/asrun.h"
#include "mq/mq.h"
#include "mq/presence.h"
#include "protocol/protocol.h"

#define HOUR_US (INT64_C(3600) * USEC_PER_SEC)
/* Listener counts older than this are not shown. */
#define LISTENERS_FRESH_US (15 * 60 * USEC_PER_SEC)
/* More than this many events not yet in the as-run log, or tasks
 * waiting, is a backlog worth a warning. */
#define BACKLOG_WARN 1000u
/* Less than this on the safety source in the last hour (a start, a
 * restart) is reported but not a warning. */
#define DEAD_AIR_WARN_S 5.0

static const char *const create_roles[] = { "api", "worker", "messages" };

static const char usage_text[] =
	"Usage: onair status [--json] [--timeout SECONDS]\n"
	"The station on one screen: each role up or down, what is on air and next,\n"
	"outputs and listeners, dead air in the last hour, missing files, the\n"
	"queue's backlog, database and NATS reachability, each role's last problem.\n"
	"--timeout: how long to wait for the roles' answers (default 1.5).\n"
	"Exit status: 0 healthy, 1 warning, 2 critical (off air or about to be),\n"
	"3 the check could not run.\n";

struct check {
	json_t *doc;
	json_t *problems;	/* [{"level": "warning"|"critical", "text": ...}] */
	int code;
	int64_t now;
};

static json_t *time_json(int64_t t)
{
	char s[TIME_RFC3339_MAX];
	time_format_rfc3339(t, s, sizeof(s));
	return json_string(s);
}

__attribute__((format(printf, 3, 4)))
static void problem(struct check *c, int level, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(c->problems, json_pack("{s:s, s:s}", "level",
						     level == STATUS_CRITICAL ? "critical" : "warning",
						     "text", text));
	if (level > c->code)
		c->code = level;
}

/* ---- the queue: who answers, what playout says, the backlog */

static bool on_presence(void *userdata, const char *data, size_t len)
{
	json_t *roles = userdata;
	json_t *o = json_loadb(data, len, 0, NULL);
	if (json_is_object(o) && json_is_string(json_object_get(o, "role")))
		json_array_append(roles, o);
	json_decref(o);
	return true;
}

static json_t *playout_json(const struct proto_reply *rep)
{
	json_t *o = json_pack("{s:s, s:b}", "instance", rep->instance, "ok", rep->ok);
	if (!rep->ok && rep->error)
		json_object_set_new(o, "error", json_string(rep->error));
	if (!rep->has_status)
		return o;
	const struct proto_status *st = &rep->status;
	json_object_set_new(o, "source", json_string(proto_source_name(st->source)));
	json_object_set_new(o, "snapshot_revision", json_integer((json_int_t)st->snapshot_revision));
	json_object_set_new(o, "on_air_item_id", st->on_air_item_id
					 ? json_integer(st->on_air_item_id) : json_null());
	json_object_set_new(o, "next_item_id", st->next_item_id
					 ? json_integer(st->next_item_id) : json_null());
	json_object_set_new(o, "next_start", st->next_item_id ? time_json(st->next_start)
							       : json_null());
	json_object_set_new(o, "cache_ready", json_integer(st->cache_ready));
	json_object_set_new(o, "cache_missing", json_integer(st->cache_missing));
	json_t *outs = json_array();
	for (size_t i = 0; i < st->n_outputs; i++)
		json_array_append_new(outs, json_pack("{s:s, s:b}", "output", st->outputs[i].output,
						      "up", st->outputs[i].up));
	json_object_set_new(o, "outputs", outs);
	return o;
}

static bool on_playout(void *userdata, const char *data, size_t len)
{
	json_t *playouts = userdata;
	struct proto_reply rep;
	struct proto_error err;
	if (proto_reply_decode(data, len, &rep, &err) == 0) {
		json_array_append_new(playouts, playout_json(&rep));
		proto_reply_release(&rep);
	}
	return true;
}

static void ask_playouts(struct check *c, struct mq *mq, int64_t timeout_us)
{
	char id[64];
	snprintf(id, sizeof(id), "status-%d-%" PRId64, (int)getpid(), c->now);
	struct proto_command cmd = { .id = id, .kind = PROTO_CMD_STATUS };
	struct buf msg;
	buf_init(&msg, 4096);
	json_t *playouts = json_array();
	if (proto_command_encode(&cmd, &msg) == 0)
		(void)mq_request_many(mq, MQ_SUBJECT_COMMANDS, msg.data, msg.len, timeout_us,
				      on_playout, playouts);
	buf_release(&msg);
	json_object_set_new(c->doc, "playouts", playouts);
}

static void read_backlog(struct check *c, struct mq *mq)
{
	uint64_t tasks = 0, dead = 0, pending = 0, unacked = 0;
	json_t *q = json_object();
	if (mq_stream_backlog(mq, MQ_STREAM_TASKS, NULL, &tasks, NULL, NULL) == 0)
		json_object_set_new(q, "tasks_waiting", json_integer((json_int_t)tasks));
	if (mq_stream_backlog(mq, MQ_STREAM_DEAD, NULL, &dead, NULL, NULL) == 0)
		json_object_set_new(q, "tasks_failed", json_integer((json_int_t)dead));
	if (mq_stream_backlog(mq, MQ_STREAM_EVENTS, ASRUN_DURABLE, NULL, &pending, &unacked) == 0)
		json_object_set_new(q, "events_waiting", json_integer((json_int_t)(pending + unacked)));
	json_object_set_new(c->doc, "queue", q);
	if (tasks > BACKLOG_WARN)
		problem(c, STATUS_WARNING, "%" PRIu64 " tasks wait in the queue", tasks);
	if (pending + unacked > BACKLOG_WARN)
		problem(c, STATUS_WARNING, "%" PRIu64 " playout events are not in the as-run log yet",
			pending + unacked);
}

static void gather_queue(struct check *c, const struct config *cfg, int64_t timeout_us)
{
	const char *url = config_get(cfg, "nats.url");
	struct mq_options mo = { .name = "onair-status", .timeout_us = 2 * USEC_PER_SEC };
	struct mq *mq = NULL;
	int r = mq_options_from_config(&mo, cfg);
	if (r == 0)
		r = mq_connect(&mq, &mo);
	if (r == 0)
		r = mq_wait_connected(mq, 3 * USEC_PER_SEC);
	json_t *nats = json_pack("{s:s, s:b}", "url", url ? url : "", "ok", r == 0);
	json_object_set_new(c->doc, "nats", nats);
	json_t *roles = json_array();
	json_object_set_new(c->doc, "roles", roles);
	if (r < 0) {
		json_object_set_new(nats, "error", json_string(onair_strerror(r)));
		json_object_set_new(c->doc, "playouts", json_array());
		problem(c, STATUS_CRITICAL, "NATS at %s: %s", url ? url : "?", onair_strerror(r));
		mq_close(mq);
		return;
	}
	(void)mq_request_many(mq, MQ_SUBJECT_PRESENCE, NULL, 0, timeout_us, on_presence, roles);
	ask_playouts(c, mq, timeout_us);
	read_backlog(c, mq);
	mq_close(mq);
}

/* ---- the database: what is on air, listeners, dead air */

static void describe_item(struct db *db, json_t *playout)
{
	json_t *id = json_object_get(playout, "on_air_item_id");
	if (!json_is_integer(id))
		return;
	struct db_rows *rows;
	if (db_query(db, "SELECT COALESCE(f.title, w.name, ''), COALESCE(f.artist, ''), s.name"
		     " FROM schedule_items si JOIN show_instances i ON i.id = si.instance_id"
		     " JOIN shows s ON s.id = i.show_id LEFT JOIN files f ON f.id = si.file_id"
		     " LEFT JOIN webstreams w ON w.id = si.webstream_id WHERE si.id = $1",
		     DB_PARAMS(DB_I(json_integer_value(id))), &rows) < 0)
		return;
	if (db_rows_next(rows))
		json_object_set_new(playout, "on_air", json_pack("{s:s, s:s, s:s}",
								 "title", db_col_text(rows, 0),
								 "artist", db_col_text(rows, 1),
								 "show", db_col_text(rows, 2)));
	db_rows_free(rows);
}

static void read_listeners(struct check *c, struct db *db)
{
	json_t *out = json_array();
	struct db_rows *rows;
	if (db_query(db, "SELECT output, listeners, at FROM listener_counts WHERE at >= $1"
		     " ORDER BY output, at DESC",
		     DB_PARAMS(DB_I(c->now - LISTENERS_FRESH_US)), &rows) == 0) {
		char last[256] = "";
		while (db_rows_next(rows)) {
			const char *output = db_col_text(rows, 0);
			if (strcmp(output, last) == 0)
				continue;
			snprintf(last, sizeof(last), "%s", output);
			json_array_append_new(out, json_pack("{s:s, s:I, s:o}", "output", output,
							     "listeners", (json_int_t)db_col_int(rows, 1),
							     "at", time_json(db_col_int(rows, 2))));
		}
		db_rows_free(rows);
	}
	json_object_set_new(c->doc, "listeners", out);
}

/* Seconds each playout instance spent on the safety source (or none) in
 * the last hour, from its source changes (the day before counts for the
 * source it was on when the hour began). */
static void read_dead_air(struct check *c, struct db *db)
{
	json_t *out = json_object();
	int64_t from = c->now - HOUR_US;
	struct db_rows *rows;
	if (db_query(db, "SELECT instance, at, source FROM playout_events"
		     " WHERE kind = 'source_changed' AND at >= $1 AND at <= $2"
		     " ORDER BY instance, at, seq",
		     DB_PARAMS(DB_I(from - 24 * HOUR_US), DB_I(c->now)), &rows) < 0) {
		json_object_set_new(c->doc, "dead_air_s", out);
		return;
	}
	char instance[128] = "";
	int64_t since = 0;	/* when the instance went silent; 0 = it is not */
	double silent_s = 0;
	bool more = db_rows_next(rows);
	while (more) {
		const char *inst = db_col_text(rows, 0);
		int64_t at = db_col_int(rows, 1);
		const char *src = db_col_is_null(rows, 2) ? "none" : db_col_text(rows, 2);
		if (strcmp(inst, instance) != 0) {
			snprintf(instance, sizeof(instance), "%s", inst);
			since = 0;
			silent_s = 0;
		}
		bool silent = strcmp(src, "safety") == 0 || strcmp(src, "none") == 0;
		if (since && !silent) {
			int64_t a = since > from ? since : from;
			if (at > a)
				silent_s += (double)(at - a) / USEC_PER_SEC;
			since = 0;
		} else if (!since && silent) {
			since = at;
		}
		more = db_rows_next(rows);
		if (!more || strcmp(db_col_text(rows, 0), instance) != 0) {
			if (since) {
				int64_t a = since > from ? since : from;
				silent_s += (double)(c->now - a) / USEC_PER_SEC;
			}
			json_object_set_new(out, instance, json_real((double)(int64_t)(silent_s * 10) / 10));
		}
	}
	db_rows_free(rows);
	json_object_set_new(c->doc, "dead_air_s", out);
	const char *inst;
	json_t *v;
	json_object_foreach(out, inst, v) {
		if (json_real_value(v) >= DEAD_AIR_WARN_S)
			problem(c, STATUS_WARNING, "%s: %.0f s on the safety source in the last hour",
				inst, json_real_value(v));
	}
}

static void gather_database(struct check *c, const struct config *cfg)
{
	const char *url = config_get(cfg, "database.url");
	char err[256] = "";
	struct db *db = NULL;
	int r = db_open(&db, url, err, sizeof(err));
	struct db_rows *rows = NULL;
	if (r == 0 && (r = db_query(db, "SELECT MAX(version) FROM schema_version", NULL, 0, &rows)) == 0) {
		if (!db_rows_next(rows))
			r = db_rows_error(rows) < 0 ? db_rows_error(rows) : -ENOENT;
		db_rows_free(rows);
		if (r < 0)
			snprintf(err, sizeof(err), "%s", "no schema (run onair migrate)");
	} else if (r < 0 && db && !err[0]) {
		snprintf(err, sizeof(err), "%s", db_errmsg(db));
	}
	json_t *d = json_pack("{s:s, s:b}", "url", url ? url : "", "ok", r == 0);
	json_object_set_new(c->doc, "database", d);
	if (r < 0) {
		json_object_set_new(d, "error", json_string(err[0] ? err : onair_strerror(r)));
		problem(c, STATUS_WARNING, "database %s: %s", url ? url : "?",
			err[0] ? err : onair_strerror(r));
		db_close(db);
		return;
	}
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(c->doc, "playouts"), i, p)
		describe_item(db, p);
	read_listeners(c, db);
	read_dead_air(c, db);
	db_close(db);
}

/* ---- judging */

static size_t count_role(struct check *c, const char *role)
{
	size_t n = 0, i;
	json_t *r;
	json_array_foreach(json_object_get(c->doc, "roles"), i, r) {
		if (strcmp(json_string_value(json_object_get(r, "role")), role) == 0)
			n++;
	}
	return n;
}

static void judge(struct check *c)
{
	if (!json_is_true(json_object_get(json_object_get(c->doc, "nats"), "ok")))
		return;		/* nothing can be said about the roles */
	for (size_t i = 0; i < sizeof(create_roles) / sizeof(create_roles[0]); i++) {
		if (!count_role(c, create_roles[i]))
			problem(c, STATUS_WARNING, "no %s answers", create_roles[i]);
	}
	json_t *playouts = json_object_get(c->doc, "playouts");
	if (json_array_size(playouts) == 0)
		problem(c, STATUS_CRITICAL, "no playout answers");
	size_t i;
	json_t *p;
	json_array_foreach(playouts, i, p) {
		const char *inst = json_string_value(json_object_get(p, "instance"));
		const char *src = json_string_value(json_object_get(p, "source"));
		if (!json_is_true(json_object_get(p, "ok")))
			problem(c, STATUS_WARNING, "playout %s: %s", inst,
				json_string_value(json_object_get(p, "error")));
		if (src && (strcmp(src, "safety") == 0 || strcmp(src, "none") == 0))
			problem(c, STATUS_CRITICAL, "playout %s is on the %s source", inst, src);
		size_t j;
		json_t *o;
		json_array_foreach(json_object_get(p, "outputs"), j, o) {
			if (!json_is_true(json_object_get(o, "up")))
				problem(c, STATUS_CRITICAL, "playout %s: output %s is down", inst,
					json_string_value(json_object_get(o, "output")));
		}
		json_int_t missing = json_integer_value(json_object_get(p, "cache_missing"));
		if (missing > 0)
			problem(c, STATUS_WARNING, "playout %s: %" JSON_INTEGER_FORMAT
				" files of the next hours are missing", inst, missing);
	}
}

/* ---- the screen */

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void print_uptime(json_int_t s)
{
	if (s >= 86400)
		printf("%" JSON_INTEGER_FORMAT "d%02" JSON_INTEGER_FORMAT "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		printf("%" JSON_INTEGER_FORMAT "h%02" JSON_INTEGER_FORMAT "m", s / 3600, s % 3600 / 60);
	else
		printf("%" JSON_INTEGER_FORMAT "m%02" JSON_INTEGER_FORMAT "s", s / 60, s % 60);
}

static void print_roles(struct check *c)
{
	static const char *const all[] = { "api", "worker", "messages", "playout" };
	bool nats_ok = json_is_true(json_object_get(json_object_get(c->doc, "nats"), "ok"));
	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
		size_t n = 0, i;
		json_t *r;
		json_array_foreach(json_object_get(c->doc, "roles"), i, r) {
			if (strcmp(str(r, "role"), all[k]) != 0)
				continue;
			printf("  %-10s up     %s (pid %" JSON_INTEGER_FORMAT " on %s, up ", n ? "" : all[k],
			       str(r, "name"), json_integer_value(json_object_get(r, "pid")),
			       str(r, "host"));
			print_uptime(json_integer_value(json_object_get(r, "uptime_s")));
			printf(")\n");
			n++;
		}
		if (!n)
			printf("  %-10s %s\n", all[k], nats_ok ? "DOWN   no instance answers" : "?      (no NATS)");
	}
}

static void print_playouts(struct check *c)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(c->doc, "playouts"), i, p) {
		const char *inst = str(p, "instance");
		json_t *on = json_object_get(p, "on_air");
		json_t *item = json_object_get(p, "on_air_item_id");
		printf("  on air     %s: %s source", inst, str(p, "source"));
		if (json_is_integer(item))
			printf(", item %" JSON_INTEGER_FORMAT, json_integer_value(item));
		if (on)
			printf(" \"%s\"%s%s (%s)", str(on, "title"), *str(on, "artist") ? " by " : "",
			       str(on, "artist"), str(on, "show"));
		printf("\n");
		if (json_is_integer(json_object_get(p, "next_item_id")))
			printf("  next       %s: item %" JSON_INTEGER_FORMAT " at %s\n", inst,
			       json_integer_value(json_object_get(p, "next_item_id")),
			       str(p, "next_start"));
		printf("  outputs    %s:", inst);
		size_t j;
		json_t *o;
		json_array_foreach(json_object_get(p, "outputs"), j, o)
			printf("%s %s %s", j ? "," : "", str(o, "output"),
			       json_is_true(json_object_get(o, "up")) ? "up" : "DOWN");
		printf("\n  cache      %s: %" JSON_INTEGER_FORMAT " files ready, %" JSON_INTEGER_FORMAT
		       " missing\n", inst, json_integer_value(json_object_get(p, "cache_ready")),
		       json_integer_value(json_object_get(p, "cache_missing")));
	}
}

static void print_screen(struct check *c)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	printf("onair status: %s (%s)\n", names[c->code], str(c->doc, "at"));
	json_t *n = json_object_get(c->doc, "nats");
	printf("  %-10s %-6s %s%s%s\n", "NATS", json_is_true(json_object_get(n, "ok")) ? "ok" : "DOWN",
	       str(n, "url"), *str(n, "error") ? ": " : "", str(n, "error"));
	json_t *d = json_object_get(c->doc, "database");
	printf("  %-10s %-6s %s%s%s\n", "database", json_is_true(json_object_get(d, "ok")) ? "ok" : "DOWN",
	       str(d, "url"), *str(d, "error") ? ": " : "", str(d, "error"));
	print_roles(c);
	print_playouts(c);
	json_t *l = json_object_get(c->doc, "listeners");
	if (json_array_size(l)) {
		printf("  listeners ");
		size_t i;
		json_t *o;
		json_array_foreach(l, i, o)
			printf("%s %s %" JSON_INTEGER_FORMAT, i ? "," : "", str(o, "output"),
			       json_integer_value(json_object_get(o, "listeners")));
		printf("\n");
	}
	json_t *dead = json_object_get(c->doc, "dead_air_s");
	if (dead) {
		printf("  dead air  ");
		const char *inst;
		json_t *v;
		bool any = false;
		json_object_foreach(dead, inst, v) {
			printf(" %s %.0f s", inst, json_real_value(v));
			any = true;
		}
		printf("%s in the last hour\n", any ? "" : " none");
	}
	json_t *q = json_object_get(c->doc, "queue");
	if (q && json_object_size(q))
		printf("  queue      %" JSON_INTEGER_FORMAT " tasks waiting, %" JSON_INTEGER_FORMAT
		       " failed for good; %" JSON_INTEGER_FORMAT " events to take in\n",
		       json_integer_value(json_object_get(q, "tasks_waiting")),
		       json_integer_value(json_object_get(q, "tasks_failed")),
		       json_integer_value(json_object_get(q, "events_waiting")));
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(c->doc, "roles"), i, r) {
		json_t *lp = json_object_get(r, "last_problem");
		if (json_is_object(lp))
			printf("  last problem of %s at %s: %s\n", str(r, "name"), str(lp, "at"),
			       str(lp, "text"));
	}
	json_array_foreach(c->problems, i, r)
		printf("%s: %s\n", strcmp(str(r, "level"), "critical") == 0 ? "CRITICAL" : "WARNING",
		       str(r, "text"));
}

/* Each presence answer gets its uptime, from its start and now. */
static void add_uptimes(struct check *c)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(c->doc, "roles"), i, r) {
		int64_t started = 0;
		const char *s = str(r, "started_at");
		if (*s && time_parse_rfc3339(s, &started) == 0 && started <= c->now)
			json_object_set_new(r, "uptime_s",
					    json_integer((c->now - started) / USEC_PER_SEC));
		else
			json_object_set_new(r, "uptime_s", json_integer(0));
	}
}

int status_command(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool as_json = false;
	double timeout_s = 1.5;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "jt:h", longopts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'j':
			as_json = true;
			break;
		case 't':
			timeout_s = strtod(optarg, &end);
			if (*end || !(timeout_s > 0 && timeout_s <= 60)) {
				fprintf(stderr, "onair status: --timeout wants 0 to 60 seconds\n");
				return STATUS_UNKNOWN;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return STATUS_OK;
		default:
			fputs(usage_text, stderr);
			return STATUS_UNKNOWN;
		}
	}
	if (optind != argc) {
		fputs(usage_text, stderr);
		return STATUS_UNKNOWN;
	}
	struct check c = { .doc = json_object(), .problems = json_array(), .now = time_now_us() };
	json_object_set_new(c.doc, "at", time_json(c.now));
	gather_queue(&c, cfg, (int64_t)(timeout_s * USEC_PER_SEC));
	gather_database(&c, cfg);
	add_uptimes(&c);
	judge(&c);
	static const char *const levels[] = { "ok", "warning", "critical", "unknown" };
	json_object_set_new(c.doc, "status", json_string(levels[c.code]));
	json_object_set_new(c.doc, "code", json_integer(c.code));
	json_object_set(c.doc, "problems", c.problems);
	if (as_json) {
		char *text = json_dumps(c.doc, JSON_INDENT(2));
		if (text)
			printf("%s\n", text);
		free(text);
	} else {
		print_screen(&c);
	}
	int code = c.code;
	json_decref(c.problems);
	json_decref(c.doc);
	return code;
}
