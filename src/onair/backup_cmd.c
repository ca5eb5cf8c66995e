/*
 * backup_cmd.c - "onair backup" and "onair restore"; see backup_cmd.h.
 */
#include "onair/backup_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "storage/storage.h"

extern char **environ;

#define FORMAT "onair-backup"
#define FORMAT_VERSION 1
#define SQLITE_NAME "database.sqlite"
#define PGDUMP_NAME "database.pgdump"
#define MANIFEST_NAME "manifest.json"
#define COPY_CHUNK (256 * 1024)

/* The keys of every stored file the database names. */
#define KEYS_SQL \
	"SELECT storage_key FROM files UNION SELECT waveform_path FROM files" \
	" WHERE waveform_path IS NOT NULL UNION SELECT artwork_path FROM files" \
	" WHERE artwork_path IS NOT NULL"

static int usage(const char *verb)
{
	fprintf(stderr, "Usage: onair %s DIR\n", verb);
	return EXIT_USAGE;
}

static const char *sqlite_path(const char *url)
{
	return strncmp(url, "sqlite://", 9) == 0 ? url + 9 : NULL;
}

/* Run argv (a program on PATH) and wait: 0 when it exits 0, else -EIO. */
static int run(const char *const argv[])
{
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
	if (e != 0) {
		fprintf(stderr, "onair: cannot run %s: %s\n", argv[0], strerror(e));
		return -e;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "onair: %s failed\n", argv[0]);
		return -EIO;
	}
	return 0;
}

/* Copy src to dst through dst.tmp, fsync'ed, renamed. 0 or -errno. */
static int copy_file(const char *src, const char *dst)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0) {
		int r = -errno;
		close(in);
		return r;
	}
	char *chunk = malloc(COPY_CHUNK);
	int r = chunk ? 0 : -ENOMEM;
	ssize_t n;
	while (r == 0 && (n = read(in, chunk, COPY_CHUNK)) != 0) {
		if (n < 0)
			r = errno == EINTR ? 0 : -errno;
		else
			r = fs_write_all(out, chunk, (size_t)n);
	}
	free(chunk);
	if (r == 0 && fsync(out) < 0)
		r = -errno;
	close(in);
	if (close(out) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* dst/key's directories, then a hard link to src (a copy across file
 * systems). 0 or -errno. */
static int place(const char *src, const char *dst)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", dst);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		int r = fs_mkdir_p(dir);
		if (r < 0)
			return r;
	}
	if (link(src, dst) == 0 || errno == EEXIST)
		return 0;
	if (errno != EXDEV && errno != EPERM && errno != EMLINK)
		return -errno;
	return copy_file(src, dst);
}

/* The SHA-256 of a file as 64 hex digits. 0 or -errno. */
static int sha256_file(const char *path, char hex[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	unsigned char chunk[65536];
	ssize_t n;
	int r = 0;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		crypto_hash_sha256_update(&st, chunk, (unsigned long long)n);
	}
	close(fd);
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, digest);
	sodium_bin2hex(hex, 65, digest, sizeof(digest));
	return r;
}

/* The keys db names, as a JSON array of strings. */
static int list_keys(struct db *db, json_t **out)
{
	struct db_rows *rows;
	int r = db_query(db, KEYS_SQL, NULL, 0, &rows);
	if (r < 0)
		return r;
	json_t *keys = json_array();
	while (db_rows_next(rows)) {
		const char *k = db_col_text(rows, 0);
		if (k && storage_key_valid(k))
			json_array_append_new(keys, json_string(k));
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		json_decref(keys);
		return r;
	}
	*out = keys;
	return 0;
}

/* Open the database of url, saying why not on stderr. */
static int open_database(const char *url, struct db **db)
{
	char err[512] = "";
	int r = db_open(db, url, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "onair: database: %s\n", err);
	return r;
}

