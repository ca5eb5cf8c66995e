/*
 * test_storage.c - the content-addressed media directory (storage.h):
 * round trips, deduplication, size limits, failed streams leaving
 * nothing, keys refused, the sweep of temporary files.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "storage/storage.h"

static char base[256];
static int dirs_made;

/* A fresh store root (not created yet) per test. */
static void fresh_root(char *out, size_t size)
{
	snprintf(out, size, "%s/store-%d", base, ++dirs_made);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Number of entries (not "." or "..") in dir. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Number of regular files under dir, recursively. */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat sb;
		if (lstat(path, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			n += count_files(path);
		else
			n++;
	}
	closedir(d);
	return n;
}

static void test_round_trip(void **state)
{
	char root[512], src[600], path[1024];
	fresh_root(root, sizeof(root));
	struct storage *st;
	assert_int_equal(storage_open(&st, root), 0);
	const char text[] = "The quick brown fox jumps over the lazy dog";
	snprintf(src, sizeof(src), "%s.src", root);
	write_file(src, text, strlen(text));

	char key[STORAGE_KEY_SIZE], hash[STORAGE_HASH_SIZE];
	int64_t size = -1;
	assert_int_equal(storage_put_file(st, src, "MP3", 0, key, hash, &size), 0);
	assert_int_equal(size, (int64_t)strlen(text));
	/* SHA-256 of the text, a well-known value. */
	assert_string_equal(hash, "sha256:d7a8fbb307d7809469ca9abcb0082e4f"
				  "8d5651e46d3cdb762d02d0bf37c9e592");
	assert_string_equal(key, "d7/a8/d7a8fbb307d7809469ca9abcb0082e4f"
				 "8d5651e46d3cdb762d02d0bf37c9e592.mp3");
	assert_true(storage_key_valid(key));
	assert_int_equal(storage_path(st, key, path, sizeof(path)), 0);

	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(fs_read_file(path, &b), 0);
	assert_int_equal(b.len, strlen(text));
	assert_memory_equal(b.data, text, b.len);
	buf_release(&b);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);

	/* Bytes from memory, an extension hint that is not usable. */
	char key2[STORAGE_KEY_SIZE], hash2[STORAGE_HASH_SIZE];
	assert_int_equal(storage_put_bytes(st, "{}", 2, "../../x", key2, hash2), 0);
	assert_non_null(strstr(key2, ".bin"));
	assert_int_equal(storage_put_bytes(st, "", 0, "JSON", key2, hash2), 0);
	assert_string_equal(hash2, "sha256:e3b0c44298fc1c149afbf4c8996fb924"
				   "27ae41e4649b934ca495991b7852b855");
	assert_non_null(strstr(key2, ".json"));

	assert_int_equal(storage_remove(st, key), 0);
	assert_int_equal(storage_remove(st, key), -ENOENT);
	assert_int_not_equal(access(path, F_OK), 0);
	/* Nothing is left in tmp. */
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s/tmp", root);
	assert_int_equal(count_entries(tmp), 0);
	storage_close(st);
	unlink(src);
}

static void test_same_content_twice(void **state)
{
	char root[512], a[600], b[600];
	fresh_root(root, sizeof(root));
	struct storage *st;
	assert_int_equal(storage_open(&st, root), 0);
	snprintf(a, sizeof(a), "%s.a", root);
	snprintf(b, sizeof(b), "%s.b", root);
	write_file(a, "same bytes", 10);
	write_file(b, "same bytes", 10);
	char k1[STORAGE_KEY_SIZE], k2[STORAGE_KEY_SIZE], k3[STORAGE_KEY_SIZE];
	char h1[STORAGE_HASH_SIZE], h2[STORAGE_HASH_SIZE], h3[STORAGE_HASH_SIZE];
	assert_int_equal(storage_put_file(st, a, "flac", 0, k1, h1, NULL), 0);
	assert_int_equal(storage_put_file(st, b, "flac", 0, k2, h2, NULL), 0);
	assert_string_equal(k1, k2);
	assert_string_equal(h1, h2);
	/* The same bytes with another extension: still the first copy. */
	assert_int_equal(storage_put_file(st, b, "wav", 0, k3, h3, NULL), 0);
	assert_string_equal(k1, k3);
	assert_int_equal(count_files(root), 1);
	storage_close(st);
	unlink(a);
	unlink(b);
}

