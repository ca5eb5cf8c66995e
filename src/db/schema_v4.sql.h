/*
 * schema_v4.sql.h - migration 4: the as-run log as one log for the
 * station, with every playout event kept per instance beside it.
 * Included by migrations.c only. Same portable SQL as schema_v1.sql.h.
 */
#ifndef ONAIR_DB_SCHEMA_V4_SQL_H
#define ONAIR_DB_SCHEMA_V4_SQL_H

static const char *const schema_v4[] = {
	/* Every event of every playout instance, once: (instance, seq) is
	 * the event's identity, so a redelivered event is recognised and
	 * applied once. kind, source and reason are the protocol's names;
	 * body is the event as received (JSON), for diagnosis. */
	"CREATE TABLE playout_events ("
	" instance TEXT NOT NULL,"
	" seq BIGINT NOT NULL,"
	" at BIGINT NOT NULL,"
	" kind TEXT NOT NULL,"
	" item_id BIGINT,"
	" source TEXT,"
	" reason TEXT,"
	" snapshot_revision BIGINT,"
	" body TEXT NOT NULL,"
	" received_at BIGINT NOT NULL,"
	" PRIMARY KEY (instance, seq));"
	"CREATE INDEX playout_events_at_idx ON playout_events (at);"
	"CREATE INDEX playout_events_item_idx ON playout_events (item_id);",

	/* One as-run row per schedule item, whichever instance reported it
	 * first (playout_instance, event_seq say which). Rows without a
	 * schedule item stay possible (NULLs never collide). */
	"CREATE UNIQUE INDEX as_run_one_per_item_idx ON as_run (schedule_item_id);",

	/* Live sessions: one per (instance, input) connection, closed by the
	 * disconnection; the event that opened it identifies it. */
	"ALTER TABLE live_sessions ADD COLUMN event_seq BIGINT;"
	"CREATE UNIQUE INDEX live_sessions_event_idx ON live_sessions (playout_instance, event_seq);",

	NULL,
};

#endif
