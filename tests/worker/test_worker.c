/*
 * test_worker.c - the real `onair worker` against a real nats-server and
 * the database named on the command line: files become ready with sane
 * values, a corrupt file becomes failed with its reason, duplicate
 * deliveries change nothing, a temporary storage failure is retried and
 * then succeeds, a task that keeps failing is given up after
 * worker.max_attempts and dead-lettered, SIGTERM during a long analysis
 * stops cleanly and hands the task to the next worker, and two workers
 * share twenty tasks, each done once.
 *
 *   test-worker ONAIR sqlite|postgres
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "protocol/protocol.h"
#include "worker/library.h"
#include "worker_fixture.h"

/* Generous: the tests share the machine (and may run under ASan). */
#define WAIT_US (120 * USEC_PER_SEC)

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Workers started and not yet stopped: killed by the teardown of a test
 * that failed half-way. */
#define MAX_WORKERS 8
static pid_t running[MAX_WORKERS];

static void track(pid_t pid, bool add)
{
	for (int i = 0; i < MAX_WORKERS; i++) {
		if (add ? running[i] == 0 : running[i] == pid) {
			running[i] = add ? pid : 0;
			return;
		}
	}
}

static int setup(void **state)
{
	struct wfx *w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	*state = w;
	wfx_setup(w, true);
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < MAX_WORKERS; i++) {
		if (running[i] > 0) {
			kill(-running[i], SIGKILL);
			wfx_wait_exit(running[i], 10 * USEC_PER_SEC);
			running[i] = 0;
		}
	}
	struct wfx *w = *state;
	if (w)
		wfx_teardown(w);
	free(w);
	return 0;
}

/* Start `onair worker` with its log in w->dir/name.log (path into log)
 * and wait until it runs. */
static pid_t start_worker(struct wfx *w, const char *name, int parallelism, int max_attempts,
			  char *log, size_t loglen)
{
	char p[16], m[16];
	snprintf(p, sizeof(p), "%d", parallelism);
	snprintf(m, sizeof(m), "%d", max_attempts);
	setenv("ONAIR_WORKER_PARALLELISM", p, 1);
	setenv("ONAIR_WORKER_MAX_ATTEMPTS", m, 1);
	setenv("ONAIR_LOG_LEVEL", "info", 1);
	snprintf(log, loglen, "%s/%s.log", w->dir, name);
	char *argv[] = { (char *)wfx_onair(), "worker", NULL };
	pid_t pid = wfx_spawn(argv, log);
	if (!wfx_wait_in_file(log, "[worker] running", 1, 30 * USEC_PER_SEC)) {
		wfx_dump(log, 8000);
		fail_msg("the worker did not start");
	}
	track(pid, true);
	return pid;
}

static void stop_worker(pid_t pid, const char *log)
{
	kill(pid, SIGTERM);
	int code = wfx_wait_exit(pid, 30 * USEC_PER_SEC);
	track(pid, false);
	if (code != 0) {
		wfx_dump(log, 8000);
		fail_msg("the worker exited with %d after SIGTERM", code);
	}
}

