/*
 * test_procfile.c - the supervisor's process list (procfile.h) and its
 * decisions that need no process (supervisor.h: verdict, exit text,
 * restart delay).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "supervise/procfile.h"
#include "supervise/supervisor.h"

static int parse(struct procfile *pf, const char *text, char *err, size_t errlen)
{
	return procfile_parse(pf, text, strlen(text), err, errlen);
}

static void test_entries(void **state)
{
	(void)state;
	struct procfile pf;
	char err[128] = "";
	const char *text = "# the station\n"
			   "\n"
			   "nats ready=tcp:4222 -- nats-server -p 4222   # comment\n"
			   "api\t--\tonair api\r\n"
			   "say -- sh -c 'echo \"a b\"' \"x \\\"y\\\" \\\\z\" ''\n";
	assert_int_equal(parse(&pf, text, err, sizeof(err)), 0);
	assert_int_equal(pf.count, 3);
	assert_string_equal(pf.entries[0].name, "nats");
	assert_int_equal(pf.entries[0].ready_port, 4222);
	assert_int_equal(pf.entries[0].line, 3);
	assert_string_equal(pf.entries[0].argv[0], "nats-server");
	assert_string_equal(pf.entries[0].argv[2], "4222");
	assert_null(pf.entries[0].argv[3]);
	assert_string_equal(pf.entries[1].name, "api");
	assert_int_equal(pf.entries[1].ready_port, 0);
	assert_string_equal(pf.entries[1].argv[1], "api");
	assert_null(pf.entries[1].argv[2]);
	assert_string_equal(pf.entries[2].argv[2], "echo \"a b\"");
	assert_string_equal(pf.entries[2].argv[3], "x \"y\" \\z");
	assert_string_equal(pf.entries[2].argv[4], "");
	assert_null(pf.entries[2].argv[5]);
	procfile_free(&pf);
	assert_int_equal(pf.count, 0);
}

static void expect_error(const char *text, const char *want)
{
	struct procfile pf;
	char err[160] = "";
	assert_int_equal(parse(&pf, text, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("'%s' gave '%s', want '%s'", text, err, want);
	assert_int_equal(pf.count, 0);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("", "no process listed");
	expect_error("# only\n\n", "no process listed");
	expect_error("a -- x\nBad -- y\n", "line 2: 'Bad' is not a name");
	expect_error("a -- x\nb -- y\na -- z\n", "line 3: 'a' is already on line 1");
	expect_error("a x y\n", "line 1: unknown option 'x'");
	expect_error("a\n", "line 1: no '--' before the command");
	expect_error("a --\n", "line 1: no command after '--'");
	expect_error("a ready=tcp:0 -- x\n", "unknown option 'ready=tcp:0'");
	expect_error("a ready=tcp:65536 -- x\n", "unknown option");
	expect_error("a ready=tcp:80x -- x\n", "unknown option");
	expect_error("a -- sh -c 'echo\n", "line 1: unterminated ' quote");
	expect_error("a -- \"x\n", "unterminated \" quote");
	expect_error("abcdefghijabcdefghijabcdefghijab -- x\n", "is not a name");
	struct procfile pf;
	char err[160] = "";
	static const char nul[] = "a -- x\0y\n";
	assert_int_equal(procfile_parse(&pf, nul, sizeof(nul) - 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a NUL byte"));
}

static void test_limits(void **state)
{
	(void)state;
	char text[PROCFILE_MAX_LINE * 2];
	struct procfile pf;
	char err[160] = "";
	/* 33 processes */
	size_t o = 0;
	for (int i = 0; i <= PROCFILE_MAX_ENTRIES; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "p%d -- x\n", i);
	assert_int_equal(parse(&pf, text, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 32 processes"));
	/* 65 words in a command */
	o = (size_t)snprintf(text, sizeof(text), "a --");
	for (int i = 0; i <= PROCFILE_MAX_ARGS; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, " w");
	assert_int_equal(parse(&pf, text, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 64 words"));
	/* exactly 64 is fine */
	o = (size_t)snprintf(text, sizeof(text), "a --");
	for (int i = 0; i < PROCFILE_MAX_ARGS; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, " w");
	assert_int_equal(parse(&pf, text, err, sizeof(err)), 0);
	assert_string_equal(pf.entries[0].argv[63], "w");
	assert_null(pf.entries[0].argv[64]);
	procfile_free(&pf);
	/* a line too long */
	memset(text, 'x', PROCFILE_MAX_LINE + 1);
	memcpy(text, "a -- ", 5);
	text[PROCFILE_MAX_LINE + 1] = '\0';
	assert_int_equal(parse(&pf, text, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 4096"));
}

static void test_verdicts(void **state)
{
	(void)state;
	/* Wait statuses as the kernel encodes them. */
	int exit0 = 0, exit1 = 1 << 8, exit2 = 2 << 8, exit127 = 127 << 8;
	int killed = SIGKILL, segv_core = SIGSEGV | 0x80;
	assert_int_equal(sv_verdict_of(exit0), SV_DONE);
	assert_int_equal(sv_verdict_of(exit1), SV_RESTART);
	assert_int_equal(sv_verdict_of(exit2), SV_GIVE_UP);
	assert_int_equal(sv_verdict_of(exit127), SV_GIVE_UP);
	assert_int_equal(sv_verdict_of(killed), SV_RESTART);
	assert_int_equal(sv_verdict_of(SIGTERM), SV_RESTART);
	char out[96];
	sv_describe_exit(exit1, out, sizeof(out));
	assert_string_equal(out, "exited with status 1");
	sv_describe_exit(killed, out, sizeof(out));
	assert_string_equal(out, "killed by signal SIGKILL");
	sv_describe_exit(segv_core, out, sizeof(out));
	assert_string_equal(out, "killed by signal SIGSEGV (core dumped)");
}

static void test_backoff(void **state)
{
	(void)state;
	struct sv_options o = { .backoff_min_us = 500 * USEC_PER_MSEC,
				.backoff_max_us = 30 * USEC_PER_SEC,
				.healthy_us = 60 * USEC_PER_SEC };
	int64_t d = 0;
	const int64_t want[] = { 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		d = sv_next_backoff(d, USEC_PER_SEC, &o);
		assert_int_equal(d, want[i] * USEC_PER_MSEC);
	}
	/* a minute of health resets the delay */
	assert_int_equal(sv_next_backoff(d, 60 * USEC_PER_SEC, &o), 500 * USEC_PER_MSEC);
	assert_int_equal(sv_next_backoff(d, 59 * USEC_PER_SEC, &o), 30 * USEC_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
