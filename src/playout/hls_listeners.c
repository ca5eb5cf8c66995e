/*
 * hls_listeners.c - distinct HLS clients in a time window; see
 * hls_listeners.h.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "playout/hls_listeners.h"

/* FNV-1a; never 0 (0 marks a free entry). */
static uint64_t hash_of(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h ? h : 1;
}

void hls_listeners_init(struct hls_listeners *l)
{
	pthread_mutex_init(&l->lock, NULL);
	l->table = xcalloc(HLS_LISTENERS_MAX, sizeof(*l->table));
	l->used = 0;
}

void hls_listeners_release(struct hls_listeners *l)
{
	free(l->table);
	l->table = NULL;
	pthread_mutex_destroy(&l->lock);
}

void hls_listeners_note(struct hls_listeners *l, const char *client, int64_t now)
{
	if (!client)
		return;
	uint64_t h = hash_of(client);
	pthread_mutex_lock(&l->lock);
	size_t i = (size_t)(h % HLS_LISTENERS_MAX);
	for (size_t probe = 0; probe < HLS_LISTENERS_MAX; probe++) {
		struct hls_listener_entry *e = &l->table[(i + probe) % HLS_LISTENERS_MAX];
		if (e->hash == h) {
			e->seen = now;
			break;
		}
		if (e->hash == 0) {
			if (l->used < HLS_LISTENERS_MAX - 1) {
				e->hash = h;
				e->seen = now;
				l->used++;
			}
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

size_t hls_listeners_count(struct hls_listeners *l, int64_t now, int64_t window_us)
{
	pthread_mutex_lock(&l->lock);
	/* Rebuild the table with the entries still in the window (open
	 * addressing cannot simply empty a slot). */
	struct hls_listener_entry *old = l->table;
	l->table = xcalloc(HLS_LISTENERS_MAX, sizeof(*l->table));
	l->used = 0;
	for (size_t k = 0; k < HLS_LISTENERS_MAX; k++) {
		if (old[k].hash == 0 || old[k].seen <= now - window_us)
			continue;
		size_t i = (size_t)(old[k].hash % HLS_LISTENERS_MAX);
		while (l->table[i].hash != 0)
			i = (i + 1) % HLS_LISTENERS_MAX;
		l->table[i] = old[k];
		l->used++;
	}
	free(old);
	size_t n = l->used;
	pthread_mutex_unlock(&l->lock);
	return n;
}
