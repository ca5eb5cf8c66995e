/*
 * db_template.c - fresh databases copied from one migrated template; see
 * db_template.h.
 */
#include "db_template.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "db/migrations.h"

void db_template_init(struct db_template *t, enum db_backend backend, const char *dir,
		      const struct harness_pg *pg)
{
	memset(t, 0, sizeof(*t));
	t->backend = backend;
	snprintf(t->dir, sizeof(t->dir), "%s", dir ? dir : "");
	t->pg = pg;
	buf_init(&t->image, DB_TEMPLATE_MAX_BYTES);
}

static void set_err(char *err, size_t errlen, const char *what, const char *detail)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, detail);
}

static int migrate_url(const char *url, char *err, size_t errlen)
{
	struct db *db = NULL;
	int r = db_open(&db, url, err, errlen);
	if (r < 0)
		return r;
	r = db_migrate(db, NULL, NULL);
	if (r < 0)
		set_err(err, errlen, "migrating the template", db_errmsg(db));
	db_close(db);
	return r;
}

/* Write the template's bytes as a new file at path. */
static int write_copy(const struct buf *image, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int r = fs_write_all(fd, image->data, image->len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static int fresh_sqlite(struct db_template *t, char *url, size_t size, char *err, size_t errlen)
{
	char path[512];
	int r;
	if (t->image.len == 0) {
		/* Migrated once, closed (the WAL is checkpointed into the file),
		 * then read once: each fresh database is these bytes. */
		char turl[600];
		int n = snprintf(path, sizeof(path), "%s/template.db", t->dir);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -ENAMETOOLONG;
		snprintf(turl, sizeof(turl), "sqlite://%s", path);
		r = migrate_url(turl, err, errlen);
		if (r < 0)
			return r;
		r = fs_read_file(path, &t->image);
		if (r < 0) {
			set_err(err, errlen, "reading the template", strerror(-r));
			return r;
		}
	}
	int n = snprintf(path, sizeof(path), "%s/db-%d.db", t->dir, t->made + 1);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	r = write_copy(&t->image, path);
	if (r < 0) {
		set_err(err, errlen, "copying the template", strerror(-r));
		return r;
	}
	t->made++;
	n = snprintf(url, size, "sqlite://%s", path);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

/* PostgreSQL: the harness's database with its schema emptied and migrated
 * again. (CREATE DATABASE ... TEMPLATE was measured slower here, and far
 * noisier: each copy writes the whole database, some 8 MB, to disk.) */
static int fresh_pg(struct db_template *t, char *url, size_t size, char *err, size_t errlen)
{
	struct db *db = NULL;
	if (!t->pg)
		return -EINVAL;
	int r = db_open(&db, t->pg->url, err, errlen);
	if (r < 0)
		return r;
	r = db_exec_script(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	if (r < 0)
		set_err(err, errlen, "emptying the schema", db_errmsg(db));
	else if ((r = db_migrate(db, NULL, NULL)) < 0)
		set_err(err, errlen, "migrating", db_errmsg(db));
	db_close(db);
	if (r < 0)
		return r;
	t->made++;
	int n = snprintf(url, size, "%s", t->pg->url);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

int db_template_fresh(struct db_template *t, char *url, size_t size, char *err, size_t errlen)
{
	if (t->backend == DB_SQLITE)
		return fresh_sqlite(t, url, size, err, errlen);
	return fresh_pg(t, url, size, err, errlen);
}

void db_template_fini(struct db_template *t)
{
	buf_release(&t->image);
}
