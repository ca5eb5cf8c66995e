/* The generated Liquidsoap script: escaping, and that Liquidsoap 2.1
 * itself accepts every shape of it (liquidsoap --check). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "playout/liq_script.h"

static void test_string_escaping(void **state)
{
	struct buf b;
	buf_init(&b, 4096);
	assert_int_equal(liq_script_string(&b, "plain"), 0);
	assert_string_equal(b.data, "(\"plain\")");
	buf_reset(&b);
	assert_int_equal(liq_script_string(&b, "a\"b\\c#{x}"), 0);
	assert_string_equal(b.data, "(\"a\\\"b\\\\c\" ^ \"#\" ^ \"{x}\")");
	buf_reset(&b);
	assert_int_equal(liq_script_string(&b, "line\nbreak"), -EINVAL);
	buf_reset(&b);
	assert_int_equal(liq_annotate_value(&b, "say \"hi\"\n\\"), 0);
	assert_string_equal(b.data, "\"say \\\"hi\\\" \\\\\"");
	buf_release(&b);
}

static struct proto_live_user user = { .name = "dj", .password_hash = "$argon2id$v=19$x" };

static void fill(struct proto_snapshot *s, struct proto_output *outs, size_t n_outs, bool live,
		 bool hls)
{
	memset(s, 0, sizeof(*s));
	s->revision = 1;
	s->station_name = "Test \"#{FM}\"";
	s->outputs = outs;
	s->n_outputs = n_outs;
	s->hls = (struct proto_hls){ .enabled = hls, .bitrate = 96, .segment = 2 * USEC_PER_SEC,
				     .segments = 5 };
	for (int i = 0; i < 2 && live; i++)
		s->live[i] = (struct proto_live_input_cfg){ .enabled = true,
							   .mount = i ? "show" : "main",
							   .fade = USEC_PER_SEC,
							   .users = &user, .n_users = 1 };
}

/* Write the script for s and run liquidsoap --check on it. */
static int check(const struct proto_snapshot *s, bool icecast)
{
	char dir[] = "/tmp/onair-liq-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], sock[128], m3u[128];
	snprintf(path, sizeof(path), "%s/onair.liq", dir);
	snprintf(sock, sizeof(sock), "%s/liq.sock", dir);
	snprintf(m3u, sizeof(m3u), "%s/fallback.m3u", dir);
	struct liq_script_options o = {
		.socket_path = sock, .fallback_m3u = m3u, .safety_file = "/dev/null",
		.hls_dir = dir, .icecast_host = icecast ? "127.0.0.1" : NULL, .icecast_port = 8000,
		.icecast_password = "pw\"#{x}", .harbor_address = "127.0.0.1", .harbor_port = 8001,
		.auth_command = "/bin/false", .state_dir = dir, .station_name = s->station_name,
		.transition_fade = USEC_PER_SEC, .snap = s,
	};
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(liq_script_write(&o, &b), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	buf_release(&b);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "liquidsoap --check '%s' > '%s/check.log' 2>&1", path, dir);
	int status = system(cmd);
	if (status != 0) {
		snprintf(cmd, sizeof(cmd), "cat '%s/check.log'", dir);
		(void)!system(cmd);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_liquidsoap_accepts_every_shape(void **state)
{
	struct proto_output all[] = {
		{ .mount = "/live.mp3", .format = PROTO_FORMAT_MP3, .bitrate = 128, .name = "A #{b}" },
		{ .mount = "/live.ogg", .format = PROTO_FORMAT_VORBIS, .bitrate = 128 },
		{ .mount = "/live.opus", .format = PROTO_FORMAT_OPUS, .bitrate = 96 },
		{ .mount = "/live.aac", .format = PROTO_FORMAT_AAC, .bitrate = 64 },
	};
	struct proto_snapshot s;
	fill(&s, all, 4, true, true);
	assert_int_equal(check(&s, true), 0);
	fill(&s, all, 1, false, false);
	assert_int_equal(check(&s, true), 0);
	fill(&s, NULL, 0, true, false);
	assert_int_equal(check(&s, false), 0);
}

/* Times reach playout inside JSON: Liquidsoap's string_of() and "#{}" print
 * a float like 1795831569.0 as "1795831569." (not JSON) and keep 10 ms. */
static void test_times_are_json_numbers(void **state)
{
	struct proto_output out = { .mount = "/live.mp3", .format = PROTO_FORMAT_MP3,
				    .bitrate = 128 };
	struct proto_snapshot s;
	fill(&s, &out, 1, true, true);
	struct liq_script_options o = {
		.socket_path = "/s", .fallback_m3u = "/f", .safety_file = "/a", .hls_dir = "/h",
		.icecast_host = "127.0.0.1", .icecast_port = 8000, .icecast_password = "pw",
		.harbor_port = 8001, .auth_command = "/bin/false", .state_dir = "/d",
		.station_name = "x", .snap = &s,
	};
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(liq_script_write(&o, &b), 0);
	assert_null(strstr(b.data, "string_of(time())"));
	assert_null(strstr(b.data, "#{time()}"));
	assert_non_null(strstr(b.data, "string_of_float(decimal_places=3, time())"));
	buf_release(&b);
}

static void test_refuses_bad_options(void **state)
{
	struct proto_output bad = { .mount = "/x", .format = PROTO_FORMAT_MP3, .bitrate = 1000 };
	struct proto_snapshot s;
	fill(&s, &bad, 1, false, false);
	struct liq_script_options o = { .socket_path = "/s", .fallback_m3u = "/f",
					.safety_file = "/a", .icecast_host = "h",
					.icecast_port = 8000, .snap = &s };
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(liq_script_write(&o, &b), -EINVAL);
	o.snap = NULL;
	assert_int_equal(liq_script_write(&o, &b), -EINVAL);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_escaping),
		cmocka_unit_test(test_liquidsoap_accepts_every_shape),
		cmocka_unit_test(test_times_are_json_numbers),
		cmocka_unit_test(test_refuses_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
