/*
 * import_cmd.c - "onair import" and "onair enqueue-analysis"; see
 * import_cmd.h.
 */
#include "onair/import_cmd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/alloc.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/runtime.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "mq/mq.h"
#include "storage/storage.h"
#include "worker/library.h"

#define PROG "onair import"
/* Directories deeper than this below DIR are not walked. */
#define MAX_DEPTH 64
/* Failures listed by name in the summary. */
#define FAILURES_LISTED 20
/* Progress: a terminal line is rewritten this often; elsewhere a line is
 * written every PLAIN_PROGRESS_US. */
#define TTY_PROGRESS_US (200 * USEC_PER_MSEC)
#define PLAIN_PROGRESS_US (10 * USEC_PER_SEC)
#define MAX_JOBS 256
#define REASON_LEN 512

static const char usage_text[] =
	"Usage: onair import [OPTIONS] DIR...\n"
	"\n"
	"Import the audio files under each DIR (recursively) into the library:\n"
	"each is stored in storage.path, added to the database and analysed.\n"
	"Files whose bytes the library has already are skipped (duplicates), so\n"
	"an interrupted import finishes when run again. Audio files are found by\n"
	"extension: mp3 ogg oga opus flac wav m4a aac mp2. Hidden files and\n"
	"symbolic links that lead out of DIR are skipped.\n"
	"\n"
	"Options:\n"
	"  --track-type CODE   give new files this track type (its silence settings\n"
	"                      set the cue points)\n"
	"  --jobs N            files analysed at once (default: number of cores)\n"
	"  --dry-run           only say what would be imported\n"
	"  -h, --help          show this help\n"
	"\n"
	"Exit status: 0 when nothing failed, 1 when a file failed or the import\n"
	"was interrupted, 2 for a usage error.\n";

static const char *const audio_exts[] = {
	"mp3", "ogg", "oga", "opus", "flac", "wav", "m4a", "aac", "mp2",
};

/* ---- a set of strings (content hashes, directories seen) */

struct strset {
	char **slots;
	size_t cap;	/* a power of two */
	size_t count;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603u;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* Add s (copied): true when it was not there. */
static bool strset_add(struct strset *set, const char *s)
{
	if (set->count * 2 >= set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		char **slots = xcalloc(cap, sizeof(*slots));
		for (size_t i = 0; i < set->cap; i++) {
			if (!set->slots[i])
				continue;
			size_t k = str_hash(set->slots[i]) & (cap - 1);
			while (slots[k])
				k = (k + 1) & (cap - 1);
			slots[k] = set->slots[i];
		}
		free(set->slots);
		set->slots = slots;
		set->cap = cap;
	}
	size_t k = str_hash(s) & (set->cap - 1);
	while (set->slots[k]) {
		if (strcmp(set->slots[k], s) == 0)
			return false;
		k = (k + 1) & (set->cap - 1);
	}
	set->slots[k] = xstrdup(s);
	set->count++;
	return true;
}

static void strset_release(struct strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* ---- finding the files */

struct walk {
	char root[PATH_MAX];	/* realpath of the DIR being walked */
	struct strset dirs;	/* "dev:ino" of the directories walked */
	char **paths;
	size_t n, cap;
	size_t skipped_links;	/* links out of DIR or to nowhere */
};

static bool is_audio_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot || dot == name)
		return false;
	for (size_t i = 0; i < sizeof(audio_exts) / sizeof(audio_exts[0]); i++) {
		if (strcasecmp(dot + 1, audio_exts[i]) == 0)
			return true;
	}
	return false;
}

/* True when path (resolved) is root or below it. */
static bool inside(const char *root, const char *path)
{
	size_t n = strlen(root);
	if (strncmp(root, path, n) != 0)
		return false;
	return path[n] == '\0' || path[n] == '/' || (n == 1 && root[0] == '/');
}

static void add_path(struct walk *w, const char *path)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		w->paths = xreallocarray(w->paths, w->cap, sizeof(*w->paths));
	}
	w->paths[w->n++] = xstrdup(path);
}

