/*
 * migrate.h - "onair migrate": bring the database named by database.url
 * to the schema this onair knows.
 */
#ifndef ONAIR_MIGRATE_H
#define ONAIR_MIGRATE_H

#include "common/config.h"

/* Open database.url, apply pending migrations and print "database at
 * version N (was M)". Returns the exit code: 0 done, 1 failed (reason on
 * stderr; a database newer than this onair is a failure). */
int migrate_run(const struct config *cfg);

#include "common/banned.h"
#endif
