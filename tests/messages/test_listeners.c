/*
 * test_listeners.c - reading Icecast's status document (the parser of
 * listeners.h); the sampling against a real Icecast server is in
 * tests/e2e/test_listeners.py.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "messages/listeners.h"

static int parse(const char *json, struct icecast_source *out, size_t max)
{
	return icecast_status_parse(json, strlen(json), out, max);
}

static void test_shapes(void **state)
{
	(void)state;
	struct icecast_source s[8];
	/* One source: an object. */
	assert_int_equal(parse("{\"icestats\":{\"admin\":\"x\",\"source\":{\"listenurl\":"
			       "\"http://127.0.0.1:8000/live.mp3\",\"listeners\":3}}}",
			       s, 8),
			 1);
	assert_string_equal(s[0].output, "icecast:127.0.0.1:8000/live.mp3");
	assert_int_equal(s[0].listeners, 3);
	/* Several: an array; unusable entries skipped. */
	assert_int_equal(parse("{\"icestats\":{\"source\":["
			       "{\"listenurl\":\"http://radio.example:8000/a.ogg\",\"listeners\":0},"
			       "{\"listenurl\":\"https://radio.example/b.opus\",\"listeners\":12},"
			       "{\"listeners\":5},"
			       "{\"listenurl\":\"http://h:1/c\",\"listeners\":-1},"
			       "{\"listenurl\":\"ftp://h/d\",\"listeners\":1},"
			       "{\"listenurl\":\"http://h:1/\",\"listeners\":1},"
			       "{\"listenurl\":\"http://h:1/e\",\"listeners\":\"7\"},"
			       "42]}}",
			       s, 8),
			 2);
	assert_string_equal(s[0].output, "icecast:radio.example:8000/a.ogg");
	assert_int_equal(s[0].listeners, 0);
	assert_string_equal(s[1].output, "icecast:radio.example/b.opus");
	assert_int_equal(s[1].listeners, 12);
	/* No source at all (nothing streams yet). */
	assert_int_equal(parse("{\"icestats\":{\"host\":\"localhost\"}}", s, 8), 0);
	/* The caller's room is respected. */
	assert_int_equal(parse("{\"icestats\":{\"source\":["
			       "{\"listenurl\":\"http://h/a\",\"listeners\":1},"
			       "{\"listenurl\":\"http://h/b\",\"listeners\":1}]}}",
			       s, 1),
			 1);
}

static void test_not_status(void **state)
{
	(void)state;
	struct icecast_source s[2];
	assert_int_equal(parse("", s, 2), -EINVAL);
	assert_int_equal(parse("<html>", s, 2), -EINVAL);
	assert_int_equal(parse("[]", s, 2), -EINVAL);
	assert_int_equal(parse("{\"icestats\":[]}", s, 2), -EINVAL);
	assert_int_equal(parse("{\"icestats\":{},\"icestats\":{}}", s, 2), -EINVAL);
	/* A URL too long for an output name is skipped. */
	char doc[600];
	char path[400];
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	snprintf(doc, sizeof(doc),
		 "{\"icestats\":{\"source\":{\"listenurl\":\"http://h/%s\",\"listeners\":1}}}",
		 path);
	assert_int_equal(parse(doc, s, 2), 0);
	/* Control characters in the URL are not taken into a name. */
	assert_int_equal(parse("{\"icestats\":{\"source\":{\"listenurl\":\"http://h/a\\nb\","
			       "\"listeners\":1}}}",
			       s, 2),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_not_status),
	};
	return cmocka_run_group_tests_name("listeners", tests, NULL, NULL);
}