/* Mark a directory walked: true the first time. */
static bool first_visit(struct walk *w, const struct stat *sb)
{
	char key[64];
	snprintf(key, sizeof(key), "%llu:%llu", (unsigned long long)sb->st_dev,
		 (unsigned long long)sb->st_ino);
	return strset_add(&w->dirs, key);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(struct walk *w, const char *dir, int depth)
{
	if (depth > MAX_DEPTH) {
		fprintf(stderr, PROG ": %s: deeper than %d levels, not walked\n", dir, MAX_DEPTH);
		return;
	}
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, PROG ": cannot read %s: %s\n", dir, strerror(errno));
		return;
	}
	/* Names first, sorted, so that the order does not depend on the file
	 * system. */
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;	/* hidden, and "." and ".." */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path))
			goto next;
		struct stat sb;
		if (lstat(path, &sb) < 0)
			goto next;
		if (S_ISLNK(sb.st_mode)) {
			char target[PATH_MAX];
			if (!realpath(path, target) || !inside(w->root, target) ||
			    stat(target, &sb) < 0) {
				w->skipped_links++;
				goto next;
			}
		}
		if (S_ISDIR(sb.st_mode)) {
			if (first_visit(w, &sb))
				walk_dir(w, path, depth + 1);
		} else if (S_ISREG(sb.st_mode) && is_audio_name(names[i])) {
			add_path(w, path);
		}
next:
		free(names[i]);
	}
	free(names);
}

/* ---- importing */

enum outcome {
	OUT_IMPORTED,		/* stored, added and analysed: ready */
	OUT_DUPLICATE,		/* the library has these bytes */
	OUT_FAILED,		/* not playable, or an error */
	OUT_INTERRUPTED,	/* stopped by a signal: the next run finishes it */
};

struct failure {
	char *path;
	char *reason;
};

struct job {
	const char *db_url;
	struct storage *st;	/* NULL for a dry run */
	int64_t track_type_id;
	bool dry_run;
	char **paths;
	size_t n;
	atomic_bool stop;

	pthread_mutex_t lock;	/* guards what follows */
	size_t next;		/* next path to take */
	size_t done;		/* paths finished (any outcome but interrupted) */
	size_t counts[4];	/* by enum outcome */
	struct failure *failures;
	size_t n_failures, cap_failures;
	struct strset claimed;	/* content hashes taken by this run */
	char current[PATH_MAX];	/* the file started last, for the progress line */
	bool thread_failed;	/* a thread could not open the database */
};

static bool job_stopping(void *opaque)
{
	struct job *j = opaque;
	return atomic_load(&j->stop);
}

/* SHA-256 of the file at path as "sha256:<hex>": 0 or -errno. */
static int hash_file(const char *path, char out[STORAGE_HASH_SIZE])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	crypto_hash_sha256_state sha;
	crypto_hash_sha256_init(&sha);
	unsigned char *chunk = xmalloc(1 << 17);
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, 1 << 17);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&sha, chunk, (unsigned long long)n);
	}
	free(chunk);
	close(fd);
	if (r < 0)
		return r;
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	crypto_hash_sha256_final(&sha, digest);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	snprintf(out, STORAGE_HASH_SIZE, "sha256:%s", hex);
	return 0;
}

/* Claim a content hash for this run: false when another file of the run
 * had the same bytes. */
static bool claim(struct job *j, const char *hash)
{
	pthread_mutex_lock(&j->lock);
	bool first = strset_add(&j->claimed, hash);
	pthread_mutex_unlock(&j->lock);
	return first;
}

/* Import one file with the thread's db. The reason of a failure into
 * reason. */
static enum outcome import_one(struct job *j, struct db *db, const char *path, char *reason,
			       size_t rlen)
{
	char hash[STORAGE_HASH_SIZE];
	int r = hash_file(path, hash);
	if (r < 0) {
		snprintf(reason, rlen, "cannot read it: %s", onair_strerror(r));
		return OUT_FAILED;
	}
	if (!claim(j, hash))
		return OUT_DUPLICATE;

	struct library_file_info info;
	int64_t file_id = 0;
	r = library_find_file(db, hash, &info);
	if (r == 0) {
		/* Added by an earlier run that did not get to analyse it:
		 * finish it now. Anything else is a duplicate. */
		if (strcmp(info.status, "pending") != 0 || !info.imported)
			return OUT_DUPLICATE;
		if (j->dry_run)
			return OUT_IMPORTED;
		file_id = info.id;
	} else if (r != -ENOENT) {
		snprintf(reason, rlen, "database: %s", onair_strerror(r));
		return OUT_FAILED;
	} else if (j->dry_run) {
		return OUT_IMPORTED;
	} else {
		char key[STORAGE_KEY_SIZE], stored_hash[STORAGE_HASH_SIZE];
		int64_t size = 0;
		const char *dot = strrchr(path, '.');
		const char *ext = dot ? dot + 1 : NULL;
		r = storage_put_file(j->st, path, ext, 0, key, stored_hash, &size);
		if (r < 0) {
			snprintf(reason, rlen, "cannot store it: %s", onair_strerror(r));
			return OUT_FAILED;
		}
		/* The file changed since it was hashed: the stored bytes count. */
		if (strcmp(stored_hash, hash) != 0 && !claim(j, stored_hash))
			return OUT_DUPLICATE;
		bool existed = false;
		r = library_add_file(db, stored_hash, size, library_mime_for_ext(ext), key, 0,
				     j->track_type_id, path, time_now_us(), &file_id, &existed);
		if (r < 0) {
			snprintf(reason, rlen, "cannot add it to the library: %s",
				 onair_strerror(r));
			return OUT_FAILED;
		}
		if (existed)
			return OUT_DUPLICATE;	/* another import or an upload, meanwhile */
	}

	struct library_analyze_options o = {
		.cancel = job_stopping,
		.cancel_opaque = j,
	};
	bool playable = false;
	r = library_analyze_file(db, j->st, file_id, &o, &playable, reason, rlen);
	if (r == -ECANCELED)
		return OUT_INTERRUPTED;
	if (r == -ENOENT) {
		snprintf(reason, rlen, "its library row was deleted meanwhile");
		return OUT_FAILED;
	}
	if (r < 0)
		return OUT_FAILED;	/* left pending: the next run tries again */
	return playable ? OUT_IMPORTED : OUT_FAILED;
}

