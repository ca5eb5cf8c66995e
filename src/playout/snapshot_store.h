/*
 * snapshot_store.h - the last good schedule snapshot on local disk.
 *
 * Playout keeps the newest valid snapshot it has seen in
 * "<state_dir>/snapshot.json" so it can start and keep playing with
 * nothing else reachable. Writes are atomic (temporary file, fsync,
 * rename, fsync of the directory): after a crash the file is either the
 * old or the new snapshot, never a mix.
 */
#ifndef ONAIR_PLAYOUT_SNAPSHOT_STORE_H
#define ONAIR_PLAYOUT_SNAPSHOT_STORE_H

#include <stddef.h>

#include "protocol/protocol.h"

/* Store the JSON text of a snapshot (already validated by the caller).
 * 0 or -errno. */
int snapshot_store_save(const char *state_dir, const char *json, size_t len);

/* Load and validate the stored snapshot into out. 0, -ENOENT (none yet),
 * -EINVAL (stored file invalid: reason in err), -errno. */
int snapshot_store_load(const char *state_dir, struct proto_snapshot *out,
			struct proto_error *err);

#include "common/banned.h"
#endif
