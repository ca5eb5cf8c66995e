/*
 * hls_listeners.h - who listens to the HLS output: the distinct client
 * addresses that fetched a segment within the last window (a player
 * fetches one every few seconds while it plays). Reported in the
 * heartbeat event as hls_listeners.
 *
 * Addresses are kept as 64-bit hashes with the time they were last seen,
 * in a fixed table of HLS_LISTENERS_MAX entries: beyond that many
 * listeners at once, the count stays at HLS_LISTENERS_MAX. Two addresses
 * with the same hash count once (a chance of about n^2 / 2^65).
 *
 * Thread-safe: hls_listeners_note is called from the HTTP server's
 * threads, the count from the play loop.
 */
#ifndef ONAIR_PLAYOUT_HLS_LISTENERS_H
#define ONAIR_PLAYOUT_HLS_LISTENERS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define HLS_LISTENERS_MAX 65536u

struct hls_listeners {
	pthread_mutex_t lock;
	struct hls_listener_entry {
		uint64_t hash;	/* 0 = free */
		int64_t seen;	/* monotonic us */
	} *table;		/* HLS_LISTENERS_MAX entries */
	size_t used;
};

/* Set up l (allocates the table). */
void hls_listeners_init(struct hls_listeners *l);
/* Free what l holds. */
void hls_listeners_release(struct hls_listeners *l);
/* client (an address as text) fetched a segment at now (monotonic us). */
void hls_listeners_note(struct hls_listeners *l, const char *client, int64_t now);
/* The clients seen in (now - window_us, now]; forgets the older ones. */
size_t hls_listeners_count(struct hls_listeners *l, int64_t now, int64_t window_us);

#include "common/banned.h"
#endif
