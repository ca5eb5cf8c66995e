/*
 * schema_v2.sql.h - migration 2: what the scheduling rules need beyond
 * the data model of migration 1 (rebroadcast rules, how an instance and
 * its items were built, smart blocks that fill the show). Included by
 * migrations.c only. Same portable SQL as schema_v1.sql.h.
 */
#ifndef ONAIR_DB_SCHEMA_V2_SQL_H
#define ONAIR_DB_SCHEMA_V2_SQL_H

static const char *const schema_v2[] = {
	/* Rebroadcasts of a show: each instance of the show is replayed
	 * offset_days later (0 = the same local day) at start_time, local
	 * to the show's recurrence time zone, for the same length. */
	"CREATE TABLE show_rebroadcasts ("
	" id {{ID}},"
	" show_id BIGINT NOT NULL REFERENCES shows (id) ON DELETE CASCADE,"
	" offset_days INTEGER NOT NULL CHECK (offset_days >= 0 AND offset_days <= 365),"
	" start_time TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE INDEX show_rebroadcasts_show_idx ON show_rebroadcasts (show_id);",

	/* Instances: a rebroadcast instance names its rule; built_at is when
	 * the builder last filled it (linked copy, rebroadcast copy or
	 * autoplaylist), NULL when it never did. One instance per rule date
	 * and per rebroadcast of an original (NULLs never collide). */
	"ALTER TABLE show_instances ADD COLUMN rebroadcast_rule_id BIGINT"
	" REFERENCES show_rebroadcasts (id) ON DELETE CASCADE;"
	"ALTER TABLE show_instances ADD COLUMN built_at BIGINT;"
	"CREATE UNIQUE INDEX show_instances_rule_date_idx"
	" ON show_instances (recurrence_id, instance_date);"
	"CREATE UNIQUE INDEX show_instances_rebroadcast_idx"
	" ON show_instances (rebroadcast_rule_id, rebroadcast_of);",

	/* Items: origin says who placed them ('manual' by a user; 'linked',
	 * 'rebroadcast', 'autoplaylist' by the builder, which may replace
	 * them); source_smart_block_id, like source_playlist_id, where a
	 * file came from. */
	"ALTER TABLE schedule_items ADD COLUMN origin TEXT NOT NULL DEFAULT 'manual';"
	"ALTER TABLE schedule_items ADD COLUMN source_smart_block_id BIGINT"
	" REFERENCES smart_blocks (id) ON DELETE SET NULL;",

	/* Smart blocks: fill_show makes the limit the time left in the show
	 * where the block is placed (limit_type and limit_value then only
	 * apply outside a show, as in a preview). */
	"ALTER TABLE smart_blocks ADD COLUMN fill_show BOOLEAN NOT NULL DEFAULT FALSE;",

	NULL,
};

#endif
