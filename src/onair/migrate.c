/*
 * migrate.c - "onair migrate"; see migrate.h.
 */
#include "onair/migrate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"
#include "db/db.h"
#include "db/migrations.h"

int migrate_run(const struct config *cfg)
{
	const char *url = config_get(cfg, "database.url");
	struct db *db;
	char err[512];
	int r = db_open(&db, url, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "onair: database: %s\n", err[0] ? err : onair_strerror(r));
		return EXIT_FAILURE;
	}
	int64_t from = 0, to = 0;
	r = db_migrate(db, &from, &to);
	int code = EXIT_SUCCESS;
	if (r < 0) {
		fprintf(stderr, "onair: migrating the database failed: %s\n", db_errmsg(db));
		if (to != from)
			fprintf(stderr, "onair: database left at version %" PRId64 " (was %" PRId64
				")\n", to, from);
		code = EXIT_FAILURE;
	} else {
		printf("database at version %" PRId64 " (was %" PRId64 ")\n", to, from);
	}
	db_close(db);
	return code;
}
