#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"

static const struct config_key keys[] = {
	{ "nats.url", "nats://127.0.0.1:4222", "queue" },
	{ "api.listen", "127.0.0.1:8080", "listen" },
	{ "api.workers", "4", "threads" },
	{ "api.debug", "no", "debug" },
	{ "storage.path", NULL, "media" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static char path[64];

static void write_file(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/onair-config-test-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int load(struct config *c, const char *text, char *err, size_t errlen)
{
	write_file(text);
	int r = config_load_file(c, path, err, errlen);
	unlink(path);
	return r;
}

static void test_defaults(void **state)
{
	struct config c;
	config_init(&c, keys, NKEYS);
	assert_string_equal(config_get(&c, "nats.url"), "nats://127.0.0.1:4222");
	assert_null(config_get(&c, "storage.path"));
	int64_t n;
	assert_int_equal(config_get_int(&c, "api.workers", 1, 64, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(config_get_int(&c, "api.workers", 8, 64, &n), -EINVAL);
	assert_int_equal(config_get_int(&c, "storage.path", 0, 1, &n), -ENODATA);
	bool b = true;
	assert_int_equal(config_get_bool(&c, "api.debug", &b), 0);
	assert_false(b);
	assert_int_equal(config_get_bool(&c, "api.listen", &b), -EINVAL);
	config_release(&c);
}

static void test_file_then_env(void **state)
{
	struct config c;
	config_init(&c, keys, NKEYS);
	char err[256] = "";
	assert_int_equal(load(&c,
			      "# comment\n"
			      "; other comment\n"
			      "[api]\n"
			      "  listen = 0.0.0.0:9000  \n"
			      "workers=8\n"
			      "\n"
			      "[storage]\n"
			      "path = \"/srv/media with \\\"quotes\\\"\"\n",
			      err, sizeof(err)),
			 0);
	assert_string_equal(config_get(&c, "api.listen"), "0.0.0.0:9000");
	assert_string_equal(config_get(&c, "api.workers"), "8");
	assert_string_equal(config_get(&c, "storage.path"), "/srv/media with \"quotes\"");

	char *env[] = { "ONAIR_API_LISTEN=127.0.0.1:1", "ONAIR_API_LISTENX=bad",
			"ONAIR_UNKNOWN=1", "PATH=/bin", NULL };
	config_load_env(&c, env);
	assert_string_equal(config_get(&c, "api.listen"), "127.0.0.1:1");
	assert_int_equal(config_set(&c, "api.workers", "2"), 0);
	assert_int_equal(config_set(&c, "api.nothing", "2"), -ENOENT);
	assert_string_equal(config_get(&c, "api.workers"), "2");

	char *dump = NULL;
	size_t dump_len = 0;
	FILE *f = open_memstream(&dump, &dump_len);
	config_dump(&c, f);
	fclose(f);
	assert_non_null(strstr(dump, "[api]\n"));
	assert_non_null(strstr(dump, "listen = 127.0.0.1:1\n"));
	assert_non_null(strstr(dump, "ONAIR_API_LISTEN; environment"));
	free(dump);
	config_release(&c);
}

static void test_errors_name_the_line(void **state)
{
	struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "[api]\nlisten = x\nbogus = 1\n", ":3: unknown setting 'api.bogus'" },
		{ "listen = x\n", ":1: 'listen' is outside any [section]" },
		{ "[api\n", ":1: bad section header" },
		{ "[]\n", ":1: bad section header" },
		{ "[api]\njust words\n", ":2: expected 'key = value'" },
		{ "[api]\nlisten = \"open\n", ":2: bad quoting" },
		{ "[api]\nlisten = \"a\"b\"\n", ":2: bad quoting" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		config_init(&c, keys, NKEYS);
		char err[256] = "";
		assert_int_equal(load(&c, cases[i].text, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].want);
		config_release(&c);
	}
}

static void test_long_line_is_an_error_not_truncated(void **state)
{
	size_t n = CONFIG_LINE_MAX + 100;
	char *text = malloc(n + 32);
	int off = snprintf(text, n + 32, "[api]\nlisten = ");
	memset(text + off, 'a', n);
	memcpy(text + off + n, "\n", 2);
	struct config c;
	config_init(&c, keys, NKEYS);
	char err[256] = "";
	assert_int_equal(load(&c, text, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2: line longer than"));
	assert_string_equal(config_get(&c, "api.listen"), "127.0.0.1:8080");
	config_release(&c);
	free(text);
}

static void test_missing_file(void **state)
{
	struct config c;
	config_init(&c, keys, NKEYS);
	char err[256] = "";
	assert_int_equal(config_load_file(&c, "/nonexistent/onair.ini", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/onair.ini"));
	config_release(&c);
}

static void test_env_name(void **state)
{
	char name[64];
	config_env_name("playout.state-dir", name, sizeof(name));
	assert_string_equal(name, "ONAIR_PLAYOUT_STATE_DIR");
	config_env_name("a.b", name, 8);
	assert_string_equal(name, "ONAIR_A");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_then_env),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_long_line_is_an_error_not_truncated),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_env_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
