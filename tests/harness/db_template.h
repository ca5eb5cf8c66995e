/*
 * db_template.h - fresh, migrated databases for tests, made from one
 * migrated template instead of migrating every time.
 *
 * SQLite: the schema is migrated once into dir/template.db, and each
 * fresh database is a byte copy of it (dir/db-N.db): half the time of a
 * migration under the sanitizers. PostgreSQL: the harness's database,
 * its schema dropped and migrated again; copying a template database
 * (CREATE DATABASE ... TEMPLATE, either strategy) measured slower here, as
 * each copy writes the whole database to disk. Every earlier connection
 * to it must be closed first.
 */
#ifndef ONAIR_TEST_DB_TEMPLATE_H
#define ONAIR_TEST_DB_TEMPLATE_H

#include <stddef.h>

#include "db/db.h"
#include "harness.h"

struct db_template {
	enum db_backend backend;
	char dir[256];			/* SQLite: where the files go */
	const struct harness_pg *pg;	/* PostgreSQL: the server */
	int made;			/* fresh databases made so far */
	int ready;			/* the template is migrated */
};

/* Set t up for backend: SQLite files under dir, or databases on the
 * running server pg (which must outlive t). Nothing is made yet. */
void db_template_init(struct db_template *t, enum db_backend backend, const char *dir,
		      const struct harness_pg *pg);

/* Make a fresh database with the whole schema (the template is migrated
 * on first use) and write its URL into url. 0 or -errno (-ENOSPC when
 * url is too small); err, when not NULL, says what failed. */
int db_template_fresh(struct db_template *t, char *url, size_t size, char *err, size_t errlen);

/* Done with t. The databases stay. */
void db_template_fini(struct db_template *t);

#include "common/banned.h"
#endif
