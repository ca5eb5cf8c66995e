/*
 * test_hls_playlist.c - one HLS numbering across Liquidsoap runs: the
 * first run passes through, a new run continues the media sequence with
 * a discontinuity, the discontinuity sequence grows once that segment has
 * left, master playlists and bad input are left alone, and the state
 * survives its text form.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "playout/hls_playlist.h"

/* A media playlist of run `run` (segment names "aac_r<run>_<n>.ts") from
 * media sequence seq with n segments. */
static const char *playlist(char *buf, size_t size, int run, int seq, int n)
{
	size_t len = (size_t)snprintf(buf, size, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
				      "#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n",
				      seq);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "#EXTINF:2.000,\naac_r%d_%d.ts\n", run,
					seq + i);
	return buf;
}

static char *rewrite(struct hls_seq *s, const char *in, struct buf *out)
{
	buf_reset(out);
	assert_int_equal(hls_playlist_rewrite(s, in, strlen(in), out), 0);
	assert_int_equal(buf_append_char(out, '\0'), 0);
	return out->data;
}

static void test_first_run_as_is(void **state)
{
	struct hls_seq s;
	hls_seq_init(&s);
	struct buf out;
	buf_init(&out, 1 << 16);
	char in[4096];
	char *got = rewrite(&s, playlist(in, sizeof(in), 7, 13, 3), &out);
	assert_non_null(strstr(got, "#EXT-X-MEDIA-SEQUENCE:13\n"));
	assert_null(strstr(got, "#EXT-X-DISCONTINUITY\n"));
	assert_non_null(strstr(got, "aac_r7_15.ts\n"));
	assert_int_equal(s.next, 16);
	buf_release(&out);
}

static void test_new_run_continues(void **state)
{
	struct hls_seq s;
	hls_seq_init(&s);
	struct buf out;
	buf_init(&out, 1 << 16);
	char in[4096];
	rewrite(&s, playlist(in, sizeof(in), 7, 20, 3), &out);	/* 20..22 */
	/* Liquidsoap restarted: its numbers start again at 0. */
	char *got = rewrite(&s, playlist(in, sizeof(in), 9, 0, 2), &out);
	assert_non_null(strstr(got, "#EXT-X-MEDIA-SEQUENCE:23\n"));
	assert_non_null(strstr(got, "#EXT-X-DISCONTINUITY-SEQUENCE:0\n"));
	/* The tag is right before the new run's first segment. */
	assert_non_null(strstr(got, "#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXT-X-DISCONTINUITY\n"
				    "#EXTINF:2.000,\naac_r9_0.ts\n"));
	/* Later, that segment has left: the sequence counts the tag. */
	got = rewrite(&s, playlist(in, sizeof(in), 9, 1, 3), &out);
	assert_non_null(strstr(got, "#EXT-X-MEDIA-SEQUENCE:24\n"));
	assert_non_null(strstr(got, "#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
	assert_null(strstr(got, "#EXT-X-DISCONTINUITY\n"));
	/* A third run continues from there. */
	got = rewrite(&s, playlist(in, sizeof(in), 11, 0, 1), &out);
	assert_non_null(strstr(got, "#EXT-X-MEDIA-SEQUENCE:27\n"));
	assert_non_null(strstr(got, "#EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXT-X-DISCONTINUITY\n"));
	buf_release(&out);
}

static void test_master_and_bad_input(void **state)
{
	struct hls_seq s;
	hls_seq_init(&s);
	struct buf out;
	buf_init(&out, 1 << 16);
	const char master[] = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=140800\naac.m3u8\n";
	/* No #EXTINF: a master playlist is served as it is. */
	assert_string_equal(rewrite(&s, master, &out), master);
	assert_string_equal(s.run, "");
	const char *bad[] = { "", "not a playlist\n", "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1x\n",
			      "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:\n",
			      "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:99999999999999999999\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&out);
		assert_int_equal(hls_playlist_rewrite(&s, bad[i], strlen(bad[i]), &out), -EINVAL);
		assert_int_equal(out.len, 0);
	}
	buf_release(&out);
}

static void test_state_text(void **state)
{
	struct hls_seq s, back;
	hls_seq_init(&s);
	struct buf out;
	buf_init(&out, 1 << 16);
	char in[4096], text[512];
	rewrite(&s, playlist(in, sizeof(in), 7, 20, 3), &out);
	rewrite(&s, playlist(in, sizeof(in), 9, 0, 2), &out);
	assert_int_equal(hls_seq_format(&s, text, sizeof(text)), 0);
	assert_int_equal(hls_seq_parse(&back, text), 0);
	assert_memory_equal(&back, &s, sizeof(s));
	/* A segment name with characters unfit for the state's text. */
	const char odd[] = "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2.0,\nsp ace\x01_3.ts\n";
	rewrite(&s, odd, &out);
	assert_int_equal(hls_seq_format(&s, text, sizeof(text)), 0);
	assert_int_equal(hls_seq_parse(&back, text), 0);
	assert_memory_equal(&back, &s, sizeof(s));
	assert_int_equal(hls_seq_parse(&back, "aac_r9 1 2"), -EINVAL);
	assert_int_equal(hls_seq_parse(&back, "aac_r9 1 2 0 -1 0 0"), -EINVAL);	/* no '=' */
	assert_int_equal(hls_seq_parse(&back, "=aac_r9 1 -2 0 -1 0 0"), -EINVAL);
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_run_as_is),
		cmocka_unit_test(test_new_run_continues),
		cmocka_unit_test(test_master_and_bad_input),
		cmocka_unit_test(test_state_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