static void record(struct job *j, const char *path, enum outcome o, const char *reason)
{
	pthread_mutex_lock(&j->lock);
	j->counts[o]++;
	if (o != OUT_INTERRUPTED)
		j->done++;
	if (o == OUT_FAILED) {
		if (j->n_failures == j->cap_failures) {
			j->cap_failures = j->cap_failures ? j->cap_failures * 2 : 16;
			j->failures = xreallocarray(j->failures, j->cap_failures,
						    sizeof(*j->failures));
		}
		j->failures[j->n_failures].path = xstrdup(path);
		j->failures[j->n_failures].reason = xstrdup(reason[0] ? reason : "failed");
		j->n_failures++;
	}
	pthread_mutex_unlock(&j->lock);
}

static void *import_thread(void *arg)
{
	struct job *j = arg;
	struct db *db = NULL;
	char err[256];
	int r = db_open(&db, j->db_url, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, PROG ": cannot open the database: %s\n", err);
		pthread_mutex_lock(&j->lock);
		j->thread_failed = true;
		pthread_mutex_unlock(&j->lock);
		return NULL;
	}
	while (!atomic_load(&j->stop)) {
		pthread_mutex_lock(&j->lock);
		if (j->next >= j->n) {
			pthread_mutex_unlock(&j->lock);
			break;
		}
		const char *path = j->paths[j->next++];
		snprintf(j->current, sizeof(j->current), "%s", path);
		pthread_mutex_unlock(&j->lock);

		char reason[REASON_LEN] = "";
		enum outcome o = import_one(j, db, path, reason, sizeof(reason));
		record(j, path, o, reason);
	}
	db_close(db);
	return NULL;
}

/* ---- progress and summary */

/* "1:02:03" or "2:03". */
static void format_duration(int64_t s, char *out, size_t size)
{
	if (s >= 3600)
		snprintf(out, size, "%lld:%02lld:%02lld", (long long)(s / 3600),
			 (long long)(s / 60 % 60), (long long)(s % 60));
	else
		snprintf(out, size, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

/* The base name of path, cut to at most max bytes (at a UTF-8 character
 * boundary, with "..." when cut). */
static void short_name(const char *path, char *out, size_t max)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n <= max) {
		snprintf(out, max + 1, "%s", base);
		return;
	}
	size_t keep = max - 3;
	while (keep > 0 && ((unsigned char)base[keep] & 0xC0) == 0x80)
		keep--;
	snprintf(out, max + 1, "%.*s...", (int)keep, base);
}

static void progress(struct job *j, bool tty, int64_t started)
{
	pthread_mutex_lock(&j->lock);
	size_t done = j->done;
	char name[48];
	short_name(j->current, name, 40);
	pthread_mutex_unlock(&j->lock);
	double secs = (double)(time_mono_us() - started) / USEC_PER_SEC;
	double rate = secs > 0 ? (double)done / secs : 0;
	char eta[32] = "?";
	if (rate > 0)
		format_duration((int64_t)((double)(j->n - done) / rate), eta, sizeof(eta));
	if (tty)
		fprintf(stderr, "\r%zu/%zu  %.1f files/s  ETA %s  %s\033[K", done, j->n, rate, eta,
			name);
	else
		fprintf(stderr, PROG ": %zu/%zu files, %.1f files/s, ETA %s\n", done, j->n, rate,
			eta);
	fflush(stderr);
}

