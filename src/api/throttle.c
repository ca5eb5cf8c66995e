/*
 * throttle.c - login throttling; see throttle.h.
 */
#include "api/throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

#define KEY_MAX 160
#define LOCK_MAX_US (INT64_C(3600) * 1000000)

struct slot {
	char key[KEY_MAX];
	unsigned failures;
	int64_t last_at;
	int64_t locked_until;
};

struct throttle {
	pthread_mutex_t lock;
	struct slot *slots;
	unsigned nslots;
	unsigned limit;
	int64_t base_us;
	int64_t window_us;
};

struct throttle *throttle_new(unsigned slots, unsigned limit, int64_t base_us, int64_t window_us)
{
	struct throttle *t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->nslots = slots ? slots : 1;
	t->slots = xcalloc(t->nslots, sizeof(*t->slots));
	t->limit = limit ? limit : 1;
	t->base_us = base_us;
	t->window_us = window_us;
	return t;
}

void throttle_free(struct throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	free(t);
}

static struct slot *find(struct throttle *t, const char *key)
{
	for (unsigned i = 0; i < t->nslots; i++) {
		if (t->slots[i].key[0] && strcmp(t->slots[i].key, key) == 0)
			return &t->slots[i];
	}
	return NULL;
}

/* Forget failures older than the window (unless still locked). */
static void expire(struct throttle *t, struct slot *s, int64_t now)
{
	if (s && s->last_at + t->window_us < now && s->locked_until <= now) {
		s->failures = 0;
		s->locked_until = 0;
	}
}

int64_t throttle_wait(struct throttle *t, const char *key, int64_t now)
{
	pthread_mutex_lock(&t->lock);
	struct slot *s = find(t, key);
	expire(t, s, now);
	int64_t wait = s && s->locked_until > now ? s->locked_until - now : 0;
	pthread_mutex_unlock(&t->lock);
	return wait;
}

void throttle_fail(struct throttle *t, const char *key, int64_t now)
{
	pthread_mutex_lock(&t->lock);
	struct slot *s = find(t, key);
	if (!s) {
		s = &t->slots[0];
		for (unsigned i = 0; i < t->nslots; i++) {
			if (!t->slots[i].key[0]) {
				s = &t->slots[i];
				break;
			}
			if (t->slots[i].last_at < s->last_at && t->slots[i].locked_until <= now)
				s = &t->slots[i];
		}
		memset(s, 0, sizeof(*s));
		snprintf(s->key, sizeof(s->key), "%s", key);
	}
	expire(t, s, now);
	s->failures++;
	s->last_at = now;
	if (s->failures >= t->limit) {
		int64_t lock = t->base_us;
		for (unsigned i = t->limit; i < s->failures && lock < LOCK_MAX_US; i++)
			lock *= 2;
		if (lock > LOCK_MAX_US)
			lock = LOCK_MAX_US;
		s->locked_until = now + lock;
	}
	pthread_mutex_unlock(&t->lock);
}

void throttle_clear(struct throttle *t, const char *key)
{
	pthread_mutex_lock(&t->lock);
	struct slot *s = find(t, key);
	if (s)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&t->lock);
}