/* Fail the test when a wait was in vain, showing the worker's log. */
#define CHECK_WAIT(cond, log)                    \
	do {                                     \
		if (!(cond)) {                   \
			wfx_dump(log, 8000);     \
			fail_msg("%s", #cond);   \
		}                                \
	} while (0)

static void enqueue(struct wfx *w, int64_t file_id, char task_id[LIBRARY_TASK_ID_SIZE])
{
	char tmp[LIBRARY_TASK_ID_SIZE];
	int r = library_enqueue_analysis(w->db, w->mq, file_id, time_now_us(),
					 task_id ? task_id : tmp);
	if (r < 0)
		fail_msg("library_enqueue_analysis: %d", r);
}

/* Publish a task as a producer would, msg_id NULL (so the stream takes
 * it again even within its deduplication window). */
static void publish_task(struct wfx *w, const char *id, int64_t file_id)
{
	struct proto_task t = {
		.id = (char *)id,
		.kind = PROTO_TASK_ANALYZE_FILE,
		.created_at = time_now_us(),
		.file_id = file_id,
	};
	struct buf b;
	buf_init(&b, 4096);
	assert_int_equal(proto_task_encode(&t, &b), 0);
	assert_int_equal(mq_publish(w->mq, "onair.tasks.analyze_file", b.data, b.len, NULL, NULL),
			 0);
	buf_release(&b);
}

static bool stored_exists(struct wfx *w, const char *key)
{
	char path[1024];
	return key && storage_path(w->st, key, path, sizeof(path)) == 0 && access(path, R_OK) == 0;
}

static void test_files_become_ready(void **state)
{
	struct wfx *w = *state;
	char path[600];
	int64_t wav[3];
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/tone%d.wav", w->dir, i);
		wfx_wav(path, 0.3, 2.0, 440 + 110 * i);
		wav[i] = wfx_add_stored(w, path, "wav", NULL);
	}
	snprintf(path, sizeof(path), "%s/song.mp3", w->dir);
	wfx_mp3(path, 330, 5, 1, "Tagged Song");
	int64_t mp3 = wfx_add_stored(w, path, "mp3", NULL);
	snprintf(path, sizeof(path), "%s/corrupt.mp3", w->dir);
	const char text[] = "This is a text file, whatever its name says.\n";
	wfx_write(path, text, strlen(text));
	int64_t corrupt = wfx_add_stored(w, path, "mp3", NULL);

	char first_task[LIBRARY_TASK_ID_SIZE];
	enqueue(w, wav[0], first_task);
	enqueue(w, wav[1], NULL);
	enqueue(w, wav[2], NULL);
	enqueue(w, mp3, NULL);
	enqueue(w, corrupt, NULL);
	char log[600];
	pid_t pid = start_worker(w, "worker", 2, 5, log, sizeof(log));
	CHECK_WAIT(wfx_wait_int(w, 5, WAIT_US,
				 "SELECT COUNT(*) FROM tasks WHERE state = 'done' AND attempts = 1",
				 NULL, 0), log);

	/* The WAVs: exact durations, cue in after 0.3 s of silence. */
	struct db_rows *rows;
	assert_int_equal(db_query(w->db, "SELECT id, import_status, duration_us, sample_rate,"
				  " channels, loudness_lufs, true_peak_dbtp, cue_in_us, cue_out_us,"
				  " codec, container, waveform_path, title, mime, bitrate"
				  " FROM files ORDER BY id", NULL, 0, &rows), 0);
	for (int i = 0; i < 5; i++) {
		assert_true(db_rows_next(rows));
		int64_t id = db_col_int(rows, 0);
		if (id == corrupt) {
			assert_string_equal(db_col_text(rows, 1), "failed");
			continue;
		}
		assert_string_equal(db_col_text(rows, 1), "ready");
		assert_int_equal(db_col_int(rows, 3), 44100);
		assert_int_equal(db_col_int(rows, 4), 2);
		/* A -6 dBFS sine is about -9 LUFS; ffmpeg's sine source is
		 * at 1/8 of full scale, about -21 LUFS. */
		double lufs = db_col_real(rows, 5);
		if (id == mp3)
			assert_true(lufs < -15 && lufs > -30);
		else
			assert_true(lufs < -5 && lufs > -15);
		assert_true(db_col_real(rows, 6) < 0);
		assert_true(stored_exists(w, db_col_text(rows, 11)));
		if (id == mp3) {
			assert_true(llabs(db_col_int(rows, 2) - 5 * USEC_PER_SEC) < 60000);
			assert_string_equal(db_col_text(rows, 9), "mp3");
			assert_string_equal(db_col_text(rows, 12), "Tagged Song");
			assert_string_equal(db_col_text(rows, 13), "audio/mpeg");
			assert_true(llabs(db_col_int(rows, 14) - 32000) < 2000);
		} else {
			/* 101429 frames (2.3 s, truncated) */
			assert_int_equal(db_col_int(rows, 2), 101429 * USEC_PER_SEC / 44100);
			assert_true(llabs(db_col_int(rows, 7) - 300000) < 1000);
			assert_true(llabs(db_col_int(rows, 8) - 2300000) < 1000);
			assert_string_equal(db_col_text(rows, 9), "pcm_s16le");
			assert_string_equal(db_col_text(rows, 10), "wav");
			assert_string_equal(db_col_text(rows, 13), "audio/wav");
		}
	}
	db_rows_free(rows);
	/* The corrupt file failed with a reason, and its task is done (an
	 * unplayable file is a result, not an error). */
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
			 " import_status = 'failed' AND LENGTH(failure_reason) > 5",
			 DB_PARAMS(DB_I(corrupt))), 1);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM tasks WHERE file_id = $1 AND"
			 " state = 'done'", DB_PARAMS(DB_I(corrupt))), 1);
	assert_true(wfx_count_in_file(log, "not playable") >= 1);

	/* The same task delivered again, and a new task for a ready file:
	 * nothing changes. */
	int64_t updated = wfx_int(w, "SELECT SUM(updated_at) FROM files", NULL, 0);
	int64_t task_updates = wfx_int(w, "SELECT SUM(updated_at) FROM tasks", NULL, 0);
	publish_task(w, first_task, wav[0]);
	CHECK_WAIT(wfx_wait_in_file(log, "duplicate delivery", 1, WAIT_US), log);
	assert_int_equal(wfx_int(w, "SELECT SUM(updated_at) FROM files", NULL, 0), updated);
	assert_int_equal(wfx_int(w, "SELECT SUM(updated_at) FROM tasks", NULL, 0), task_updates);
	char again[LIBRARY_TASK_ID_SIZE];
	enqueue(w, wav[1], again);
	CHECK_WAIT(wfx_wait_in_file(log, "already ready", 1, WAIT_US), log);
	assert_int_equal(wfx_int(w, "SELECT SUM(updated_at) FROM files", NULL, 0), updated);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM tasks WHERE task_id = $1 AND"
			 " state = 'done' AND attempts = 1", DB_PARAMS(DB_T(again))), 1);
	assert_int_equal(wfx_count_in_file(log, ": done"), 6);
	stop_worker(pid, log);
}