static void summary(struct job *j, bool interrupted)
{
	size_t not_done = j->n - j->done;
	if (j->dry_run)
		printf("would import %zu, duplicates %zu, failed %zu", j->counts[OUT_IMPORTED],
		       j->counts[OUT_DUPLICATE], j->counts[OUT_FAILED]);
	else
		printf("imported %zu, duplicates %zu, failed %zu", j->counts[OUT_IMPORTED],
		       j->counts[OUT_DUPLICATE], j->counts[OUT_FAILED]);
	if (not_done)
		printf(", not done %zu", not_done);
	printf(" (of %zu files)\n", j->n);
	for (size_t i = 0; i < j->n_failures && i < FAILURES_LISTED; i++)
		printf("failed: %s: %s\n", j->failures[i].path, j->failures[i].reason);
	if (j->n_failures > FAILURES_LISTED)
		printf("... and %zu more failed\n", j->n_failures - FAILURES_LISTED);
	if (interrupted)
		printf("interrupted: run the same command again to finish\n");
}

/* ---- the commands */

/* The id of track type code: 0, or -ENOENT / -errno (reported). */
static int find_track_type(struct db *db, const char *code, int64_t *id)
{
	int r = db_query_int(db, "SELECT id FROM track_types WHERE code = $1",
			     DB_PARAMS(DB_T(code)), id);
	if (r == -ENOENT)
		fprintf(stderr, PROG ": unknown track type '%s'\n", code);
	else if (r < 0)
		fprintf(stderr, PROG ": reading track types: %s (%s)\n", onair_strerror(r),
			db_errmsg(db));
	return r;
}

enum { OPT_TRACK_TYPE = 256, OPT_JOBS, OPT_DRY_RUN };

int import_command(const struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "track-type", required_argument, NULL, OPT_TRACK_TYPE },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *track_type = NULL;
	long jobs = 0;
	bool dry_run = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_TRACK_TYPE:
			track_type = optarg;
			break;
		case OPT_JOBS: {
			char *end;
			errno = 0;
			jobs = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || jobs < 1 || jobs > MAX_JOBS) {
				fprintf(stderr, PROG ": --jobs must be 1..%d\n", MAX_JOBS);
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_DRY_RUN:
			dry_run = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_SUCCESS;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": no directory given\n%s", usage_text);
		return EXIT_USAGE;
	}
	if (jobs == 0) {
		jobs = sysconf(_SC_NPROCESSORS_ONLN);
		if (jobs < 1)
			jobs = 1;
		if (jobs > MAX_JOBS)
			jobs = MAX_JOBS;
	}
	if (sodium_init() < 0)
		return EXIT_FAILURE;

	/* The directories, before anything is opened. */
	struct walk w;
	memset(&w, 0, sizeof(w));
	int code = EXIT_USAGE;
	for (int i = optind; i < argc; i++) {
		struct stat sb;
		if (!realpath(argv[i], w.root) || stat(w.root, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
			fprintf(stderr, PROG ": %s: not a directory\n", argv[i]);
			goto out_free_walk;
		}
	}

	const char *db_url = config_get(cfg, "database.url");
	struct db *db = NULL;
	char err[256];
	int r = db_open(&db, db_url, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, PROG ": cannot open the database: %s\n", err);
		code = r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
		goto out_free_walk;
	}
	int64_t track_type_id = 0;
	if (track_type) {
		r = find_track_type(db, track_type, &track_type_id);
		if (r < 0) {
			code = r == -ENOENT ? EXIT_USAGE : EXIT_FAILURE;
			goto out_close_db;
		}
	}
	struct storage *st = NULL;
	if (!dry_run) {
		const char *root = config_get(cfg, "storage.path");
		r = storage_open(&st, root);
		if (r < 0) {
			fprintf(stderr, PROG ": storage.path %s: %s\n", root, onair_strerror(r));
			code = EXIT_FAILURE;
			goto out_close_db;
		}
	}

	for (int i = optind; i < argc; i++) {
		if (!realpath(argv[i], w.root))
			continue;
		struct stat sb;
		if (stat(w.root, &sb) == 0 && first_visit(&w, &sb))
			walk_dir(&w, w.root, 0);
	}
	if (w.skipped_links)
		fprintf(stderr, PROG ": skipped %zu symbolic links that lead out of the "
			"directories or nowhere\n", w.skipped_links);

	struct job j;
	memset(&j, 0, sizeof(j));
	j.db_url = db_url;
	j.st = st;
	j.track_type_id = track_type_id;
	j.dry_run = dry_run;
	j.paths = w.paths;
	j.n = w.n;
	atomic_init(&j.stop, false);
	pthread_mutex_init(&j.lock, NULL);

	if ((size_t)jobs > j.n)
		jobs = j.n > 0 ? (long)j.n : 1;
	pthread_t *threads = xcalloc((size_t)jobs, sizeof(*threads));
	bool *started = xcalloc((size_t)jobs, sizeof(*started));
	for (long i = 0; i < jobs; i++)
		started[i] = pthread_create(&threads[i], NULL, import_thread, &j) == 0;

	bool tty = isatty(STDERR_FILENO);
	int64_t t0 = time_mono_us(), last_plain = t0;
	bool interrupted = false;
	for (;;) {
		pthread_mutex_lock(&j.lock);
		bool finished = j.done >= j.n || j.thread_failed;
		pthread_mutex_unlock(&j.lock);
		if (finished) {
			if (j.thread_failed)
				atomic_store(&j.stop, true);
			break;
		}
		int sig = runtime_wait_signal(TTY_PROGRESS_US);
		if (sig > 0) {
			interrupted = true;
			atomic_store(&j.stop, true);
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, PROG ": stopping on %s\n", strsignal(sig));
			break;
		}
		if (tty) {
			progress(&j, true, t0);
		} else if (time_mono_us() - last_plain >= PLAIN_PROGRESS_US) {
			progress(&j, false, t0);
			last_plain = time_mono_us();
		}
	}
	for (long i = 0; i < jobs; i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
	}
	if (tty && !interrupted && j.n > 0) {
		progress(&j, true, t0);
		fputc('\n', stderr);
	}
	if (j.thread_failed)
		interrupted = true;
	summary(&j, interrupted);
	code = j.counts[OUT_FAILED] == 0 && j.done == j.n && !interrupted ? EXIT_SUCCESS
									 : EXIT_FAILURE;

	for (size_t i = 0; i < j.n_failures; i++) {
		free(j.failures[i].path);
		free(j.failures[i].reason);
	}
	free(j.failures);
	strset_release(&j.claimed);
	pthread_mutex_destroy(&j.lock);
	free(threads);
	free(started);
	storage_close(st);
