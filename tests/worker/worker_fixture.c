/*
 * worker_fixture.c - databases, stores, servers, fixtures and processes
 * for the worker and import tests; see worker_fixture.h.
 */
#include "worker_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "db_template.h"
#include "worker/library.h"

static const char *onair;
static enum db_backend backend;
static struct harness_pg pg;
static char group[128];
static struct db_template templ;
static char templ_dir[256];

#define MAX_CHILDREN 64
static pid_t children[MAX_CHILDREN];

static void kill_children(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] > 0)
			kill(-children[i], SIGKILL);
	}
}

int wfx_init(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "sqlite") != 0 && strcmp(argv[2], "postgres") != 0)) {
		fprintf(stderr, "usage: %s ONAIR sqlite|postgres\n", argv[0]);
		return -1;
	}
	onair = argv[1];
	backend = strcmp(argv[2], "sqlite") == 0 ? DB_SQLITE : DB_POSTGRES;
	atexit(kill_children);
	if (backend == DB_POSTGRES && harness_pg_start(&pg) < 0)
		return -1;
	if (harness_tmpdir(templ_dir, sizeof(templ_dir)) < 0)
		return -1;
	db_template_init(&templ, backend, templ_dir, &pg);
	return 0;
}

void wfx_fini(void)
{
	db_template_fini(&templ);
	if (backend == DB_POSTGRES)
		harness_pg_stop(&pg);
}

const char *wfx_group(const char *name)
{
	snprintf(group, sizeof(group), "%.100s-%s", name,
		 backend == DB_SQLITE ? "sqlite" : "postgres");
	return group;
}

const char *wfx_onair(void)
{
	return onair;
}

static void sleep_us(int64_t us)
{
	struct timespec ts = { (time_t)(us / USEC_PER_SEC), (long)(us % USEC_PER_SEC) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void wfx_setup(struct wfx *w, bool with_nats)
{
	memset(w, 0, sizeof(*w));
	if (harness_tmpdir(w->dir, sizeof(w->dir)) < 0)
		fail_msg("no temporary directory");
	char err[256] = "";
	int r = db_template_fresh(&templ, w->db_url, sizeof(w->db_url), err, sizeof(err));
	if (r < 0)
		fail_msg("a fresh database: %d %s", r, err);
	if (db_open(&w->db, w->db_url, err, sizeof(err)) < 0)
		fail_msg("db_open: %s", err);
	snprintf(w->storage_path, sizeof(w->storage_path), "%.400s/media", w->dir);
	if (storage_open(&w->st, w->storage_path) < 0)
		fail_msg("storage_open %s", w->storage_path);
	setenv("ONAIR_DATABASE_URL", w->db_url, 1);
	setenv("ONAIR_STORAGE_PATH", w->storage_path, 1);
	if (!with_nats)
		return;
	if (harness_nats_start(&w->nats) < 0)
		fail_msg("nats-server did not start");
	setenv("ONAIR_NATS_URL", w->nats.url, 1);
	struct mq_options mo = { .url = w->nats.url, .name = "test" };
	if (mq_connect(&w->mq, &mo) < 0 || mq_wait_connected(w->mq, 10 * USEC_PER_SEC) < 0 ||
	    mq_ensure_topology(w->mq) < 0)
		fail_msg("cannot use nats-server at %s", w->nats.url);
}

void wfx_teardown(struct wfx *w)
{
	mq_close(w->mq);
	w->mq = NULL;
	if (w->nats.proc.pid)
		harness_nats_stop(&w->nats);
	storage_close(w->st);
	db_close(w->db);
	w->st = NULL;
	w->db = NULL;
}

int64_t wfx_int(struct wfx *w, const char *sql, const struct db_param *params, size_t n)
{
	int64_t v = 0;
	int r = db_query_int(w->db, sql, params, n, &v);
	if (r < 0)
		fail_msg("%s: %d %s", sql, r, db_errmsg(w->db));
	return v;
}

bool wfx_wait_int(struct wfx *w, int64_t want, int64_t timeout_us, const char *sql,
		  const struct db_param *params, size_t n)
{
	int64_t end = time_mono_us() + timeout_us;
	for (;;) {
		int64_t v = 0;
		int r = db_query_int(w->db, sql, params, n, &v);
		if (r < 0 && r != -EBUSY)
			fail_msg("%s: %d %s", sql, r, db_errmsg(w->db));
		if (r == 0 && v == want)
			return true;
		if (time_mono_us() > end) {
			print_message("waited in vain for %lld from: %s (last %lld)\n",
				      (long long)want, sql, (long long)v);
			return false;
		}
		sleep_us(50 * USEC_PER_MSEC);
	}
}

static void remember_child(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] <= 0) {
			children[i] = pid;
			return;
		}
	}
}