/* The database into dir, and the keys it names (as of the copy). */
static int backup_database(const char *url, const char *dir, const char **kind,
			   int64_t *schema, json_t **keys)
{
	char err[512] = "", path[PATH_MAX];
	struct db *db = NULL;
	int r = open_database(url, &db);
	if (r < 0)
		return r;
	if (db_backend(db) == DB_SQLITE) {
		*kind = "sqlite";
		snprintf(path, sizeof(path), "%s/%s", dir, SQLITE_NAME);
		r = db_backup_to(db, path, err, sizeof(err));
		db_close(db);
		if (r < 0) {
			fprintf(stderr, "onair: %s\n", err[0] ? err : onair_strerror(r));
			return r;
		}
		char copy_url[PATH_MAX + 16];
		snprintf(copy_url, sizeof(copy_url), "sqlite://%s", path);
		if ((r = db_open(&db, copy_url, err, sizeof(err))) < 0) {
			fprintf(stderr, "onair: the copied database: %s\n", err);
			return r;
		}
		r = list_keys(db, keys);
		if (r == 0)
			r = db_query_int(db, "SELECT MAX(version) FROM schema_version", NULL, 0, schema);
		db_close(db);
		return r;
	}
	/* PostgreSQL: list the keys in a snapshot, and have pg_dump copy
	 * that same snapshot. */
	*kind = "postgresql";
	snprintf(path, sizeof(path), "%s/%s", dir, PGDUMP_NAME);
	char snapshot[128] = "";
	struct db_rows *rows = NULL;
	if ((r = db_begin(db)) == 0 &&
	    (r = db_exec(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", NULL, 0)) >= 0 &&
	    (r = db_query(db, "SELECT pg_export_snapshot()", NULL, 0, &rows)) == 0) {
		if (db_rows_next(rows))
			snprintf(snapshot, sizeof(snapshot), "%s", db_col_text(rows, 0));
		db_rows_free(rows);
		r = snapshot[0] ? list_keys(db, keys) : -EIO;
	}
	if (r == 0)
		r = db_query_int(db, "SELECT MAX(version) FROM schema_version", NULL, 0, schema);
	if (r == 0) {
		char file_arg[PATH_MAX + 16], snap_arg[160], db_arg[4096];
		snprintf(file_arg, sizeof(file_arg), "--file=%s", path);
		snprintf(snap_arg, sizeof(snap_arg), "--snapshot=%s", snapshot);
		snprintf(db_arg, sizeof(db_arg), "--dbname=%s", url);
		const char *argv[] = { "pg_dump", "--format=custom", "--no-owner", file_arg,
				       snap_arg, db_arg, NULL };
		r = run(argv);
	} else {
		fprintf(stderr, "onair: database: %s\n", db_errmsg(db));
	}
	db_rollback(db);
	db_close(db);
	return r < 0 ? r : 0;
}

int backup_command(const struct config *cfg, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return usage("backup");
	const char *dir = argv[1];
	const char *url = config_get(cfg, "database.url");
	const char *root = config_get(cfg, "storage.path");
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		fprintf(stderr, "onair: cannot make %s: %s\n", dir, strerror(errno));
		return EXIT_FAILURE;
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_NAME);
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "onair: %s holds a backup already; give an empty directory\n", dir);
		return EXIT_FAILURE;
	}
	struct storage *st = NULL;
	int r = storage_open(&st, root);
	if (r < 0) {
		fprintf(stderr, "onair: storage.path %s: %s\n", root, onair_strerror(r));
		return EXIT_FAILURE;
	}
	int64_t started = time_now_us(), schema = 0;
	const char *kind = NULL;
	json_t *keys = NULL;
	if ((r = backup_database(url, dir, &kind, &schema, &keys)) < 0) {
		storage_close(st);
		return EXIT_FAILURE;
	}
	json_t *media = json_array(), *missing = json_array();
	size_t i;
	json_t *k;
	uint64_t bytes = 0;
	json_array_foreach(keys, i, k) {
		const char *key = json_string_value(k);
		char src[PATH_MAX], dst[PATH_MAX];
		struct stat sb;
		if (storage_path(st, key, src, sizeof(src)) < 0 || stat(src, &sb) < 0) {
			json_array_append_new(missing, json_string(key));
			continue;
		}
		snprintf(dst, sizeof(dst), "%s/media/%s", dir, key);
		if ((r = place(src, dst)) < 0) {
			fprintf(stderr, "onair: %s: %s\n", dst, onair_strerror(r));
			break;
		}
		bytes += (uint64_t)sb.st_size;
		json_array_append_new(media, json_pack("{s:s, s:I}", "key", key, "size",
						       (json_int_t)sb.st_size));
	}
	storage_close(st);
	json_decref(keys);
	if (r < 0) {
		json_decref(media);
		json_decref(missing);
		return EXIT_FAILURE;
	}
	char when[TIME_RFC3339_MAX];
	time_format_rfc3339(started, when, sizeof(when));
	json_t *doc = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:o, s:o}", "format", FORMAT,
				"version", FORMAT_VERSION, "created_at", when, "onair_version",
				ONAIR_VERSION, "database", kind, "schema_version", (json_int_t)schema,
				"media", media, "missing", missing);
	char *text = json_dumps(doc, JSON_INDENT(1));
	r = text ? fs_write_atomic(dir, MANIFEST_NAME, text, strlen(text)) : -ENOMEM;
	free(text);
	size_t nmissing = json_array_size(missing), nmedia = json_array_size(media);
	json_decref(doc);
	if (r < 0) {
		fprintf(stderr, "onair: %s/%s: %s\n", dir, MANIFEST_NAME, onair_strerror(r));
		return EXIT_FAILURE;
	}
	printf("onair: backed up the %s database (schema %" PRId64 ") and %zu media files"
	       " (%.1f MiB) into %s in %.1f s\n", kind, schema, nmedia, (double)bytes / 1048576.0,
	       dir, (double)(time_now_us() - started) / USEC_PER_SEC);
	if (nmissing) {
		fprintf(stderr, "onair: %zu media files the database names are missing from %s"
			" (listed in the manifest)\n", nmissing, root);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

/* Has the target database no tables? 1 empty, 0 not, -errno. */
static int database_empty(struct db *db)
{
	int64_t n = 0;
	int r = db_backend(db) == DB_SQLITE
			? db_query_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
				       NULL, 0, &n)
			: db_query_int(db, "SELECT COUNT(*) FROM information_schema.tables"
				       " WHERE table_schema = current_schema()", NULL, 0, &n);
	return r < 0 ? r : n == 0;
}

