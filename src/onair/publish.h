/*
 * publish.h - "onair publish-snapshot FILE": validate a schedule snapshot
 * and put it in the queue's key-value bucket, where every playout picks
 * it up. For operators and tests; the message API does the same with the
 * snapshots it compiles.
 */
#ifndef ONAIR_PUBLISH_H
#define ONAIR_PUBLISH_H

#include "common/config.h"

/* Publish the snapshot in file path ("-" for standard input). Returns the
 * exit code: 0 published, 1 invalid or not published (reason on stderr). */
int publish_snapshot_file(const struct config *cfg, const char *path);

#include "common/banned.h"
#endif