out_close_db:
	db_close(db);
out_free_walk:
	for (size_t i = 0; i < w.n; i++)
		free(w.paths[i]);
	free(w.paths);
	strset_release(&w.dirs);
	return code;
}

int enqueue_analysis_command(const struct config *cfg, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs("Usage: onair enqueue-analysis FILE_ID...\n"
		      "\n"
		      "Queue the analysis of library files for onair worker and print the\n"
		      "task ids, one per line.\n",
		      argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_SUCCESS;
	}
	int64_t *ids = xcalloc((size_t)argc, sizeof(*ids));
	int code = EXIT_USAGE;
	for (int i = 1; i < argc; i++) {
		char *end;
		errno = 0;
		long long v = strtoll(argv[i], &end, 10);
		if (errno || end == argv[i] || *end || v <= 0) {
			fprintf(stderr, "onair enqueue-analysis: '%s' is not a file id\n", argv[i]);
			goto out_free_ids;
		}
		ids[i] = v;
	}
	struct db *db = NULL;
	char err[256];
	int r = db_open(&db, config_get(cfg, "database.url"), err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "onair enqueue-analysis: cannot open the database: %s\n", err);
		code = EXIT_FAILURE;
		goto out_free_ids;
	}
	struct mq_options mo = { .name = "onair-enqueue" };
	struct mq *mq = NULL;
	code = EXIT_FAILURE;
	r = mq_options_from_config(&mo, cfg);
	if (r == 0)
		r = mq_connect(&mq, &mo);
	if (r == 0)
		r = mq_wait_connected(mq, 10 * USEC_PER_SEC);
	if (r == 0)
		r = mq_ensure_topology(mq);
	if (r < 0) {
		fprintf(stderr, "onair enqueue-analysis: message queue at %s: %s\n", mo.url,
			onair_strerror(r));
		goto out_close;
	}
	code = EXIT_SUCCESS;
	for (int i = 1; i < argc; i++) {
		char task_id[LIBRARY_TASK_ID_SIZE];
		r = library_enqueue_analysis(db, mq, ids[i], time_now_us(), task_id);
		if (r < 0) {
			const char *why = r == -ENOENT ? "no such file" : onair_strerror(r);
			fprintf(stderr, "onair enqueue-analysis: file %lld: %s\n",
				(long long)ids[i], why);
			code = EXIT_FAILURE;
			continue;
		}
		printf("%s\n", task_id);
	}
	fflush(stdout);
out_close:
	mq_close(mq);
	db_close(db);
out_free_ids:
	free(ids);
	return code;
}
