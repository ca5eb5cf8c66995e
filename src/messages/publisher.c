/*
 * publisher.c - compile and publish the schedule when it changes; see
 * publisher.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/timeutil.h"
#include "messages/publisher.h"
#include "protocol/protocol.h"
#include "station/build.h"
#include "station/compile.h"
#include "station/instances.h"

#define DEFAULT_WINDOW (INT64_C(48) * 3600 * 1000000)
#define DEFAULT_STEP (INT64_C(3600) * 1000000)
/* How far before the window instances are made: a show that started up
 * to this long ago and is still on air is in the snapshot even on a
 * station's first publication. */
#define PUBLISHER_LOOKBACK_US (INT64_C(48) * 3600 * 1000000)

void publisher_init(struct publisher *p, const struct publisher_options *o)
{
	memset(p, 0, sizeof(*p));
	if (o)
		p->o = *o;
	if (p->o.window_us <= 0)
		p->o.window_us = DEFAULT_WINDOW;
	if (p->o.step_us <= 0)
		p->o.step_us = DEFAULT_STEP;
	if (p->o.seed == 0)
		p->o.seed = (uint64_t)time_now_us();
	buf_init(&p->last, PROTO_MESSAGE_MAX);
}

void publisher_release(struct publisher *p)
{
	buf_release(&p->last);
	memset(p, 0, sizeof(*p));
}

/* The encoding of s with its revision and generation time neutral. */
static int canonical(struct proto_snapshot *s, struct buf *out)
{
	uint64_t rev = s->revision;
	int64_t at = s->generated_at;
	s->revision = 1;
	s->generated_at = 0;
	buf_reset(out);
	int r = proto_snapshot_encode(s, out);
	s->revision = rev;
	s->generated_at = at;
	return r;
}

int publisher_load(struct publisher *p, struct mq *mq)
{
	struct buf text;
	buf_init(&text, PROTO_MESSAGE_MAX);
	uint64_t kv_rev;
	int r = mq_kv_get(mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, &text, &kv_rev);
	if (r < 0)
		goto out_release;
	p->kv_rev = kv_rev;
	struct proto_snapshot s;
	struct proto_error perr;
	r = proto_snapshot_decode(text.data, text.len, &s, &perr);
	if (r < 0) {
		/* Not ours to read: publish over it, with a revision above. */
		r = 0;
		p->known = false;
		goto out_release;
	}
	if (s.revision > p->revision)
		p->revision = s.revision;
	p->known = canonical(&s, &p->last) == 0;
	proto_snapshot_release(&s);
out_release:
	buf_release(&text);
	return r;
}

static int fail(struct publisher_result *out, int r, const char *what, const char *detail)
{
	snprintf(out->err, sizeof(out->err), "%s: %.200s", what,
		 detail && *detail ? detail : onair_strerror(r));
	return r;
}

int publisher_pass(struct publisher *p, struct db *db, struct mq *mq, int64_t now,
		   struct publisher_result *out)
{
	memset(out, 0, sizeof(*out));
	int64_t t0 = time_mono_us();
	int64_t from = now - time_floor_mod(now, p->o.step_us);
	int64_t to = from + p->o.window_us;
	out->window_start = from;
	out->window_end = to;
	out->revision = p->revision;

	/* Instances are made for the occurrences that start in the range:
	 * reach back far enough to make the one on air now as well. */
	struct instances_report ir;
	int r = instances_materialise(db, from - PUBLISHER_LOOKBACK_US, to, now, p->o.zoneinfo_dir,
				      &ir);
	if (r < 0)
		return fail(out, r, "making the show instances", db_errmsg(db));
	instances_report_release(&ir);
	struct build_report br;
	r = build_window(db, from, to, now, p->o.seed ^ (uint64_t)from, &br);
	if (r < 0)
		return fail(out, r, "building the shows", db_errmsg(db));

	/* The snapshot must fit in one message of the queue: when it does
	 * not, the window is shortened (the compiler ends it where the first
	 * item left out starts) until it does. */
	size_t max_bytes = mq_max_payload(mq);
	if (max_bytes > PROTO_MESSAGE_MAX)
		max_bytes = PROTO_MESSAGE_MAX;
	struct proto_snapshot s;
	struct buf now_text, wire;
	buf_init(&now_text, PROTO_MESSAGE_MAX);
	buf_init(&wire, PROTO_MESSAGE_MAX);
	size_t max_items = 0;
	for (int attempt = 0;; attempt++) {
		struct compile_report cr;
		struct compile_options co = { .from = from, .to = to, .now = now,
					      .revision = p->revision + 1, .max_items = max_items };
		char err[256] = "";
		r = compile_snapshot(db, &co, &s, &cr, err, sizeof(err));
		if (r < 0) {
			fail(out, r, "compiling the schedule", err);
			buf_release(&now_text);
			buf_release(&wire);
			return r;
		}
		out->items = s.n_items;
		out->gaps = cr.n_gaps;
		out->window_end = s.window_end;
		compile_report_release(&cr);
		r = canonical(&s, &now_text);
		if (r == 0 && now_text.len + 64 <= max_bytes)
			break;
		if (s.n_items < 2 || attempt == 8) {
			fail(out, -EMSGSIZE, "encoding the schedule",
			     "it does not fit in a message of the queue even for a short window");
			r = -EMSGSIZE;
			goto out_release;
		}
		/* Keep the share of items that fits, with some room. */
		double share = r == 0 ? (double)max_bytes / (double)(now_text.len + 64) : 0.5;
		max_items = (size_t)((double)s.n_items * share * 0.9);
		if (max_items < 1)
			max_items = 1;
		out->shortened = true;
		proto_snapshot_release(&s);
	}
	if (p->known && now_text.len == p->last.len &&
	    memcmp(now_text.data, p->last.data, now_text.len) == 0)
		goto out_release;	/* unchanged */
	if ((r = proto_snapshot_encode(&s, &wire)) < 0) {
		fail(out, r, "encoding the schedule", NULL);
		goto out_release;
	}
	/* Fenced: only over the revision this publisher saw last, so that
	 * an instance that lost the lead without knowing it yet cannot write
	 * over the new leader's schedule. */
	uint64_t kv_rev = 0;
	r = p->kv_rev ? mq_kv_update(mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, wire.data, wire.len,
				     p->kv_rev, &kv_rev)
		      : mq_kv_create(mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, wire.data, wire.len,
				     &kv_rev);
	if (r == -ESTALE || r == -EEXIST) {
		/* Someone else published: read it, and go on from there. */
		publisher_load(p, mq);
		fail(out, -ESTALE, "publishing the schedule",
		     "another instance published first; read its revision");
		r = -ESTALE;
		goto out_release;
	}
	if (r < 0) {
		fail(out, r, "publishing the schedule", NULL);
		goto out_release;
	}
	p->kv_rev = kv_rev;
	p->revision = s.revision;
	out->revision = s.revision;
	out->published = true;
	buf_reset(&p->last);
	r = buf_append(&p->last, now_text.data, now_text.len);
	p->known = r == 0;
out_release:
	buf_release(&now_text);
	buf_release(&wire);
	proto_snapshot_release(&s);
	out->took_us = time_mono_us() - t0;
	return r < 0 ? r : 0;
}