static int restore_database(const char *url, const char *dir, const char *kind)
{
	char path[PATH_MAX];
	struct db *db = NULL;
	int r = open_database(url, &db);
	if (r < 0)
		return r;
	bool sqlite = db_backend(db) == DB_SQLITE;
	int empty = database_empty(db);
	db_close(db);
	if (strcmp(kind, sqlite ? "sqlite" : "postgresql") != 0) {
		fprintf(stderr, "onair: the backup holds a %s database; database.url is %s\n", kind,
			sqlite ? "SQLite" : "PostgreSQL");
		return -EINVAL;
	}
	if (empty != 1) {
		fprintf(stderr, "onair: the database of database.url is not empty; restore wants"
			" an empty one (nothing was changed)\n");
		return -ENOTEMPTY;
	}
	if (sqlite) {
		snprintf(path, sizeof(path), "%s/%s", dir, SQLITE_NAME);
		const char *target = sqlite_path(url);
		r = target ? 0 : -EINVAL;
		/* What opening the empty database left must not be applied to
		 * the copy. */
		for (int i = 0; r == 0 && i < 2; i++) {
			char side[PATH_MAX];
			snprintf(side, sizeof(side), "%s%s", target, i ? "-shm" : "-wal");
			if (unlink(side) < 0 && errno != ENOENT)
				r = -errno;
		}
		if (r == 0)
			r = copy_file(path, target);
		if (r < 0)
			fprintf(stderr, "onair: %s to %s: %s\n", path, target ? target : url,
				onair_strerror(r));
		return r;
	}
	char file[PATH_MAX], db_arg[4096];
	snprintf(file, sizeof(file), "%s/%s", dir, PGDUMP_NAME);
	snprintf(db_arg, sizeof(db_arg), "--dbname=%s", url);
	const char *argv[] = { "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
			       db_arg, file, NULL };
	return run(argv);
}

int restore_command(const struct config *cfg, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return usage("restore");
	const char *dir = argv[1];
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST_NAME);
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	const char *kind = doc ? json_string_value(json_object_get(doc, "database")) : NULL;
	json_t *media = doc ? json_object_get(doc, "media") : NULL;
	const char *format = doc ? json_string_value(json_object_get(doc, "format")) : NULL;
	if (!doc || !kind || !json_is_array(media) || !format || strcmp(format, FORMAT) != 0 ||
	    json_integer_value(json_object_get(doc, "version")) != FORMAT_VERSION) {
		fprintf(stderr, "onair: %s is not an onair backup manifest%s%s\n", path,
			doc ? "" : ": ", doc ? "" : jerr.text);
		json_decref(doc);
		return EXIT_FAILURE;
	}
	/* Every media file first: a damaged backup changes nothing. */
	size_t i;
	json_t *m;
	json_array_foreach(media, i, m) {
		const char *key = json_string_value(json_object_get(m, "key"));
		char file[PATH_MAX], hex[65];
		if (!key || !storage_key_valid(key)) {
			fprintf(stderr, "onair: %s: a media entry without a valid key\n", path);
			json_decref(doc);
			return EXIT_FAILURE;
		}
		snprintf(file, sizeof(file), "%s/media/%s", dir, key);
		int r = sha256_file(file, hex);
		/* The key is "ab/cd/<sha256>.ext". */
		if (r < 0 || strncmp(key + 6, hex, 64) != 0) {
			fprintf(stderr, "onair: %s: %s (nothing was changed)\n", file,
				r < 0 ? onair_strerror(r) : "its content does not match its SHA-256");
			json_decref(doc);
			return EXIT_FAILURE;
		}
	}
	int r = restore_database(config_get(cfg, "database.url"), dir, kind);
	if (r < 0) {
		json_decref(doc);
		return EXIT_FAILURE;
	}
	struct storage *st = NULL;
	const char *root = config_get(cfg, "storage.path");
	if ((r = storage_open(&st, root)) < 0) {
		fprintf(stderr, "onair: storage.path %s: %s\n", root, onair_strerror(r));
		json_decref(doc);
		return EXIT_FAILURE;
	}
	json_array_foreach(media, i, m) {
		const char *key = json_string_value(json_object_get(m, "key"));
		char src[PATH_MAX], dst[PATH_MAX];
		snprintf(src, sizeof(src), "%s/media/%s", dir, key);
		if ((r = storage_path(st, key, dst, sizeof(dst))) < 0 || (r = place(src, dst)) < 0) {
			fprintf(stderr, "onair: %s: %s\n", dst, onair_strerror(r));
			break;
		}
	}
	storage_close(st);
	if (r == 0)
		printf("onair: restored the %s database and %zu media files from %s\n", kind,
		       json_array_size(media), dir);
	json_decref(doc);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
