/*
 * test_import.c - the real `onair import` on the database named on the
 * command line: a tree with nested directories, the same bytes under two
 * names, a text file named .mp3, an empty file, a hidden file, a symbolic
 * link loop and a link out of the tree; the summary's counts; a second
 * run that finds only duplicates; a dry run; an import interrupted with
 * SIGINT and run again, each file imported once; usage errors.
 *
 *   test-import ONAIR sqlite|postgres
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "worker_fixture.h"

static int setup(void **state)
{
	struct wfx *w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	*state = w;
	wfx_setup(w, false);
	return 0;
}

static int teardown(void **state)
{
	struct wfx *w = *state;
	if (w)
		wfx_teardown(w);
	free(w);
	return 0;
}

static void mkdir_or_fail(const char *path)
{
	if (fs_mkdir_p(path) < 0)
		fail_msg("mkdir %s", path);
}

/* Run onair import with args (NULL-terminated, at most 8); its stdout
 * into out (reset first). The exit code. */
static int import(struct wfx *w, struct buf *out, const char *const *args)
{
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)wfx_onair();
	argv[n++] = "import";
	for (; *args && n < 14; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	char out_path[600], err_path[600];
	snprintf(out_path, sizeof(out_path), "%s/import.out", w->dir);
	snprintf(err_path, sizeof(err_path), "%s/import.err", w->dir);
	int code = wfx_run(argv, out_path, err_path);
	buf_reset(out);
	fs_read_file(out_path, out);
	print_message("onair import exited %d:\n%s", code, out->data);
	return code;
}

/* The tree of the first tests, under w->dir/tree: 5 distinct playable
 * files (one also under a second name, one in a directory reached
 * through an in-tree symbolic link), 2 that fail, plus what must be
 * skipped. */
static void make_tree(struct wfx *w, char *root, size_t size)
{
	snprintf(root, size, "%s/tree", w->dir);
	char p[700], q[700];
	snprintf(p, sizeof(p), "%s/Artist/Album/CD1", root);
	mkdir_or_fail(p);
	snprintf(p, sizeof(p), "%s/Artist/Album/CD1/01 One.wav", root);
	wfx_wav(p, 0.2, 1.0, 440);
	snprintf(p, sizeof(p), "%s/Artist/Album/02 Two.WAV", root);
	wfx_wav(p, 0.2, 1.0, 550);
	snprintf(p, sizeof(p), "%s/Artist/03 Three.mp3", root);
	wfx_mp3(p, 660, 2, 1, "Three");
	snprintf(p, sizeof(p), "%s/loose.wav", root);
	wfx_wav(p, 0, 1.0, 770);
	/* The same bytes under another name. */
	snprintf(q, sizeof(q), "%s/Artist/copy of loose.wav", root);
	wfx_wav(q, 0, 1.0, 770);
	/* A text file named .mp3, and an empty one. */
	snprintf(p, sizeof(p), "%s/notes.mp3", root);
	wfx_write(p, "just text\n", 10);
	snprintf(p, sizeof(p), "%s/Artist/empty.flac", root);
	wfx_write(p, "", 0);
	/* Not audio by name: ignored. */
	snprintf(p, sizeof(p), "%s/cover.jpg", root);
	wfx_write(p, "jpeg?", 5);
	/* Hidden: a file and a directory. */
	snprintf(p, sizeof(p), "%s/.hidden.wav", root);
	wfx_wav(p, 0, 0.5, 880);
	snprintf(p, sizeof(p), "%s/.cache", root);
	mkdir_or_fail(p);
	snprintf(p, sizeof(p), "%s/.cache/x.wav", root);
	wfx_wav(p, 0, 0.5, 990);
	/* A loop (a link to an ancestor), a link out of the tree, a link to
	 * nothing, and a link to a directory inside the tree with a file of
	 * its own. */
	snprintf(p, sizeof(p), "%s/Artist/Album/CD1/loop", root);
	assert_int_equal(symlink("../../..", p), 0);
	char outside[700];
	snprintf(outside, sizeof(outside), "%s/outside", w->dir);
	mkdir_or_fail(outside);
	snprintf(p, sizeof(p), "%s/outside/far.wav", w->dir);
	wfx_wav(p, 0, 0.5, 1100);
	snprintf(p, sizeof(p), "%s/out", root);
	assert_int_equal(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/dangling.wav", root);
	assert_int_equal(symlink("/nonexistent/file.wav", p), 0);
	snprintf(p, sizeof(p), "%s/zz-real", root);
	mkdir_or_fail(p);
	snprintf(p, sizeof(p), "%s/zz-real/five.wav", root);
	wfx_wav(p, 0, 1.0, 1320);
	snprintf(p, sizeof(p), "%s/Artist/linked", root);
	assert_int_equal(symlink("../zz-real", p), 0);
}

static void test_tree(void **state)
{
	struct wfx *w = *state;
	char root[600];
	make_tree(w, root, sizeof(root));
	struct buf out;
	buf_init(&out, 1 << 20);

	const char *dry[] = { "--dry-run", root, NULL };
	assert_int_equal(import(w, &out, dry), 0);
	assert_non_null(strstr(out.data, "would import 7, duplicates 1, failed 0 (of 8 files)"));
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files", NULL, 0), 0);

	const char *args[] = { "--jobs", "2", root, NULL };
	assert_int_equal(import(w, &out, args), 1);
	assert_non_null(strstr(out.data, "imported 5, duplicates 1, failed 2 (of 8 files)"));
	assert_non_null(strstr(out.data, "notes.mp3: "));
	assert_non_null(strstr(out.data, "empty.flac: empty file"));
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE import_status = 'ready'"
			 " AND source_path LIKE $1 AND duration_us > 0"
			 " AND waveform_path IS NOT NULL",
			 DB_PARAMS(DB_T("/%"))), 5);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE import_status = 'failed'"
			 " AND failure_reason IS NOT NULL", NULL, 0), 2);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE title = 'Three'", NULL, 0),
			 1);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE source_path LIKE $1",
				 DB_PARAMS(DB_T("%hidden%"))), 0);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE source_path LIKE $1",
				 DB_PARAMS(DB_T("%far.wav"))), 0);

	/* Again: everything is known. */
	const char *again[] = { root, NULL };
	assert_int_equal(import(w, &out, again), 0);
	assert_non_null(strstr(out.data, "imported 0, duplicates 8, failed 0 (of 8 files)"));
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files", NULL, 0), 7);
	buf_release(&out);
}

