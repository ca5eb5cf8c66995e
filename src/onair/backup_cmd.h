/*
 * backup_cmd.h - "onair backup DIR" and "onair restore DIR".
 *
 * A backup is a directory: the database (SQLite: database.sqlite, copied
 * with the online backup API while the station runs; PostgreSQL:
 * database.pgdump, pg_dump's custom format), media/<key> for every file of
 * the media store the database names (hard links when the directory is on
 * the same file system as the store, copies otherwise; a key names
 * complete bytes, storage.h, so no half-written file is ever taken), and,
 * written last, manifest.json: {"format": "onair-backup", "version": 1,
 * "created_at", "onair_version", "database": "sqlite"|"postgresql",
 * "schema_version", "media": [{"key", "size"}], "missing": [keys]}. The
 * list of media comes from the copied database itself (PostgreSQL: in the
 * transaction whose snapshot pg_dump exports), so it matches the rows.
 *
 * Restore puts it back into the database.url and storage.path of the
 * settings: the database must be empty (no tables), the backup's backend
 * the same; every media file is checked against the SHA-256 its key names
 * before it is placed. Exit status: 0 done, 1 failed (the message says
 * why; a backup with missing media files is written, and says so, with
 * 1), 2 usage.
 */
#ifndef ONAIR_BACKUP_CMD_H
#define ONAIR_BACKUP_CMD_H

#include "common/config.h"

/* "onair backup DIR": argv[0] is "backup". Returns the exit status. */
int backup_command(const struct config *cfg, int argc, char **argv);
/* "onair restore DIR": argv[0] is "restore". Returns the exit status. */
int restore_command(const struct config *cfg, int argc, char **argv);

#include "common/banned.h"
#endif
