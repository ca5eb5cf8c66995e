/*
 * db_template.h - a fresh, migrated database for each test case.
 *
 * SQLite: the schema is migrated once into dir/template.db, which is read
 * once, and each fresh database is a copy of those bytes (dir/db-N.db):
 * half the time of a migration under the sanitizers. PostgreSQL: the
 * harness's database, its schema dropped and migrated again (an open
 * transaction on it would make that wait). Copying a template database
 * there (CREATE DATABASE ... TEMPLATE, either strategy) measured slower
 * on this kind of machine: each copy writes the whole database to disk.
 */
#ifndef ONAIR_TEST_DB_TEMPLATE_H
#define ONAIR_TEST_DB_TEMPLATE_H

#include <stddef.h>

#include "common/buf.h"
#include "db/db.h"
#include "harness.h"

#define DB_TEMPLATE_MAX_BYTES (16 << 20)	/* the migrated SQLite file */

struct db_template {
	enum db_backend backend;
	char dir[256];			/* SQLite: where the files go */
	const struct harness_pg *pg;	/* PostgreSQL: the server */
	int made;			/* fresh databases made so far */
	struct buf image;		/* SQLite: the migrated template's bytes
					 * (empty until first use) */
};

/* Set t up for backend: SQLite files under dir, or databases on the
 * running server pg (which must outlive t). Nothing is made yet. */
void db_template_init(struct db_template *t, enum db_backend backend, const char *dir,
		      const struct harness_pg *pg);

/* Make a fresh database with the whole schema (the template is migrated
 * on first use) and write its URL into url. 0 or -errno (-ENOSPC when
 * url is too small); err, when not NULL, says what failed. */
int db_template_fresh(struct db_template *t, char *url, size_t size, char *err, size_t errlen);

/* Free what t holds. The databases stay. */
void db_template_fini(struct db_template *t);

#include "common/banned.h"
#endif