static void test_max_size(void **state)
{
	char root[512], src[600];
	fresh_root(root, sizeof(root));
	struct storage *st;
	assert_int_equal(storage_open(&st, root), 0);
	snprintf(src, sizeof(src), "%s.src", root);
	char data[5000];
	memset(data, 'x', sizeof(data));
	write_file(src, data, sizeof(data));
	char key[STORAGE_KEY_SIZE], hash[STORAGE_HASH_SIZE];
	int64_t size;
	assert_int_equal(storage_put_file(st, src, "mp3", 4999, key, hash, &size), -EFBIG);
	assert_int_equal(count_files(root), 0);
	assert_int_equal(storage_put_file(st, src, "mp3", 5000, key, hash, &size), 0);
	assert_int_equal(size, 5000);
	assert_int_equal(count_files(root), 1);
	/* Not a regular file; missing. */
	assert_int_equal(storage_put_file(st, root, "mp3", 0, key, hash, &size), -EINVAL);
	assert_int_equal(storage_put_file(st, "/nonexistent/x", "mp3", 0, key, hash, &size),
			 -ENOENT);
	storage_close(st);
	unlink(src);
}

/* A stream of `total` bytes in chunks, failing with fail_with (when not
 * 0) after fail_after bytes. */
struct test_stream {
	size_t total, sent, fail_after;
	int fail_with;
};

static ssize_t stream_read(void *ctx, void *buf, size_t len)
{
	struct test_stream *s = ctx;
	if (s->fail_with && s->sent >= s->fail_after)
		return s->fail_with;
	size_t n = s->total - s->sent;
	if (n > len)
		n = len;
	if (n > 10000)
		n = 10000;
	memset(buf, (int)(s->sent & 0xff), n);
	s->sent += n;
	return (ssize_t)n;
}

static void test_stream_failure_leaves_nothing(void **state)
{
	char root[512], tmp[600];
	fresh_root(root, sizeof(root));
	snprintf(tmp, sizeof(tmp), "%s/tmp", root);
	struct storage *st;
	assert_int_equal(storage_open(&st, root), 0);
	char key[STORAGE_KEY_SIZE], hash[STORAGE_HASH_SIZE];
	int64_t size;

	struct test_stream s = { .total = 100000, .fail_after = 50000, .fail_with = -ECONNRESET };
	assert_int_equal(storage_put_stream(st, stream_read, &s, "mp3", 0, key, hash, &size),
			 -ECONNRESET);
	assert_int_equal(count_files(root), 0);
	assert_int_equal(count_entries(tmp), 0);

	/* Over the limit while streaming. */
	struct test_stream big = { .total = 100000 };
	assert_int_equal(storage_put_stream(st, stream_read, &big, "mp3", 99999, key, hash,
					    &size), -EFBIG);
	assert_int_equal(count_files(root), 0);

	struct test_stream ok = { .total = 100000 };
	assert_int_equal(storage_put_stream(st, stream_read, &ok, "ogg", 100000, key, hash,
					    &size), 0);
	assert_int_equal(size, 100000);
	assert_int_equal(count_files(root), 1);
	assert_int_equal(count_entries(tmp), 0);
	storage_close(st);
}