static void forget_child(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] == pid)
			children[i] = 0;
	}
}

/* fork and exec argv with stdout to out_path and stderr to err_path
 * (NULL: /dev/null; the same path: one file), appending when append. */
static pid_t start(char *const argv[], const char *out_path, const char *err_path, bool append)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
		int out = open(out_path ? out_path : "/dev/null", flags, 0644);
		int err = err_path && out_path && strcmp(err_path, out_path) == 0
				  ? out
				  : open(err_path ? err_path : "/dev/null", flags, 0644);
		int in = open("/dev/null", O_RDONLY);
		if (out < 0 || err < 0 || in < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	remember_child(pid);
	return pid;
}

pid_t wfx_spawn(char *const argv[], const char *log_path)
{
	return start(argv, log_path, log_path, true);
}

int wfx_wait_exit(pid_t pid, int64_t timeout_us)
{
	int64_t end = time_mono_us() + timeout_us;
	int status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			fail_msg("waitpid: %s", strerror(errno));
		if (time_mono_us() > end) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			forget_child(pid);
			return -1;
		}
		sleep_us(20 * USEC_PER_MSEC);
	}
	kill(-pid, SIGKILL);	/* whatever it left in its group */
	forget_child(pid);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int wfx_run(char *const argv[], const char *out_path, const char *err_path)
{
	pid_t pid = start(argv, out_path, err_path, false);
	return wfx_wait_exit(pid, 120 * USEC_PER_SEC);
}

int wfx_count_in_file(const char *path, const char *needle)
{
	struct buf b;
	buf_init(&b, 64 << 20);
	int n = 0;
	if (fs_read_file(path, &b) == 0) {
		for (const char *p = b.data; (p = strstr(p, needle)) != NULL; p += strlen(needle))
			n++;
	}
	buf_release(&b);
	return n;
}

bool wfx_wait_in_file(const char *path, const char *needle, int times, int64_t timeout_us)
{
	int64_t end = time_mono_us() + timeout_us;
	while (wfx_count_in_file(path, needle) < times) {
		if (time_mono_us() > end) {
			print_message("waited in vain for %d x '%s' in %s\n", times, needle, path);
			return false;
		}
		sleep_us(50 * USEC_PER_MSEC);
	}
	return true;
}

void wfx_dump(const char *path, size_t max_bytes)
{
	struct buf b;
	buf_init(&b, 64 << 20);
	if (fs_read_file(path, &b) == 0) {
		size_t from = b.len > max_bytes ? b.len - max_bytes : 0;
		print_message("---- %s (last %zu bytes)\n%s\n----\n", path, b.len - from,
			      b.data + from);
	}
	buf_release(&b);
}

void wfx_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	if (len && fwrite(data, 1, len, f) != len)
		fail_msg("cannot write %s", path);
	if (fclose(f) != 0)
		fail_msg("cannot write %s", path);
}

static void put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
	buf_append(b, x, 4);
}

static void put_u16(struct buf *b, uint16_t v)
{
	unsigned char x[2] = { v & 0xff, v >> 8 };
	buf_append(b, x, 2);
}