static void test_transient_failure_retried(void **state)
{
	struct wfx *w = *state;
	char path[600], key[STORAGE_KEY_SIZE], stored[1024], away[1100];
	snprintf(path, sizeof(path), "%s/tone.wav", w->dir);
	wfx_wav(path, 0, 1.0, 500);
	int64_t id = wfx_add_stored(w, path, "wav", key);
	/* The stored bytes cannot be read for a while (moved away: the test
	 * may run as root, for whom chmod 000 changes nothing). */
	assert_int_equal(storage_path(w->st, key, stored, sizeof(stored)), 0);
	snprintf(away, sizeof(away), "%s.away", stored);
	assert_int_equal(rename(stored, away), 0);
	char task[LIBRARY_TASK_ID_SIZE];
	enqueue(w, id, task);
	char log[600];
	pid_t pid = start_worker(w, "worker", 1, 5, log, sizeof(log));
	CHECK_WAIT(wfx_wait_int(w, 1, WAIT_US,
				 "SELECT COUNT(*) FROM tasks WHERE task_id = $1"
				 " AND state = 'queued'"
				 " AND attempts >= 1 AND last_error IS NOT NULL",
				 DB_PARAMS(DB_T(task))), log);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
			 " import_status = 'pending'", DB_PARAMS(DB_I(id))), 1);
	assert_int_equal(rename(away, stored), 0);
	CHECK_WAIT(wfx_wait_int(w, 1, WAIT_US,
				 "SELECT COUNT(*) FROM files WHERE id = $1"
				 " AND import_status = 'ready'",
				 DB_PARAMS(DB_I(id))), log);
	CHECK_WAIT(wfx_wait_int(w, 1, WAIT_US,
				 "SELECT COUNT(*) FROM tasks WHERE task_id = $1 AND state = 'done'"
				 " AND attempts >= 2 AND last_error IS NULL",
				 DB_PARAMS(DB_T(task))), log);
	assert_true(wfx_count_in_file(log, "temporary failure, retry in 1 s") >= 1);
	stop_worker(pid, log);
}

