#include "playout/timeline.h"

#include <string.h>

#include "common/timeutil.h"

#define DEFAULT_LEAD (3 * USEC_PER_SEC)
#define DEFAULT_MIN_JOIN (2 * USEC_PER_SEC)
#define DEFAULT_PUSH_LATENCY (150 * USEC_PER_MSEC)
/* Fade-in when joining an item in the middle, to avoid a click. */
#define LATE_JOIN_FADE (300 * USEC_PER_MSEC)

void timeline_init(struct timeline *t)
{
	memset(t, 0, sizeof(*t));
	t->lead = DEFAULT_LEAD;
	t->min_join = DEFAULT_MIN_JOIN;
	t->push_latency = DEFAULT_PUSH_LATENCY;
}

void timeline_reset(struct timeline *t)
{
	memset(t->slots, 0, sizeof(t->slots));
	memset(&t->webstream, 0, sizeof(t->webstream));
	memset(&t->silence, 0, sizeof(t->silence));
}

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

uint64_t timeline_item_fingerprint(const struct proto_item *it)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	int64_t fields[] = { it->kind, it->start, it->end, it->cue_in, it->cue_out,
			     it->fade_in, it->fade_out, it->crossfade };
	h = fnv(h, fields, sizeof(fields));
	h = fnv(h, &it->gain_db, sizeof(it->gain_db));
	if (it->media.hash)
		h = fnv(h, it->media.hash, strlen(it->media.hash));
	if (it->url)
		h = fnv(h, it->url, strlen(it->url));
	return h;
}

/* Index of the item with this id, or -1. Items are few enough (a 48-hour
 * window) and this runs a few times a second, so a linear scan is fine. */
static long find_item(const struct proto_snapshot *s, int64_t id)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < s->n_items; i++)
		if (s->items[i].id == id)
			return (long)i;
	return -1;
}

int timeline_slot_of(const struct timeline *t, int64_t item_id)
{
	for (int k = 0; k < LIQ_SLOTS; k++)
		if (t->slots[k].item_id == item_id)
			return k;
	return -1;
}

void timeline_forget_slot(struct timeline *t, int slot)
{
	if (slot >= 0 && slot < LIQ_SLOTS)
		memset(&t->slots[slot], 0, sizeof(t->slots[slot]));
}

bool timeline_mark_started(struct timeline *t, int slot, int64_t item_id)
{
	if (slot < 0 || slot >= LIQ_SLOTS || t->slots[slot].item_id != item_id || !item_id)
		return false;
	t->slots[slot].started = true;
	return true;
}

static bool was_reported_missing(const struct timeline *t, int64_t id)
{
	for (size_t i = 0; i < t->n_missing; i++)
		if (t->missing[i] == id)
			return true;
	return false;
}

static void remember_missing(struct timeline *t, int64_t id)
{
	if (t->n_missing == TIMELINE_MISSING_MAX) {
		memmove(t->missing, t->missing + 1, sizeof(t->missing[0]) * (TIMELINE_MISSING_MAX - 1));
		t->n_missing--;
	}
	t->missing[t->n_missing++] = id;
}

bool timeline_note_missing(struct timeline *t, int64_t item_id)
{
	if (was_reported_missing(t, item_id))
		return false;
	remember_missing(t, item_id);
	return true;
}

static void forget_missing(struct timeline *t, int64_t id)
{
	for (size_t i = 0; i < t->n_missing; i++) {
		if (t->missing[i] == id) {
			memmove(t->missing + i, t->missing + i + 1,
				sizeof(t->missing[0]) * (t->n_missing - i - 1));
			t->n_missing--;
			return;
		}
	}
}

static int free_slot(const struct timeline *t)
{
	for (int k = 0; k < LIQ_SLOTS; k++)
		if (!t->slots[k].item_id)
			return k;
	return -1;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* Check slots against the snapshot: clear changed ones, free ended ones. */
static size_t plan_slots(struct timeline *t, const struct proto_snapshot *s, int64_t now,
			 struct timeline_action *out, size_t max)
{
	size_t n = 0;
	for (int k = 0; k < LIQ_SLOTS && n < max; k++) {
		struct timeline_slot *sl = &t->slots[k];
		if (!sl->item_id)
			continue;
		long idx = find_item(s, sl->item_id);
		bool changed = idx < 0 ||
			       timeline_item_fingerprint(&s->items[idx]) != sl->fingerprint;
		if (changed || now >= sl->busy_until) {
			out[n++] = (struct timeline_action){
				.kind = changed ? TL_CLEAR : TL_ENDED,
				.slot = k,
				.item_id = sl->item_id,
				.item_index = idx,
				.started = sl->started,
			};
			memset(sl, 0, sizeof(*sl));
		}
	}
	return n;
}

/* Same for a webstream or silence channel. */
static size_t plan_channel(struct timeline_channel *c, enum timeline_action_kind kind,
			   const struct proto_snapshot *s, int64_t now,
			   struct timeline_action *out, size_t max)
{
	if (!c->item_id || max == 0)
		return 0;
	long idx = find_item(s, c->item_id);
	if (idx >= 0 && timeline_item_fingerprint(&s->items[idx]) == c->fingerprint) {
		if (now >= c->end)
			memset(c, 0, sizeof(*c));
		return 0;
	}
	/* Changed or gone: stop it now. */
	out[0] = (struct timeline_action){
		.kind = kind, .slot = -1, .item_id = c->item_id, .item_index = idx,
		.gate = now, .end = now,
	};
	memset(c, 0, sizeof(*c));
	return 1;
}

/* Items reported missing whose end came before their file did could not be
 * played: end them (failed). Items the snapshot no longer has are just
 * forgotten. */
static size_t plan_missed(struct timeline *t, const struct proto_snapshot *s, int64_t now,
			  struct timeline_action *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n_missing && n < max;) {
		int64_t id = t->missing[i];
		long idx = find_item(s, id);
		if (idx >= 0 && now < s->items[idx].end) {
			i++;
			continue;
		}
		if (idx >= 0)
			out[n++] = (struct timeline_action){
				.kind = TL_ENDED, .slot = -1, .item_id = id, .item_index = idx,
			};
		forget_missing(t, id);
	}
	return n;
}

