/*
 * schema_v3.sql.h - migration 3: what the worker needs beyond migration
 * 2 (podcast polling settings and tag override, why an episode failed,
 * the station's own podcast feed, import bookkeeping). Included by
 * migrations.c only. Same portable SQL as schema_v1.sql.h.
 */
#ifndef ONAIR_DB_SCHEMA_V3_SQL_H
#define ONAIR_DB_SCHEMA_V3_SQL_H

static const char *const schema_v3[] = {
	/* Podcasts: poll every poll_interval_us; tag_override sets album to
	 * the podcast's title and title to the episode's on import. */
	"ALTER TABLE podcasts ADD COLUMN poll_interval_us BIGINT NOT NULL DEFAULT 3600000000;"
	"ALTER TABLE podcasts ADD COLUMN tag_override BOOLEAN NOT NULL DEFAULT TRUE;"
	"ALTER TABLE podcast_episodes ADD COLUMN failure_reason TEXT;"
	"ALTER TABLE podcast_episodes ADD COLUMN updated_at BIGINT;",

	/* Files: published_at puts a file in the station's own podcast feed
	 * (NULL = not published); source_path is where an import found it,
	 * for the import summary and resuming. */
	"ALTER TABLE files ADD COLUMN published_at BIGINT;"
	"ALTER TABLE files ADD COLUMN source_path TEXT;"
	"CREATE INDEX files_published_idx ON files (published_at);",

	NULL,
};

#endif