/* Fetch what the dead-letter stream holds (up to max messages) into
 * subjects and bodies (one "subject body" line each). */
static size_t dead_letters(struct wfx *w, struct buf *out, size_t want)
{
	struct mq_consumer_options co = {
		.stream = MQ_STREAM_DEAD,
		.durable = "test-dead",
		.filter = "onair.dead.>",
	};
	struct mq_consumer *c;
	assert_int_equal(mq_consumer_open(w->mq, &co, &c), 0);
	size_t got = 0;
	int64_t end = time_mono_us() + 10 * USEC_PER_SEC;
	while (got < want && time_mono_us() < end) {
		struct mq_msg *msgs[8];
		size_t n = 0;
		assert_int_equal(mq_consumer_fetch(c, msgs, 8, USEC_PER_SEC, &n), 0);
		for (size_t i = 0; i < n; i++) {
			buf_printf(out, "%s %.*s\n", msgs[i]->subject, (int)msgs[i]->len,
				   msgs[i]->data);
			mq_msg_ack(msgs[i]);
			mq_msg_free(msgs[i]);
			got++;
		}
	}
	mq_consumer_close(c);
	return got;
}

static void test_gives_up_and_dead_letters(void **state)
{
	struct wfx *w = *state;
	char path[600], key[STORAGE_KEY_SIZE], stored[1024];
	snprintf(path, sizeof(path), "%s/tone.wav", w->dir);
	wfx_wav(path, 0, 1.0, 600);
	int64_t id = wfx_add_stored(w, path, "wav", key);
	assert_int_equal(storage_remove(w->st, key), 0);
	assert_int_equal(storage_path(w->st, key, stored, sizeof(stored)), 0);
	char task[LIBRARY_TASK_ID_SIZE];
	enqueue(w, id, task);
	/* A task about a file that does not exist, and a message that is no
	 * task at all. */
	publish_task(w, "analyze-9999-gone", 9999);
	const char junk[] = "{\"type\":\"task\",\"version\":1,\"task\":\"bogus\"}";
	assert_int_equal(mq_publish(w->mq, "onair.tasks.bogus", junk, strlen(junk), "junk-1", NULL),
			 0);

	char log[600];
	pid_t pid = start_worker(w, "worker", 1, 3, log, sizeof(log));
	CHECK_WAIT(wfx_wait_int(w, 1, WAIT_US,
				 "SELECT COUNT(*) FROM tasks WHERE task_id = $1"
				 " AND state = 'failed'",
				 DB_PARAMS(DB_T(task))), log);
	assert_int_equal(wfx_int(w, "SELECT attempts FROM tasks WHERE task_id = $1",
				 DB_PARAMS(DB_T(task))), 3);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM tasks WHERE task_id = $1 AND"
			 " last_error LIKE '%after 3 attempts%' AND last_error LIKE $2",
			 DB_PARAMS(DB_T(task), DB_T("%reading stored file%"))), 1);
	/* The file says why it never became ready. */
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
			 " import_status = 'failed' AND failure_reason LIKE $2",
			 DB_PARAMS(DB_I(id), DB_T("%reading stored file%"))), 1);
	CHECK_WAIT(wfx_wait_in_file(log, "file 9999 no longer exists", 1, WAIT_US), log);
	CHECK_WAIT(wfx_wait_in_file(log, "undecodable task on onair.tasks.bogus", 1, WAIT_US), log);

	struct buf dead;
	buf_init(&dead, 1 << 20);
	assert_int_equal(dead_letters(w, &dead, 2), 2);
	char want[200];
	snprintf(want, sizeof(want), "onair.dead.tasks.analyze_file {");
	assert_non_null(strstr(dead.data, want));
	assert_non_null(strstr(dead.data, task));
	assert_non_null(strstr(dead.data, "onair.dead.tasks.bogus {"));
	assert_null(strstr(dead.data, "analyze-9999-gone"));
	buf_release(&dead);
	stop_worker(pid, log);
}