static bool plan_file(struct timeline *t, const struct proto_snapshot *s, size_t i, int64_t now,
		      struct timeline_action *a)
{
	const struct proto_item *it = &s->items[i];
	int k = free_slot(t);
	if (k < 0)
		return false;
	int64_t cue_out = min64(it->cue_out, it->cue_in + (it->end - it->start));
	int64_t gate = it->start, cue_in = it->cue_in, fade_in = it->fade_in;
	bool late = false;
	if (it->start < now + t->push_latency) {
		/* Join in the middle: the item should have been playing for
		 * this long when the audio comes out. */
		gate = now + t->push_latency;
		cue_in = it->cue_in + (gate - it->start);
		fade_in = min64(LATE_JOIN_FADE, fade_in > 0 ? fade_in : LATE_JOIN_FADE);
		late = true;
	}
	if (cue_out <= cue_in || (late && cue_out - cue_in < t->min_join))
		return false;
	*a = (struct timeline_action){
		.kind = TL_PUSH,
		.slot = k,
		.item_id = it->id,
		.item_index = (long)i,
		.gate = gate,
		.cue_in = cue_in,
		.cue_out = cue_out,
		.fade_in = min64(fade_in, cue_out - cue_in),
		.fade_out = min64(it->fade_out, cue_out - cue_in),
		.late = late,
	};
	t->slots[k] = (struct timeline_slot){
		.item_id = it->id,
		.fingerprint = timeline_item_fingerprint(it),
		.gate = gate,
		.busy_until = it->end,
		.scheduled_start = it->start,
		.late = late,
	};
	return true;
}

size_t timeline_plan(struct timeline *t, const struct proto_snapshot *s, int64_t now,
		     timeline_have_fn have, void *userdata, struct timeline_action *out,
		     size_t max)
{
	size_t n = plan_slots(t, s, now, out, max);
	n += plan_channel(&t->webstream, TL_WEBSTREAM, s, now, out + n, max - n);
	n += plan_channel(&t->silence, TL_SILENCE, s, now, out + n, max - n);
	n += plan_missed(t, s, now, out + n, max - n);
	if (!s)
		return n;
	for (size_t i = 0; i < s->n_items && n < max; i++) {
		const struct proto_item *it = &s->items[i];
		if (it->start > now + t->lead)
			break;
		/* Over, or too little left to be worth joining late. */
		if (it->end <= now || (it->start < now && it->end - now < t->min_join))
			continue;
		switch (it->kind) {
		case PROTO_ITEM_FILE:
			if (timeline_slot_of(t, it->id) >= 0)
				break;
			if (!have(userdata, &it->media)) {
				if (!was_reported_missing(t, it->id)) {
					remember_missing(t, it->id);
					out[n++] = (struct timeline_action){
						.kind = TL_MISSING, .slot = -1, .item_id = it->id,
						.item_index = (long)i,
					};
				}
				break;
			}
			forget_missing(t, it->id);
			if (plan_file(t, s, i, now, &out[n]))
				n++;
			break;
		case PROTO_ITEM_WEBSTREAM:
		case PROTO_ITEM_SILENCE: {
			struct timeline_channel *c =
				it->kind == PROTO_ITEM_WEBSTREAM ? &t->webstream : &t->silence;
			if (c->item_id == it->id)
				break;
			*c = (struct timeline_channel){
				.item_id = it->id,
				.fingerprint = timeline_item_fingerprint(it),
				.start = max64(it->start, now),
				.end = it->end,
			};
			out[n++] = (struct timeline_action){
				.kind = it->kind == PROTO_ITEM_WEBSTREAM ? TL_WEBSTREAM : TL_SILENCE,
				.slot = -1, .item_id = it->id, .item_index = (long)i,
				.gate = c->start, .end = c->end, .late = it->start < now,
			};
			break;
		}
		case PROTO_ITEM_LIVE:
			/* The live inputs are always in the chain; nothing to push. */
			break;
		}
	}
	return n;
}
