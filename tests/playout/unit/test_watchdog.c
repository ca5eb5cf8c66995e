/* The dead-air watchdog's decisions: the order of its actions, their
 * timing, output faults that must last, recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "playout/watchdog.h"

#define S INT64_C(1000000)
#define T0 (INT64_C(1800000000) * S)

static struct watchdog w;

static int setup(void **state)
{
	(void)state;
	watchdog_init(&w, 5 * S, 10 * S);
	return 0;
}

/* The action due at t, asserting its cause; -1 when there is none. */
static int next(int64_t t, enum proto_watchdog_cause want_cause)
{
	enum proto_watchdog_action a;
	enum proto_watchdog_cause c;
	if (!watchdog_next(&w, t, &a, &c))
		return -1;
	assert_int_equal(c, want_cause);
	return (int)a;
}

static void test_quiet_when_all_is_well(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++)
		assert_int_equal(next(T0 + i * S, PROTO_WD_SILENCE), -1);
	assert_false(watchdog_alarm(&w));
}

static void test_silence_escalates_in_order(void **state)
{
	(void)state;
	watchdog_set_silent(&w, true);
	assert_int_equal(next(T0, PROTO_WD_SILENCE), PROTO_WD_FALLBACK);
	assert_true(watchdog_alarm(&w));
	assert_int_equal(next(T0 + 9 * S, PROTO_WD_SILENCE), -1);
	assert_int_equal(next(T0 + 10 * S, PROTO_WD_SILENCE), PROTO_WD_RESTART_OUTPUT);
	assert_int_equal(next(T0 + 15 * S, PROTO_WD_SILENCE), -1);
	assert_int_equal(next(T0 + 20 * S, PROTO_WD_SILENCE), PROTO_WD_RESTART_LIQUIDSOAP);
	/* Then Liquidsoap again, at doubling intervals. */
	watchdog_liquidsoap_restarted(&w, T0 + 21 * S);
	watchdog_set_silent(&w, true);
	assert_int_equal(next(T0 + 29 * S, PROTO_WD_SILENCE), -1);
	assert_int_equal(next(T0 + 30 * S, PROTO_WD_SILENCE), PROTO_WD_RESTART_LIQUIDSOAP);
	assert_int_equal(next(T0 + 49 * S, PROTO_WD_SILENCE), -1);
	assert_int_equal(next(T0 + 50 * S, PROTO_WD_SILENCE), PROTO_WD_RESTART_LIQUIDSOAP);
	assert_int_equal(next(T0 + 89 * S, PROTO_WD_SILENCE), -1);
	assert_int_equal(next(T0 + 90 * S, PROTO_WD_SILENCE), PROTO_WD_RESTART_LIQUIDSOAP);
}

static void test_recovery_is_reported_once(void **state)
{
	(void)state;
	watchdog_set_silent(&w, true);
	assert_int_equal(next(T0, PROTO_WD_SILENCE), PROTO_WD_FALLBACK);
	watchdog_set_silent(&w, false);
	assert_int_equal(next(T0 + S, PROTO_WD_SILENCE), PROTO_WD_RECOVERED);
	assert_false(watchdog_alarm(&w));
	assert_int_equal(next(T0 + 2 * S, PROTO_WD_SILENCE), -1);
	assert_int_equal(next(T0 + 30 * S, PROTO_WD_SILENCE), -1);
	/* A new alarm starts from the first step again. */
	watchdog_set_silent(&w, true);
	assert_int_equal(next(T0 + 31 * S, PROTO_WD_SILENCE), PROTO_WD_FALLBACK);
}

static void test_output_fault_must_last(void **state)
{
	(void)state;
	watchdog_set_output_fault(&w, true, T0);
	assert_int_equal(next(T0 + 4 * S, PROTO_WD_OUTPUT), -1);
	/* A fault that clears in time is no alarm... */
	watchdog_set_output_fault(&w, false, T0 + 4 * S);
	assert_int_equal(next(T0 + 6 * S, PROTO_WD_OUTPUT), -1);
	/* ...and one that comes back is timed from its return. */
	watchdog_set_output_fault(&w, true, T0 + 7 * S);
	watchdog_set_output_fault(&w, true, T0 + 8 * S);
	assert_int_equal(next(T0 + 11 * S, PROTO_WD_OUTPUT), -1);
	/* Switching to the fallback cannot help an output: it starts with
	 * the output restart. */
	assert_int_equal(next(T0 + 12 * S, PROTO_WD_OUTPUT), PROTO_WD_RESTART_OUTPUT);
	assert_int_equal(next(T0 + 22 * S, PROTO_WD_OUTPUT), PROTO_WD_RESTART_LIQUIDSOAP);
	/* A restarted Liquidsoap gets its grace before the fault counts,
	 * and the grace is no recovery. */
	watchdog_liquidsoap_restarted(&w, T0 + 23 * S);
	watchdog_set_output_fault(&w, true, T0 + 24 * S);
	assert_int_equal(next(T0 + 24 * S, PROTO_WD_OUTPUT), -1);
	assert_true(watchdog_alarm(&w));
	watchdog_set_output_fault(&w, false, T0 + 26 * S);
	assert_int_equal(next(T0 + 26 * S, PROTO_WD_OUTPUT), PROTO_WD_RECOVERED);
}

static void test_cause_is_the_first_fault(void **state)
{
	(void)state;
	watchdog_set_output_fault(&w, true, T0);
	assert_int_equal(next(T0 + 5 * S, PROTO_WD_OUTPUT), PROTO_WD_RESTART_OUTPUT);
	watchdog_set_silent(&w, true);
	assert_int_equal(next(T0 + 15 * S, PROTO_WD_OUTPUT), PROTO_WD_RESTART_LIQUIDSOAP);
	watchdog_set_output_fault(&w, false, T0 + 16 * S);
	assert_int_equal(next(T0 + 16 * S, PROTO_WD_OUTPUT), -1);
	watchdog_set_silent(&w, false);
	assert_int_equal(next(T0 + 17 * S, PROTO_WD_OUTPUT), PROTO_WD_RECOVERED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_quiet_when_all_is_well, setup),
		cmocka_unit_test_setup(test_silence_escalates_in_order, setup),
		cmocka_unit_test_setup(test_recovery_is_reported_once, setup),
		cmocka_unit_test_setup(test_output_fault_must_last, setup),
		cmocka_unit_test_setup(test_cause_is_the_first_fault, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