static void test_sigterm_hands_back(void **state)
{
	struct wfx *w = *state;
	char path[600];
	snprintf(path, sizeof(path), "%s/long.mp3", w->dir);
	wfx_mp3(path, 440, 10, 90, NULL);	/* 15 minutes: about a second to analyse */
	int64_t id = wfx_add_stored(w, path, "mp3", NULL);
	char task[LIBRARY_TASK_ID_SIZE];
	enqueue(w, id, task);
	char log[600];
	pid_t pid = start_worker(w, "first", 1, 5, log, sizeof(log));
	CHECK_WAIT(wfx_wait_int(w, 1, WAIT_US,
				 "SELECT COUNT(*) FROM tasks WHERE task_id = $1"
				 " AND state = 'running'",
				 DB_PARAMS(DB_T(task))), log);
	sleep_ms(100);
	stop_worker(pid, log);
	assert_int_equal(wfx_count_in_file(log, "cancelled (stopping)"), 1);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM tasks WHERE task_id = $1 AND"
			 " state = 'queued' AND attempts = 0", DB_PARAMS(DB_T(task))), 1);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
			 " import_status = 'pending'", DB_PARAMS(DB_I(id))), 1);

	char log2[600];
	pid = start_worker(w, "second", 1, 5, log2, sizeof(log2));
	CHECK_WAIT(wfx_wait_int(w, 1, 2 * WAIT_US,
				 "SELECT COUNT(*) FROM files WHERE id = $1"
				 " AND import_status = 'ready'",
				 DB_PARAMS(DB_I(id))), log2);
	CHECK_WAIT(wfx_wait_int(w, 1, WAIT_US,
				 "SELECT COUNT(*) FROM tasks WHERE task_id = $1 AND state = 'done'"
				 " AND attempts = 1", DB_PARAMS(DB_T(task))), log2);
	/* 90 chunks of 10 s, each with its encoder padding. */
	int64_t duration = wfx_int(w, "SELECT duration_us FROM files WHERE id = $1",
				   DB_PARAMS(DB_I(id)));
	assert_true(duration > 900 * USEC_PER_SEC && duration < 910 * USEC_PER_SEC);
	stop_worker(pid, log2);
}

static void test_two_workers_share(void **state)
{
	struct wfx *w = *state;
	enum { N = 20 };
	int64_t ids[N];
	for (int i = 0; i < N; i++) {
		char path[600];
		snprintf(path, sizeof(path), "%s/t%02d.wav", w->dir, i);
		wfx_wav(path, 0, 1.0, 300 + 17 * i);
		ids[i] = wfx_add_stored(w, path, "wav", NULL);
	}
	char log1[600], log2[600];
	pid_t a = start_worker(w, "a", 1, 5, log1, sizeof(log1));
	pid_t b = start_worker(w, "b", 1, 5, log2, sizeof(log2));
	for (int i = 0; i < N; i++)
		enqueue(w, ids[i], NULL);
	CHECK_WAIT(wfx_wait_int(w, N, WAIT_US,
				 "SELECT COUNT(*) FROM files WHERE import_status = 'ready'", NULL,
				 0), log1);
	CHECK_WAIT(wfx_wait_int(w, N, WAIT_US,
				 "SELECT COUNT(*) FROM tasks WHERE state = 'done' AND attempts = 1",
				 NULL, 0), log1);
	stop_worker(a, log1);
	stop_worker(b, log2);
	int done_a = wfx_count_in_file(log1, ": done");
	int done_b = wfx_count_in_file(log2, ": done");
	print_message("worker a did %d tasks, worker b %d\n", done_a, done_b);
	assert_int_equal(done_a + done_b, N);
	assert_true(done_a > 0 && done_b > 0);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM tasks", NULL, 0), N);
}

int main(int argc, char **argv)
{
	if (wfx_init(argc, argv) < 0)
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_become_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transient_failure_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gives_up_and_dead_letters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_hands_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_workers_share, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name(wfx_group("worker"), tests, NULL, NULL);
	wfx_fini();
	mq_library_shutdown();
	return failed ? 1 : 0;
}