static void test_bad_keys(void **state)
{
	char root[512], out[1024];
	fresh_root(root, sizeof(root));
	struct storage *st;
	assert_int_equal(storage_open(&st, root), 0);
	const char *hex = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592";
	char good[STORAGE_KEY_SIZE];
	snprintf(good, sizeof(good), "d7/a8/%s.mp3", hex);
	assert_int_equal(storage_path(st, good, out, sizeof(out)), 0);

	char k[200];
	const char *bad[] = {
		"../x",
		"/etc/passwd",
		"",
		"d7/a8/../../../etc/passwd",
		"tmp/put-123.part",
		NULL,
	};
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(storage_path(st, bad[i], out, sizeof(out)), -EINVAL);
	assert_int_equal(storage_path(st, NULL, out, sizeof(out)), -EINVAL);
	/* Wrong directory for the hash, upper-case hex, no or long or odd
	 * extension, a short hash, a trailing slash. */
	snprintf(k, sizeof(k), "d7/a9/%s.mp3", hex);
	assert_false(storage_key_valid(k));
	snprintf(k, sizeof(k), "D7/A8/D7A8FBB307D7809469CA9ABCB0082E4F"
				"8D5651E46D3CDB762D02D0BF37C9E592.mp3");
	assert_false(storage_key_valid(k));
	snprintf(k, sizeof(k), "d7/a8/%s", hex);
	assert_false(storage_key_valid(k));
	snprintf(k, sizeof(k), "d7/a8/%s.", hex);
	assert_false(storage_key_valid(k));
	snprintf(k, sizeof(k), "d7/a8/%s.abcdefghi", hex);
	assert_false(storage_key_valid(k));
	snprintf(k, sizeof(k), "d7/a8/%s.m/3", hex);
	assert_false(storage_key_valid(k));
	snprintf(k, sizeof(k), "d7/a8/%s.MP3", hex);
	assert_false(storage_key_valid(k));
	snprintf(k, sizeof(k), "d7/a8/%.63s.mp3", hex);
	assert_false(storage_key_valid(k));
	snprintf(k, sizeof(k), "/d7/a8/%s.mp3", hex);
	assert_false(storage_key_valid(k));
	assert_int_equal(storage_remove(st, "../x"), -EINVAL);
	/* Too small an output buffer. */
	assert_int_equal(storage_path(st, good, out, 10), -ENAMETOOLONG);
	storage_close(st);
}

static void test_sweep(void **state)
{
	char root[512], tmp[600], old_file[700], new_file[700];
	fresh_root(root, sizeof(root));
	struct storage *st;
	assert_int_equal(storage_open(&st, root), 0);
	snprintf(tmp, sizeof(tmp), "%s/tmp", root);
	snprintf(old_file, sizeof(old_file), "%s/put-old.part", tmp);
	snprintf(new_file, sizeof(new_file), "%s/put-new.part", tmp);
	write_file(old_file, "x", 1);
	write_file(new_file, "y", 1);
	/* Make one two hours old. */
	struct timeval tv[2];
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= 7200;
	tv[1] = tv[0];
	assert_int_equal(utimes(old_file, tv), 0);
	/* A stored file is never swept. */
	char key[STORAGE_KEY_SIZE], hash[STORAGE_HASH_SIZE];
	assert_int_equal(storage_put_bytes(st, "kept", 4, "txt", key, hash), 0);

	assert_int_equal(storage_sweep(st, 3600 * USEC_PER_SEC), 1);
	assert_int_not_equal(access(old_file, F_OK), 0);
	assert_int_equal(access(new_file, F_OK), 0);
	assert_int_equal(storage_sweep(st, 3600 * USEC_PER_SEC), 0);
	assert_int_equal(storage_sweep(st, 0), 1);
	assert_int_equal(count_entries(tmp), 0);
	char path[1024];
	assert_int_equal(storage_path(st, key, path, sizeof(path)), 0);
	assert_int_equal(access(path, F_OK), 0);
	storage_close(st);
}

static void test_open_errors(void **state)
{
	char root[512], file[600];
	fresh_root(root, sizeof(root));
	snprintf(file, sizeof(file), "%s.file", root);
	write_file(file, "x", 1);
	struct storage *st = NULL;
	/* A root under a regular file cannot be made. */
	char under[700];
	snprintf(under, sizeof(under), "%s/store", file);
	assert_int_equal(storage_open(&st, under), -ENOTDIR);
	assert_null(st);
	assert_int_equal(storage_open(&st, ""), -EINVAL);
	unlink(file);
}

int main(void)
{
	const char *tmpdir = getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/onair-storage-XXXXXX", tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_same_content_twice),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_stream_failure_leaves_nothing),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_open_errors),
	};
	int failed = cmocka_run_group_tests_name("storage", tests, NULL, NULL);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	return failed ? 1 : 0;
}
