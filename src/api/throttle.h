/*
 * throttle.h - login throttling per account and per client address.
 *
 * Each key ("user:ann", "addr:192.0.2.1") counts failed logins. Once a
 * key has failed `limit` times, it is locked: the lock lasts base_us
 * and doubles with each further failure (up to an hour), and a failure
 * older than the window is forgotten. A successful login clears the
 * account's key (not the address's). The table is bounded: when full,
 * the entry that changed longest ago is reused. Thread-safe.
 */
#ifndef ONAIR_API_THROTTLE_H
#define ONAIR_API_THROTTLE_H

#include <stdint.h>

struct throttle;

/* A table of at most slots keys; limit failures before a lock of base_us
 * (then doubling), failures forgotten after window_us. */
struct throttle *throttle_new(unsigned slots, unsigned limit, int64_t base_us, int64_t window_us);
void throttle_free(struct throttle *t);

/* 0 when key may try now; else the microseconds until it may. */
int64_t throttle_wait(struct throttle *t, const char *key, int64_t now);
/* Record a failure of key at now. */
void throttle_fail(struct throttle *t, const char *key, int64_t now);
/* Forget key's failures. */
void throttle_clear(struct throttle *t, const char *key);

#include "common/banned.h"
#endif
