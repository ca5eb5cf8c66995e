#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void test_empty_is_valid_string(void **state)
{
	struct buf b;
	buf_init(&b, 16);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_append_and_grow(void **state)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_int_equal(b.len, 3000);
	assert_int_equal(strlen(b.data), 3000);
	assert_memory_equal(b.data + 2997, "abc", 4);
	buf_release(&b);
}

static void test_limit_refuses_and_keeps_contents(void **state)
{
	struct buf b;
	buf_init(&b, 8);
	assert_int_equal(buf_append_str(&b, "12345"), 0);
	assert_int_equal(buf_append_str(&b, "6789"), -ENOSPC);
	assert_string_equal(b.data, "12345");
	assert_int_equal(buf_append_str(&b, "678"), 0);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(buf_append_char(&b, 'x'), -ENOSPC);
	assert_true(b.cap <= 9);
	buf_release(&b);
}

static void test_huge_request_does_not_overflow(void **state)
{
	struct buf b;
	buf_init(&b, 100);
	assert_int_equal(buf_append_str(&b, "a"), 0);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -ENOSPC);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 1), -ENOSPC);
	buf_release(&b);
}

static void test_printf(void **state)
{
	struct buf b;
	buf_init(&b, 32);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_int_equal(buf_printf(&b, "/%05d", 7), 0);
	assert_string_equal(b.data, "42-x/00007");
	assert_int_equal(buf_printf(&b, "%40s", "too long"), -ENOSPC);
	assert_string_equal(b.data, "42-x/00007");
	buf_release(&b);
}

static void test_reset_and_detach(void **state)
{
	struct buf b;
	buf_init(&b, 64);
	assert_int_equal(buf_append_str(&b, "hello"), 0);
	buf_reset(&b);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_append_str(&b, "world"), 0);
	size_t len;
	char *s = buf_detach(&b, &len);
	assert_string_equal(s, "world");
	assert_int_equal(len, 5);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 64);
	free(s);
	s = buf_detach(&b, NULL);
	assert_string_equal(s, "");
	free(s);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_valid_string),
		cmocka_unit_test(test_append_and_grow),
		cmocka_unit_test(test_limit_refuses_and_keeps_contents),
		cmocka_unit_test(test_huge_request_does_not_overflow),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_reset_and_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