void wfx_wav(const char *path, double silence_s, double tone_s, double freq)
{
	uint32_t frames = (uint32_t)((silence_s + tone_s) * 44100);
	uint32_t silent = (uint32_t)(silence_s * 44100);
	struct buf b;
	buf_init(&b, 256 << 20);
	buf_append(&b, "RIFF", 4);
	put_u32(&b, 36 + frames * 4);
	buf_append(&b, "WAVEfmt ", 8);
	put_u32(&b, 16);
	put_u16(&b, 1);
	put_u16(&b, 2);
	put_u32(&b, 44100);
	put_u32(&b, 44100 * 4);
	put_u16(&b, 4);
	put_u16(&b, 16);
	buf_append(&b, "data", 4);
	put_u32(&b, frames * 4);
	for (uint32_t i = 0; i < frames; i++) {
		int16_t x = 0;
		if (i >= silent)
			x = (int16_t)(16384 * sin(2 * M_PI * freq * (i - silent) / 44100.0));
		put_u16(&b, (uint16_t)x);
		put_u16(&b, (uint16_t)x);
	}
	wfx_write(path, b.data, b.len);
	buf_release(&b);
}

void wfx_mp3(const char *path, double freq, double chunk_s, int repeat, const char *title)
{
	char chunk[600], src[128], meta[300];
	snprintf(chunk, sizeof(chunk), "%.500s.chunk.mp3", path);
	snprintf(src, sizeof(src), "sine=frequency=%g:sample_rate=44100:duration=%g", freq,
		 chunk_s);
	snprintf(meta, sizeof(meta), "title=%.250s", title ? title : "");
	char *argv[32];
	int n = 0;
	argv[n++] = "/usr/bin/env";
	argv[n++] = "ffmpeg";
	argv[n++] = "-nostdin";
	argv[n++] = "-v";
	argv[n++] = "error";
	argv[n++] = "-y";
	argv[n++] = "-f";
	argv[n++] = "lavfi";
	argv[n++] = "-i";
	argv[n++] = src;
	argv[n++] = "-ac";
	argv[n++] = "2";
	argv[n++] = "-b:a";
	argv[n++] = "32k";
	argv[n++] = "-write_xing";
	argv[n++] = "0";
	if (title && repeat == 1) {
		argv[n++] = "-metadata";
		argv[n++] = meta;
	} else {
		argv[n++] = "-id3v2_version";
		argv[n++] = "0";
	}
	argv[n++] = chunk;
	argv[n] = NULL;
	if (wfx_run(argv, NULL, NULL) != 0)
		fail_msg("ffmpeg failed making %s", chunk);
	struct buf one;
	buf_init(&one, 64 << 20);
	if (fs_read_file(chunk, &one) < 0)
		fail_msg("cannot read %s", chunk);
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot write %s", path);
	for (int i = 0; i < repeat; i++) {
		if (fwrite(one.data, 1, one.len, f) != one.len)
			fail_msg("cannot write %s", path);
	}
	fclose(f);
	buf_release(&one);
	unlink(chunk);
}

int64_t wfx_add_stored(struct wfx *w, const char *path, const char *ext,
		       char key[STORAGE_KEY_SIZE])
{
	char k[STORAGE_KEY_SIZE], hash[STORAGE_HASH_SIZE];
	int64_t size = 0;
	int r = storage_put_file(w->st, path, ext, 0, k, hash, &size);
	if (r < 0)
		fail_msg("storage_put_file %s: %d", path, r);
	int64_t id = 0;
	bool existed = false;
	r = library_add_file(w->db, hash, size, library_mime_for_ext(ext), k, 0, 0, NULL,
			     time_now_us(), &id, &existed);
	if (r < 0 || existed)
		fail_msg("library_add_file %s: %d", path, r);
	if (key)
		memcpy(key, k, sizeof(k));
	return id;
}
