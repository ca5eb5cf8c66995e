/*
 * schema_v5.sql.h - migration 5: fades of a library file, set on its
 * waveform; an item that plays the file without fades of its own takes
 * them before the station's defaults. Included by migrations.c only.
 * Same portable SQL as schema_v1.sql.h.
 */
#ifndef ONAIR_DB_SCHEMA_V5_SQL_H
#define ONAIR_DB_SCHEMA_V5_SQL_H

static const char *const schema_v5[] = {
	"ALTER TABLE files ADD COLUMN fade_in_us BIGINT"
	" CHECK (fade_in_us IS NULL OR fade_in_us >= 0);"
	"ALTER TABLE files ADD COLUMN fade_out_us BIGINT"
	" CHECK (fade_out_us IS NULL OR fade_out_us >= 0);",
	NULL,
};

#endif