static void test_track_type_and_usage(void **state)
{
	struct wfx *w = *state;
	char root[600], p[700];
	snprintf(root, sizeof(root), "%s/jingles", w->dir);
	mkdir_or_fail(root);
	snprintf(p, sizeof(p), "%s/jingle.wav", root);
	wfx_wav(p, 0.5, 1.0, 440);
	struct buf out;
	buf_init(&out, 1 << 20);
	const char *bad_type[] = { "--track-type", "nope", root, NULL };
	assert_int_equal(import(w, &out, bad_type), 2);
	const char *no_dir[] = { NULL };
	assert_int_equal(import(w, &out, no_dir), 2);
	snprintf(p, sizeof(p), "%s/jingle.wav", root);
	const char *not_dir[] = { p, NULL };
	assert_int_equal(import(w, &out, not_dir), 2);
	const char *bad_jobs[] = { "--jobs", "0", root, NULL };
	assert_int_equal(import(w, &out, bad_jobs), 2);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files", NULL, 0), 0);

	/* A track type with a short minimum silence: the 0.5 s lead is cut. */
	int64_t tt = wfx_int(w, "INSERT INTO track_types (code, name, silence_threshold_db,"
			     " silence_min_us) VALUES ('jingle', 'Jingle', -40, 100000)"
			     " RETURNING id",
			     NULL, 0);
	const char *args[] = { "--track-type", "jingle", root, NULL };
	assert_int_equal(import(w, &out, args), 0);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE track_type_id = $1 AND"
			 " cue_in_us BETWEEN 499000 AND 501000", DB_PARAMS(DB_I(tt))), 1);
	buf_release(&out);
}

static void test_interrupted_and_resumed(void **state)
{
	struct wfx *w = *state;
	enum { N = 10 };
	char root[600];
	snprintf(root, sizeof(root), "%s/many", w->dir);
	mkdir_or_fail(root);
	for (int i = 0; i < N; i++) {
		char p[700];
		snprintf(p, sizeof(p), "%s/track%02d.mp3", root, i);
		wfx_mp3(p, 200 + 50 * i, 10, 12, NULL);	/* 2 minutes each */
	}
	char out_path[700];
	snprintf(out_path, sizeof(out_path), "%s/first.out", w->dir);
	char *argv[] = { (char *)wfx_onair(), "import", "--jobs", "1", root, NULL };
	pid_t pid = wfx_spawn(argv, out_path);
	assert_true(wfx_wait_int(w, 1, 60 * USEC_PER_SEC,
				 "SELECT CASE WHEN COUNT(*) >= 2 THEN 1 ELSE 0 END FROM files"
				 " WHERE import_status = 'ready'", NULL, 0));
	kill(pid, SIGINT);
	assert_int_equal(wfx_wait_exit(pid, 30 * USEC_PER_SEC), 1);
	struct buf out;
	buf_init(&out, 1 << 20);
	assert_int_equal(fs_read_file(out_path, &out), 0);
	print_message("first run:\n%s", out.data);
	assert_non_null(strstr(out.data, "interrupted: run the same command again"));
	int64_t first = wfx_int(w, "SELECT COUNT(*) FROM files WHERE import_status = 'ready'",
				NULL, 0);
	assert_true(first >= 2 && first < N);

	const char *args[] = { root, NULL };
	assert_int_equal(import(w, &out, args), 0);
	char want[128];
	snprintf(want, sizeof(want), "imported %lld, duplicates %lld, failed 0 (of %d files)",
		 (long long)(N - first), (long long)first, N);
	assert_non_null(strstr(out.data, want));
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files WHERE import_status = 'ready'",
				 NULL, 0), N);
	assert_int_equal(wfx_int(w, "SELECT COUNT(DISTINCT source_path) FROM files", NULL, 0), N);
	assert_int_equal(wfx_int(w, "SELECT COUNT(*) FROM files", NULL, 0), N);
	/* Nothing half-written is left in the store. */
	assert_int_equal(storage_sweep(w->st, 0), 0);
	buf_release(&out);
}

int main(int argc, char **argv)
{
	if (wfx_init(argc, argv) < 0)
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_track_type_and_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_and_resumed, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name(wfx_group("import"), tests, NULL, NULL);
	wfx_fini();
	return failed ? 1 : 0;
}
