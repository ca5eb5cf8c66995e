/*
 * playout.h - the onair-playout service: everything between the queue and
 * Liquidsoap.
 *
 * One thread runs the loop (every 100 ms): take new snapshots from the
 * queue (or the disk, or HTTP), keep the media cache's want list, run and
 * watch Liquidsoap, read what it reports, and carry out the timeline's
 * actions. Commands from the queue arrive on library threads and take the
 * same lock. See docs/playout.md.
 */
#ifndef ONAIR_PLAYOUT_PLAYOUT_H
#define ONAIR_PLAYOUT_PLAYOUT_H

#include "common/config.h"

/* The settings onair-playout knows (for its config table). */
extern const struct config_key playout_config_keys[];
extern const size_t playout_config_keys_count;

/* Run the service until SIGTERM/SIGINT. Returns the exit code. */
int playout_run(const struct config *cfg, const char *self_path);

/* Print the status the running service last wrote (works with NATS
 * down). Returns the exit code. */
int playout_print_status(const struct config *cfg);

/* Check a live login from the environment (ONAIR_LIVE_INPUT, _USER,
 * _PASSWORD) against the stored snapshot: exit code 0 when allowed, 1
 * when refused. Liquidsoap runs this for every connection attempt. */
int playout_check_live(const struct config *cfg);

/* Read a password from standard input and print its Argon2id hash (the
 * form live-input credentials take in a snapshot). Exit code. */
int playout_hash_password(void);

#include "common/banned.h"
#endif
