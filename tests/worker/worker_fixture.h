/*
 * worker_fixture.h - what the tests of `onair worker` and `onair import`
 * share: a fresh migrated database per test on the backend named on the
 * command line (a new SQLite file, or the harness's PostgreSQL with its
 * schema emptied), a fresh media store, optionally a fresh nats-server,
 * audio fixtures (ffmpeg tones, WAV files written here), and running
 * the onair program.
 *
 *   test-worker ONAIR sqlite|postgres
 *
 * Every helper fails the running cmocka test on an error.
 */
#ifndef ONAIR_TESTS_WORKER_FIXTURE_H
#define ONAIR_TESTS_WORKER_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "db/db.h"
#include "harness.h"
#include "mq/mq.h"
#include "storage/storage.h"

struct wfx {
	char dir[256];		/* fresh temporary directory */
	char db_url[512];
	char storage_path[512];	/* dir/media */
	struct db *db;		/* the test's own connection */
	struct storage *st;
	struct harness_nats nats;	/* when started */
	struct mq *mq;		/* connected to nats, topology made */
};

/* argv[1]: the onair program; argv[2]: "sqlite" or "postgres". Starts
 * PostgreSQL when asked for. 0, or -1 after printing why. */
int wfx_init(int argc, char **argv);
void wfx_fini(void);
/* "name-sqlite" / "name-postgres" (static buffer). */
const char *wfx_group(const char *name);
const char *wfx_onair(void);

/* Set up w (a fresh database, store and, when with_nats, nats-server) and
 * export ONAIR_DATABASE_URL, ONAIR_STORAGE_PATH, ONAIR_NATS_URL for the
 * programs the test runs. */
void wfx_setup(struct wfx *w, bool with_nats);
/* Close what wfx_setup opened and stop its nats-server. */
void wfx_teardown(struct wfx *w);

/* Run sql returning one integer and fail the test unless it does. */
int64_t wfx_int(struct wfx *w, const char *sql, const struct db_param *params, size_t n);
/* Poll sql (one integer) every 50 ms until it gives want: true, or false
 * after timeout_us. */
bool wfx_wait_int(struct wfx *w, int64_t want, int64_t timeout_us, const char *sql,
		  const struct db_param *params, size_t n);

/* Start a program with argv (argv[0] is the path) with its stdout and
 * stderr appended to log_path, in a process group of its own (killed at
 * exit if still running). The pid. */
pid_t wfx_spawn(char *const argv[], const char *log_path);
/* Wait up to timeout_us for pid to exit: its exit code, or 128 + signal,
 * or -1 after killing it when it did not exit in time. */
int wfx_wait_exit(pid_t pid, int64_t timeout_us);
/* Run argv to its end (at most 120 s), stdout into out_path, stderr into
 * err_path (either may be NULL for /dev/null). The exit code as above. */
int wfx_run(char *const argv[], const char *out_path, const char *err_path);
/* Occurrences of needle in the file at path (0 when it cannot be read). */
int wfx_count_in_file(const char *path, const char *needle);
/* Wait up to timeout_us until the file at path holds needle at least
 * times times. */
bool wfx_wait_in_file(const char *path, const char *needle, int times, int64_t timeout_us);

/* Write a 16-bit stereo 44.1 kHz WAV: silence_s of silence, then tone_s
 * of a sine at freq Hz, -6 dBFS. */
void wfx_wav(const char *path, double silence_s, double tone_s, double freq);
/* An MP3 (32 kb/s, stereo, 44.1 kHz) of a sine at freq Hz lasting
 * chunk_s * repeat seconds: one chunk encoded by ffmpeg, repeated (cheap
 * to make, slow to analyse). title (may be NULL) is written as an ID3
 * tag. */
void wfx_mp3(const char *path, double freq, double chunk_s, int repeat, const char *title);
/* Print the last max_bytes of the file at path (a program's log). */
void wfx_dump(const char *path, size_t max_bytes);
/* Write len bytes of data to path. */
void wfx_write(const char *path, const void *data, size_t len);

/* Store the file at path (extension ext) and add its 'pending' files row:
 * the row's id. Its key into key (may be NULL). */
int64_t wfx_add_stored(struct wfx *w, const char *path, const char *ext,
		       char key[STORAGE_KEY_SIZE]);

#endif
