/*
 * test_hls_listeners.c - distinct HLS clients within a window.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "playout/hls_listeners.h"

#define S INT64_C(1000000)

static void test_window(void **state)
{
	(void)state;
	struct hls_listeners l;
	hls_listeners_init(&l);
	assert_int_equal(hls_listeners_count(&l, 100 * S, 60 * S), 0);
	/* Three clients, one of them fetching many segments. */
	for (int i = 0; i < 10; i++)
		hls_listeners_note(&l, "192.0.2.1", 100 * S + i * 2 * S);
	hls_listeners_note(&l, "192.0.2.2", 110 * S);
	hls_listeners_note(&l, "2001:db8::7", 115 * S);
	hls_listeners_note(&l, NULL, 115 * S);
	assert_int_equal(hls_listeners_count(&l, 120 * S, 60 * S), 3);
	/* A minute later only the one still fetching counts. */
	hls_listeners_note(&l, "192.0.2.1", 171 * S);
	assert_int_equal(hls_listeners_count(&l, 176 * S, 60 * S), 1);
	/* Forgotten ones come back as new. */
	hls_listeners_note(&l, "192.0.2.2", 177 * S);
	assert_int_equal(hls_listeners_count(&l, 178 * S, 60 * S), 2);
	hls_listeners_release(&l);
}

static void test_many(void **state)
{
	(void)state;
	struct hls_listeners l;
	hls_listeners_init(&l);
	char addr[32];
	for (unsigned i = 0; i < 70000; i++) {
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		hls_listeners_note(&l, addr, S);
	}
	size_t n = hls_listeners_count(&l, 2 * S, 60 * S);
	/* The table holds one less than its size: the count saturates. */
	assert_int_equal(n, HLS_LISTENERS_MAX - 1);
	assert_int_equal(hls_listeners_count(&l, 100 * S, 60 * S), 0);
	hls_listeners_release(&l);
}

struct noter {
	struct hls_listeners *l;
	int base;
};

static void *note_many(void *arg)
{
	struct noter *n = arg;
	char addr[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(addr, sizeof(addr), "198.51.%d.%d", n->base, i % 200);
		hls_listeners_note(n->l, addr, S + i);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct hls_listeners l;
	hls_listeners_init(&l);
	pthread_t t[4];
	struct noter n[4];
	for (int i = 0; i < 4; i++) {
		n[i] = (struct noter){ &l, i };
		pthread_create(&t[i], NULL, note_many, &n[i]);
	}
	for (int i = 0; i < 4; i++) {
		if (i == 2)
			hls_listeners_count(&l, S, 60 * S);
		pthread_join(t[i], NULL);
	}
	assert_int_equal(hls_listeners_count(&l, 2 * S, 60 * S), 800);
	hls_listeners_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("hls_listeners", tests, NULL, NULL);
}
