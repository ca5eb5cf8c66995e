#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/timeutil.h"
#include "fixtures.h"

/* The full fixture snapshot, encoded. */
static char *full_json(void)
{
	struct proto_snapshot s;
	struct buf b;
	fix_snapshot(&s);
	buf_init(&b, PROTO_MESSAGE_MAX);
	assert_int_equal(proto_snapshot_encode(&s, &b), 0);
	proto_snapshot_release(&s);
	return buf_detach(&b, NULL);
}

static void decode_ok(const char *json, struct proto_snapshot *out)
{
	struct proto_error err = { "" };
	int rc = proto_snapshot_decode(json, strlen(json), out, &err);
	if (rc != 0)
		fail_msg("decode failed (%d): %s", rc, err.text);
}

/* ---------------------------------------------------------------- round trip */

static void test_round_trip_full(void **state)
{
	struct proto_snapshot s, d;
	struct buf b1, b2;
	fix_snapshot(&s);
	buf_init(&b1, PROTO_MESSAGE_MAX);
	buf_init(&b2, PROTO_MESSAGE_MAX);

	assert_int_equal(proto_snapshot_encode(&s, &b1), 0);
	decode_ok(b1.data, &d);
	assert_snapshot_equal(&s, &d);
	assert_int_equal(proto_snapshot_encode(&d, &b2), 0);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.data, b2.data, b1.len);

	/* Deterministic: encoding again gives the same bytes. */
	buf_reset(&b2);
	assert_int_equal(proto_snapshot_encode(&s, &b2), 0);
	assert_string_equal(b1.data, b2.data);

	proto_snapshot_release(&d);
	proto_snapshot_release(&s);
	buf_release(&b1);
	buf_release(&b2);
}

static void test_encoding_form(void **state)
{
	char *json = full_json();
	/* Fixed key order, compact, durations as seconds, instants as RFC 3339. */
	const char *head = "{\"type\":\"snapshot\",\"version\":1,\"revision\":42,"
			   "\"generated_at\":\"2026-11-28T09:00:00.123456Z\",\"station\":{";
	assert_memory_equal(json, head, strlen(head));
	assert_non_null(strstr(json, "\"default_crossfade\":2.5,"));
	assert_non_null(strstr(json, "\"cue_in\":0.25,\"cue_out\":180.25,\"fade_in\":0.5,"
				     "\"fade_out\":2,\"crossfade\":0,\"gain_db\":-3.5,"));
	assert_non_null(strstr(json, "\"duration\":185.500007,"));
	assert_non_null(strstr(json, "\"fade_in\":0.000001,\"fade_out\":1.000001,"));
	assert_non_null(strstr(json, "\"gain_db\":0.1,"));
	assert_non_null(strstr(json, "back\\nslash\\t\\u0001 "));
	assert_non_null(strstr(json, "\\\"quoted\\\" \\\\ back"));
	assert_non_null(strstr(json, "\"hls\":{\"enabled\":true,\"bitrate\":96,\"segment\":6,"
				     "\"segments\":10}}"));
	/* Inapplicable fields are absent: no url on the file item, no media on
	 * the others; valid_from only where set. */
	assert_null(strstr(json, "\"url\":null"));
	assert_int_equal(strstr(json, "\"kind\":\"webstream\"") < strstr(json, "\"url\""), 1);
	free(json);
}

static void test_minimal_snapshot(void **state)
{
	const char *json = "{\"type\":\"snapshot\",\"version\":1,\"revision\":1,"
			   "\"generated_at\":\"2026-01-01T00:00:00+01:00\","
			   "\"station\":{\"name\":\"R\",\"timezone\":\"UTC\"},"
			   "\"window\":{\"start\":\"2026-01-01T00:00:00Z\","
			   "\"end\":\"2026-01-02T00:00:00Z\"},\"items\":[]}";
	struct proto_snapshot s;
	decode_ok(json, &s);
	assert_int_equal(s.generated_at, INT64_C(1767222000000000));
	assert_int_equal(s.n_items, 0);
	assert_null(s.items);
	assert_int_equal(s.n_fallback, 0);
	assert_int_equal(s.n_outputs, 0);
	assert_false(s.live[0].enabled);
	assert_null(s.live[0].mount);
	assert_false(s.hls.enabled);
	struct buf b;
	buf_init(&b, 4096);
	assert_int_equal(proto_snapshot_encode(&s, &b), 0);
	assert_string_equal(b.data,
			    "{\"type\":\"snapshot\",\"version\":1,\"revision\":1,"
			    "\"generated_at\":\"2025-12-31T23:00:00Z\","
			    "\"station\":{\"name\":\"R\",\"timezone\":\"UTC\"},"
			    "\"window\":{\"start\":\"2026-01-01T00:00:00Z\","
			    "\"end\":\"2026-01-02T00:00:00Z\"},\"default_crossfade\":0,"
			    "\"items\":[],\"fallback\":[],\"live\":{"
			    "\"main\":{\"enabled\":false,\"fade\":0,\"users\":[]},"
			    "\"show\":{\"enabled\":false,\"fade\":0,\"users\":[]}},"
			    "\"outputs\":[],\"hls\":{\"enabled\":false}}");
	buf_release(&b);
	proto_snapshot_release(&s);
}

/* Unknown fields anywhere are ignored; so are fields that do not apply. */
static void test_unknown_fields_ignored(void **state)
{
	char *base = full_json();
	static const char *const adds[][2] = {
		{ "future", "{\"a\":[1,2,{\"b\":null}]}" },
		{ "items.0.future", "1.5" },
		{ "items.0.media.future", "\"x\"" },
		{ "items.0.metadata.genre", "\"jazz\"" },
		{ "items.0.show.future", "true" },
		{ "items.0.url", "\"not applicable to a file\"" },
		{ "items.1.media", "{\"id\":\"not applicable\"}" },
		{ "items.1.cue_in", "\"not applicable\"" },
		{ "station.future", "null" },
		{ "window.future", "[]" },
		{ "fallback.0.future", "{}" },
		{ "live.future", "{}" },
		{ "live.main.future", "0" },
		{ "live.main.users.0.future", "0" },
		{ "outputs.0.future", "0" },
		{ "hls.future", "0" },
	};
	char *json = xstrdup(base);
	for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
		char *next = json_mutate(json, adds[i][0], adds[i][1]);
		free(json);
		json = next;
	}
	struct proto_snapshot s;
	decode_ok(json, &s);
	struct buf b;
	buf_init(&b, PROTO_MESSAGE_MAX);
	assert_int_equal(proto_snapshot_encode(&s, &b), 0);
	assert_string_equal(b.data, base);
	buf_release(&b);
	proto_snapshot_release(&s);
	free(json);
	free(base);
}

/* Optional fields may be null as well as absent. */
static void test_nulls_are_absent(void **state)
{
	char *base = full_json();
	static const char *const paths[] = {
		"items.0.media.mime", "items.0.metadata.album", "items.0.show.name",
		"items.0.fade_in", "items.0.gain_db", "items.1.metadata", "items.2.show",
		"default_crossfade", "fallback", "live.show", "outputs.0.name",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *json = json_mutate(base, paths[i], "null");
		struct proto_snapshot s;
		decode_ok(json, &s);
		proto_snapshot_release(&s);
		free(json);
	}
	free(base);
}

/* ---------------------------------------------------------------- durations */

static int64_t next_rand(uint64_t *x)
{
	*x = *x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return (int64_t)(*x >> 11);
}

/* Round-trip values[0..n) through media.duration, cue_in, cue_out, fade_in
 * and crossfade of file items, and check every one exactly. */
static void check_durations(const int64_t *values, size_t n)
{
	const int64_t length = SEC(3600);
	struct proto_snapshot s;
	memset(&s, 0, sizeof(s));
	s.revision = 1;
	s.station_name = xstrdup("D");
	s.timezone = xstrdup("UTC");
	s.window_start = FIX_T0;
	s.window_end = FIX_T0 + (int64_t)n * length;
	s.items = xcalloc(n, sizeof(*s.items));
	s.n_items = n;
	for (size_t i = 0; i < n; i++) {
		struct proto_item *it = &s.items[i];
		int64_t v = values[i];
		it->id = (int64_t)i + 1;
		it->kind = PROTO_ITEM_FILE;
		it->start = FIX_T0 + (int64_t)i * length;
		it->end = it->start + length;
		it->media.id = 1;
		it->media.hash = xstrdup("sha256:00000000000000000000000000000000"
					 "00000000000000000000000000000000");
		it->media.size = 1;
		it->media.duration = v;
		it->cue_in = v / 2;
		it->cue_out = v;
		it->fade_in = v % length;
		it->crossfade = (v / 7) % length;
	}
	struct proto_error err = { "" };
	if (proto_snapshot_validate(&s, &err) < 0)
		fail_msg("%s", err.text);
	struct buf b;
	buf_init(&b, PROTO_MESSAGE_MAX);
	assert_int_equal(proto_snapshot_encode(&s, &b), 0);
	struct proto_snapshot d;
	decode_ok(b.data, &d);
	assert_int_equal(d.n_items, n);
	for (size_t i = 0; i < n; i++) {
		const struct proto_item *x = &s.items[i], *y = &d.items[i];
		if (x->media.duration != y->media.duration || x->cue_in != y->cue_in ||
		    x->cue_out != y->cue_out || x->fade_in != y->fade_in ||
		    x->crossfade != y->crossfade)
			fail_msg("duration %lld us did not survive the round trip",
				 (long long)values[i]);
	}
	proto_snapshot_release(&d);
	proto_snapshot_release(&s);
	buf_release(&b);
}

#define BATCH 20000

static void test_durations_exact(void **state)
{
	int64_t *v = xcalloc(BATCH, sizeof(*v));
	uint64_t seed = 12345;
	size_t n;

	/* Small values: every microsecond from 1 us. */
	for (n = 0; n < BATCH; n++)
		v[n] = (int64_t)n + 1;
	check_durations(v, n);

	/* Just under the maximum. */
	for (n = 0; n < BATCH; n++)
		v[n] = PROTO_DURATION_MAX - (int64_t)n;
	check_durations(v, n);

	/* Every 7th fraction of a second under 10^9 s and around 2^k s. */
	for (int64_t f = 0; f < USEC_PER_SEC; f += BATCH * 7) {
		for (n = 0; n < BATCH && f + (int64_t)n * 7 < USEC_PER_SEC; n++)
			v[n] = INT64_C(999999999) * USEC_PER_SEC + f + (int64_t)n * 7;
		check_durations(v, n);
	}
	for (n = 0; n < BATCH; n++) {
		int k = (int)(n % 30);
		v[n] = (INT64_C(1) << k) * USEC_PER_SEC + next_rand(&seed) % USEC_PER_SEC;
	}
	check_durations(v, n);

	/* Random over the whole range. */
	for (int round = 0; round < 3; round++) {
		for (n = 0; n < BATCH; n++)
			v[n] = 1 + next_rand(&seed) % PROTO_DURATION_MAX;
		check_durations(v, n);
	}

	/* Powers of ten and their neighbours. */
	n = 0;
	for (int64_t p = 1; p <= PROTO_DURATION_MAX; p *= 10) {
		v[n++] = p;
		if (p < PROTO_DURATION_MAX)
			v[n++] = p + 1;
		if (p > 1)
			v[n++] = p - 1;
	}
	check_durations(v, n);
	free(v);
}

static void test_duration_text_forms(void **state)
{
	char *base = full_json();
	static const struct {
		const char *text;
		int64_t us;
	} forms[] = {
		{ "0", 0 },		{ "0.0", 0 },		{ "1e-6", 1 },
		{ "2", 2000000 },	{ "2.0", 2000000 },	{ "0.1234564", 123456 },
		{ "0.1234566", 123457 },	{ "1.5E2", 150000000 },	{ "-0.0", 0 },
		{ "1000000000", PROTO_DURATION_MAX },
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char *json = json_mutate(base, "default_crossfade", "0");
		/* json_mutate reformats numbers; splice the text in by hand. */
		char *at = strstr(json, "\"default_crossfade\":0");
		assert_non_null(at);
		at += strlen("\"default_crossfade\":");
		struct buf b;
		buf_init(&b, PROTO_MESSAGE_MAX);
		buf_append(&b, json, (size_t)(at - json));
		buf_append_str(&b, forms[i].text);
		buf_append_str(&b, at + 1);
		struct proto_snapshot s;
		decode_ok(b.data, &s);
		if (s.default_crossfade != forms[i].us)
			fail_msg("%s: got %lld us, expected %lld", forms[i].text,
				 (long long)s.default_crossfade, (long long)forms[i].us);
		proto_snapshot_release(&s);
		buf_release(&b);
		free(json);
	}
	free(base);
}

/* ------------------------------------------------------------------ item_at */

static void test_item_at(void **state)
{
	struct proto_snapshot s;
	fix_snapshot(&s);
	/* Items: [T0, T0+180) file; [T0+178.5, T0+3600) webstream (crossfade
	 * 1.5 s); [T0+3600, T0+7200) live; [T0+7200, T0+7260) silence. */
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 - 1), -1);
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0), 0);
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 + SEC(178.5) - 1), 0);
	/* In the overlap: the later one. */
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 + SEC(178.5)), 1);
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 + SEC(179)), 1);
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 + SEC(3600) - 1), 1);
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 + SEC(3600)), 2);
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 + SEC(7259)), 3);
	/* end is exclusive */
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 + SEC(7260)), -1);
	assert_int_equal(proto_snapshot_item_at(&s, INT64_MAX), -1);
	assert_int_equal(proto_snapshot_item_at(&s, INT64_MIN), -1);

	/* A gap between two items. */
	s.items[3].start = FIX_T0 + SEC(7300);
	s.items[3].end = FIX_T0 + SEC(7400);
	assert_int_equal(proto_snapshot_validate(&s, NULL), 0);
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 + SEC(7250)), -1);
	assert_int_equal(proto_snapshot_item_at(&s, FIX_T0 + SEC(7300)), 3);
	proto_snapshot_release(&s);

	struct proto_snapshot empty;
	memset(&empty, 0, sizeof(empty));
	assert_int_equal(proto_snapshot_item_at(&empty, FIX_T0), -1);
}

/* ------------------------------------------------------------ raw rejection */

static void expect_reject(const char *json, size_t len, int want_rc, const char *want_err)
{
	struct proto_snapshot s;
	struct proto_error err = { "" };
	memset(&s, 0x5a, sizeof(s));
	int rc = proto_snapshot_decode(json, len, &s, &err);
	if (rc != want_rc || !strstr(err.text, want_err))
		fail_msg("rc %d \"%s\", expected %d \"%s\"", rc, err.text, want_rc, want_err);
	/* The struct is left released (zeroed). */
	struct proto_snapshot zero;
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&s, &zero, sizeof(s));
}

static void test_reject_malformed(void **state)
{
	char *json = full_json();
	size_t len = strlen(json);
	expect_reject(json, len - 1, -EINVAL, "invalid JSON");
	expect_reject(json, len / 2, -EINVAL, "invalid JSON");
	expect_reject("", 0, -EINVAL, "invalid JSON");
	expect_reject(NULL, 0, -EINVAL, "invalid JSON");
	expect_reject("{\"type\":\"snapshot\",}", 20, -EINVAL, "invalid JSON");
	expect_reject("[]", 2, -EINVAL, "message: must be a JSON object");
	expect_reject("\"snapshot\"", 10, -EINVAL, "invalid JSON");
	expect_reject("{} {}", 5, -EINVAL, "invalid JSON");
	expect_reject("{\"version\":1,\"type\":\"snapshot\"\xff}", 31, -EINVAL, "invalid JSON");
	/* Embedded NUL in the text itself. */
	char with_nul[] = "{\"version\":1,\"type\":\"snap\0shot\"}";
	expect_reject(with_nul, sizeof(with_nul) - 1, -EINVAL, "invalid JSON");
	/* Numbers beyond int64 and beyond double. */
	char *at = strstr(json, "\"revision\":42,");
	assert_non_null(at);
	static const char *const huge[] = { "9223372036854775808", "-9223372036854775809",
					    "1e400" };
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		struct buf b;
		buf_init(&b, PROTO_MESSAGE_MAX);
		buf_append(&b, json, (size_t)(at - json));
		buf_printf(&b, "\"revision\":%s%s", huge[i], at + strlen("\"revision\":42"));
		expect_reject(b.data, b.len, -EINVAL, "invalid JSON");
		buf_release(&b);
	}
	free(json);
}

static void test_reject_duplicate_keys(void **state)
{
	char *json = full_json();
	/* A second "revision" at the top and a second "id" inside an item. */
	struct buf b;
	buf_init(&b, PROTO_MESSAGE_MAX);
	buf_printf(&b, "{\"revision\":7,%s", json + 1);
	expect_reject(b.data, b.len, -EINVAL, "duplicate object key");
	buf_reset(&b);
	char *item = strstr(json, "{\"id\":1002,");
	assert_non_null(item);
	buf_append(&b, json, (size_t)(item - json) + 1);
	buf_printf(&b, "\"id\":5,%s", item + 1);
	expect_reject(b.data, b.len, -EINVAL, "duplicate object key");
	buf_release(&b);
	free(json);
}

static void test_reject_oversize(void **state)
{
	size_t len = (size_t)PROTO_MESSAGE_MAX + 1;
	char *big = xmalloc(len);
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	expect_reject(big, len, -E2BIG, "more than");
	/* The same text one byte shorter is parsed (and refused for content). */
	big[len - 2] = '}';
	expect_reject(big, len - 1, -EINVAL, "version: required");
	free(big);
}

static void test_reject_too_many_items(void **state)
{
	struct buf b;
	buf_init(&b, PROTO_MESSAGE_MAX);
	buf_append_str(&b, "{\"type\":\"snapshot\",\"version\":1,\"items\":[");
	for (unsigned i = 0; i <= PROTO_ITEMS_MAX; i++)
		buf_append_str(&b, i ? ",{}" : "{}");
	buf_append_str(&b, "],\"revision\":1,\"generated_at\":\"2026-01-01T00:00:00Z\","
			   "\"station\":{\"name\":\"R\",\"timezone\":\"UTC\"},"
			   "\"window\":{\"start\":\"2026-01-01T00:00:00Z\","
			   "\"end\":\"2026-01-02T00:00:00Z\"}}");
	expect_reject(b.data, b.len, -EINVAL, "items: more than 100000 elements");
	buf_release(&b);
}

/* ------------------------------------------------------ struct-side checks */

static void test_validate_and_encode_refuse(void **state)
{
	struct proto_snapshot s;
	struct proto_error err = { "" };
	struct buf b;
	fix_snapshot(&s);
	buf_init(&b, PROTO_MESSAGE_MAX);
	buf_append_str(&b, "prefix");

	free(s.items[0].meta.title);
	s.items[0].meta.title = xstrdup("bad \xc3\x28 utf-8");
	assert_int_equal(proto_snapshot_validate(&s, &err), -EINVAL);
	assert_string_equal(err.text, "items[0].metadata.title: not valid UTF-8");
	assert_int_equal(proto_snapshot_encode(&s, &b), -EINVAL);
	assert_string_equal(b.data, "prefix");
	free(s.items[0].meta.title);
	s.items[0].meta.title = NULL;

	s.items[2].kind = (enum proto_item_kind)9;
	assert_int_equal(proto_snapshot_validate(&s, &err), -EINVAL);
	assert_string_equal(err.text, "items[2].kind: unknown value 9");
	s.items[2].kind = PROTO_ITEM_LIVE;

	s.items[0].gain_db = NAN;
	assert_int_equal(proto_snapshot_validate(&s, &err), -EINVAL);
	assert_string_equal(err.text, "items[0].gain_db: must be -60..24 dB");
	s.items[0].gain_db = 0;

	s.revision = (uint64_t)INT64_MAX + 1;
	assert_int_equal(proto_snapshot_validate(&s, &err), -EINVAL);
	assert_non_null(strstr(err.text, "revision: must be 1.."));
	s.revision = 1;

	s.window_end = TIME_MAX_US + 1;
	assert_int_equal(proto_snapshot_validate(&s, &err), -EINVAL);
	assert_string_equal(err.text, "window.end: instant out of range (years 0001..9999)");
	s.window_end = FIX_T0 + SEC(86400);

	s.default_crossfade = PROTO_DURATION_MAX + 1;
	assert_int_equal(proto_snapshot_validate(&s, &err), -EINVAL);
	assert_string_equal(err.text, "default_crossfade: must be 0..1000000000 s");
	s.default_crossfade = 0;

	/* Fields that do not apply are ignored. */
	s.items[0].url = xstrdup("ignored");
	s.items[2].cue_out = 5;
	s.hls.enabled = false;
	s.hls.bitrate = 1;
	assert_int_equal(proto_snapshot_validate(&s, &err), 0);
	assert_int_equal(proto_snapshot_encode(&s, &b), 0);
	assert_null(strstr(b.data, "ignored"));

	/* -ENOSPC leaves the buffer as it was. */
	struct buf small;
	buf_init(&small, 100);
	buf_append_str(&small, "x");
	assert_int_equal(proto_snapshot_encode(&s, &small), -ENOSPC);
	assert_int_equal(small.len, 1);
	assert_string_equal(small.data, "x");
	buf_release(&small);

	proto_snapshot_release(&s);
	proto_snapshot_release(&s);	/* safe twice: it was zeroed */
	buf_release(&b);
}

/* --------------------------------------------------------- rejection table */

static char *gen_long_name(void)
{
	return json_long_string("", 'n', PROTO_STRING_MAX + 1);
}
static char *gen_long_url(void)
{
	return json_long_string("http://", 'u', PROTO_URL_MAX - 6);
}
static char *gen_long_password_hash(void)
{
	return json_long_string("$argon2id$", 'h', 247);
}
static char *gen_long_timezone(void)
{
	return json_long_string("", 'Z', 65);
}
static char *gen_long_output_mount(void)
{
	return json_long_string("/", 'm', 128);
}
static char *gen_too_many_outputs(void)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_append_char(&b, '[');
	for (unsigned i = 0; i <= PROTO_OUTPUTS_MAX; i++)
		buf_printf(&b, "%s{\"mount\":\"/m%u\",\"format\":\"mp3\",\"bitrate\":64}",
			   i ? "," : "", i);
	buf_append_char(&b, ']');
	return buf_detach(&b, NULL);
}
static char *gen_too_many_users(void)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_append_char(&b, '[');
	for (unsigned i = 0; i <= PROTO_LIVE_USERS_MAX; i++)
		buf_printf(&b, "%s{\"name\":\"u%u\",\"password_hash\":\"$argon2id$x\"}",
			   i ? "," : "", i);
	buf_append_char(&b, ']');
	return buf_detach(&b, NULL);
}
static char *gen_too_many_fallback(void)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_append_char(&b, '[');
	for (unsigned i = 0; i <= PROTO_FALLBACK_MAX; i++)
		buf_append_str(&b, i ? ",{}" : "{}");
	buf_append_char(&b, ']');
	return buf_detach(&b, NULL);
}

#define R(name, path, value, err) { name, path, value, NULL, 0, err }
#define G(name, path, gen, err) { name, path, NULL, gen, 0, err }

static const struct reject_case snapshot_rejects[] = {
	/* envelope */
	{ "version 2", "version", "2", NULL, -ONAIR_EPROTO_VERSION,
	  "version: 2 is newer than the supported version 1" },
	R("version 0", "version", "0", "version: must be >= 1"),
	R("version string", "version", "\"1\"", "version: must be an integer"),
	R("version real", "version", "1.0", "version: must be an integer"),
	R("version missing", "version", NULL, "version: required"),
	R("type event", "type", "\"event\"", "type: must be \"snapshot\""),
	R("type missing", "type", NULL, "type: must be \"snapshot\""),
	R("type number", "type", "1", "type: must be \"snapshot\""),
	/* top level */
	R("revision 0", "revision", "0", "revision: must be 1.."),
	R("revision negative", "revision", "-1", "revision: must be >= 0"),
	R("revision string", "revision", "\"42\"", "revision: must be an integer"),
	R("revision real", "revision", "42.5", "revision: must be an integer"),
	R("revision bool", "revision", "true", "revision: must be an integer"),
	R("revision missing", "revision", NULL, "revision: required"),
	R("revision null", "revision", "null", "revision: required"),
	R("generated_at missing", "generated_at", NULL, "generated_at: required"),
	R("generated_at number", "generated_at", "1795860000", "generated_at: must be a string"),
	R("generated_at bad date", "generated_at", "\"2026-02-30T00:00:00Z\"",
	  "generated_at: must be an RFC 3339 date-time"),
	R("generated_at no zone", "generated_at", "\"2026-01-01T00:00:00\"",
	  "generated_at: must be an RFC 3339 date-time"),
	R("generated_at out of range", "generated_at", "\"0001-01-01T00:00:00+01:00\"",
	  "generated_at: instant out of range"),
	R("station missing", "station", NULL, "station: required"),
	R("station array", "station", "[]", "station: must be an object"),
	R("station.name missing", "station.name", NULL, "station.name: required"),
	R("station.name empty", "station.name", "\"\"", "station.name: must not be empty"),
	R("station.name control", "station.name", "\"a\\nb\"",
	  "station.name: must not contain control characters"),
	G("station.name too long", "station.name", gen_long_name,
	  "station.name: longer than 1024 bytes"),
	R("station.name NUL", "station.name", "\"a\\u0000b\"", "invalid JSON"),
	R("station.timezone bad", "station.timezone", "\"Europe/Ber lin\"",
	  "station.timezone: must match [A-Za-z0-9_+/-]{1,64}"),
	R("station.timezone empty", "station.timezone", "\"\"", "station.timezone: must match"),
	G("station.timezone too long", "station.timezone", gen_long_timezone,
	  "station.timezone: must match"),
	R("window missing", "window", NULL, "window: required"),
	R("window.start missing", "window.start", NULL, "window.start: required"),
	R("window.end not after start", "window.end", "\"2026-11-28T09:59:00Z\"",
	  "window.end: must be after window.start"),
	R("default_crossfade negative", "default_crossfade", "-0.5",
	  "default_crossfade: must be 0..1000000000 s"),
	R("default_crossfade too big", "default_crossfade", "1000000000.5",
	  "default_crossfade: must be 0..1000000000 s"),
	R("default_crossfade huge int", "default_crossfade", "9223372036854775807",
	  "default_crossfade: must be 0..1000000000 s"),
	R("default_crossfade string", "default_crossfade", "\"2.5\"",
	  "default_crossfade: must be a number of seconds"),
	/* items */
	R("items missing", "items", NULL, "items: required"),
	R("items object", "items", "{}", "items: must be an array"),
	R("item not object", "items.0", "5", "items[0]: must be an object"),
	R("item id 0", "items.0.id", "0", "items[0].id: must be >= 1"),
	R("item id real", "items.0.id", "1001.0", "items[0].id: must be an integer"),
	R("item id missing", "items.3.id", NULL, "items[3].id: required"),
	R("item id duplicate", "items.3.id", "1002", "items[3].id: duplicate of items[1].id"),
	R("item kind unknown", "items.0.kind", "\"video\"",
	  "items[0].kind: must be one of: file, webstream, live, silence"),
	R("item kind upper case", "items.0.kind", "\"FILE\"", "items[0].kind: must be one of"),
	R("item kind number", "items.0.kind", "0", "items[0].kind: must be a string"),
	R("item start missing", "items.0.start", NULL, "items[0].start: required"),
	R("item end before start", "items.0.end", "\"2026-11-28T09:59:59Z\"",
	  "items[0].end: must be after start"),
	R("item end equals start", "items.3.end", "\"2026-11-28T12:00:00Z\"",
	  "items[3].end: must be after start"),
	R("items unsorted", "items.1.start", "\"2026-11-28T09:59:00Z\"",
	  "items[1].start: must be after items[0].start"),
	R("items same start", "items.1.start", "\"2026-11-28T10:00:00Z\"",
	  "items[1].start: must be after items[0].start"),
	R("overlap beyond crossfade", "items.1.start", "\"2026-11-28T10:02:58.499999Z\"",
	  "items[1].start: overlaps items[0] by more than this item's crossfade"),
	R("overlap without crossfade", "items.2.start", "\"2026-11-28T10:59:59.999999Z\"",
	  "items[2].start: overlaps items[1]"),
	R("crossfade not shorter than item", "items.3.crossfade", "60",
	  "items[3].crossfade: must be shorter than the item"),
	R("crossfade negative", "items.1.crossfade", "-1.5", "items[1].crossfade: must be 0.."),
	R("fade_in longer than item", "items.0.fade_in", "180.000001",
	  "items[0].fade_in: must be 0..180 s"),
	R("fade_out negative", "items.0.fade_out", "-0.000001", "items[0].fade_out: must be 0.."),
	R("fade_out string", "items.0.fade_out", "\"2s\"", "items[0].fade_out: must be a number"),
	R("gain too high", "items.0.gain_db", "24.01", "items[0].gain_db: must be -60..24 dB"),
	R("gain too low", "items.2.gain_db", "-60.5", "items[2].gain_db: must be -60..24 dB"),
	R("gain string", "items.0.gain_db", "\"-3\"", "items[0].gain_db: must be a number"),
	R("file media missing", "items.0.media", NULL, "items[0].media: required"),
	R("file media not object", "items.0.media", "\"x\"", "items[0].media: must be an object"),
	R("media id 0", "items.0.media.id", "0", "items[0].media.id: must be >= 1"),
	R("media hash upper case", "items.0.media.hash",
	  "\"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"",
	  "items[0].media.hash: must be sha256:<64 lowercase hex digits>"),
	R("media hash wrong algorithm", "items.0.media.hash",
	  "\"md5:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"",
	  "items[0].media.hash: must be sha256:"),
	R("media hash short", "items.0.media.hash", "\"sha256:0123\"",
	  "items[0].media.hash: must be sha256:"),
	R("media hash long", "items.0.media.hash",
	  "\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0\"",
	  "items[0].media.hash: must be sha256:"),
	R("media hash missing", "items.0.media.hash", NULL, "items[0].media.hash: required"),
	R("media size 0", "items.0.media.size", "0", "items[0].media.size: must be >= 1"),
	R("media duration 0", "items.0.media.duration", "0",
	  "items[0].media.duration: must be 0.000001..1000000000 s"),
	R("media duration missing", "items.0.media.duration", NULL,
	  "items[0].media.duration: required"),
	R("media mime control", "items.0.media.mime", "\"audio/mpeg\\r\"",
	  "items[0].media.mime: must not contain control characters"),
	R("cue_in negative", "items.0.cue_in", "-1", "items[0].cue_in: must be 0.."),
	R("cue_out missing", "items.0.cue_out", NULL, "items[0].cue_out: required"),
	R("cue_out before cue_in", "items.0.cue_out", "0.25",
	  "items[0].cue_out: must be after cue_in"),
	R("cue_out after media end", "items.0.cue_out", "185.500008",
	  "items[0].cue_out: must not be after media.duration"),
	R("webstream url missing", "items.1.url", NULL, "items[1].url: required"),
	R("webstream url ftp", "items.1.url", "\"ftp://relay.example.org/\"",
	  "items[1].url: must start with http:// or https://"),
	R("webstream url no host", "items.1.url", "\"http://\"", "items[1].url: must name a host"),
	R("webstream url control", "items.1.url", "\"http://a\\u0001b/\"",
	  "items[1].url: must not contain control characters"),
	R("webstream url space", "items.1.url", "\"http://a b/\"",
	  "items[1].url: must not contain spaces"),
	G("webstream url too long", "items.1.url", gen_long_url,
	  "items[1].url: longer than 4096 bytes"),
	R("metadata not object", "items.0.metadata", "[]", "items[0].metadata: must be an object"),
	R("metadata title number", "items.0.metadata.title", "5",
	  "items[0].metadata.title: must be a string"),
	G("metadata artist too long", "items.0.metadata.artist", gen_long_name,
	  "items[0].metadata.artist: longer than 1024 bytes"),
	R("show id 0", "items.0.show.id", "0", "items[0].show.id: must be >= 1"),
	R("show id missing", "items.0.show.id", NULL, "items[0].show.id: required"),
	R("show instance_id 0", "items.2.show.instance_id", "0",
	  "items[2].show.instance_id: must be >= 1"),
	R("show name number", "items.0.show.name", "1", "items[0].show.name: must be a string"),
	/* fallback */
	R("fallback object", "fallback", "{}", "fallback: must be an array"),
	R("fallback media missing", "fallback.1.media", NULL, "fallback[1].media: required"),
	R("fallback hash bad", "fallback.0.media.hash", "\"sha256:xyz\"",
	  "fallback[0].media.hash: must be sha256:"),
	R("fallback gain", "fallback.0.gain_db", "100", "fallback[0].gain_db: must be -60..24"),
	G("fallback too many", "fallback", gen_too_many_fallback,
	  "fallback: more than 10000 elements"),
	/* live */
	R("live not object", "live", "true", "live: must be an object"),
	R("live.main not object", "live.main", "[]", "live.main: must be an object"),
	R("live enabled missing", "live.main.enabled", NULL, "live.main.enabled: required"),
	R("live enabled string", "live.main.enabled", "\"yes\"",
	  "live.main.enabled: must be true or false"),
	R("live mount missing when enabled", "live.main.mount", NULL, "live.main.mount: required"),
	R("live mount bad", "live.main.mount", "\"main mount\"",
	  "live.main.mount: must match [A-Za-z0-9_-]{1,64}"),
	R("live mount slash", "live.show.mount", "\"/show\"", "live.show.mount: must match"),
	R("live mounts equal", "live.show.mount", "\"main\"",
	  "live.show.mount: must differ from live.main.mount"),
	R("live fade negative", "live.show.fade", "-1", "live.show.fade: must be 0.."),
	R("live users object", "live.main.users", "{}", "live.main.users: must be an array"),
	R("user not object", "live.main.users.1", "\"bob\"",
	  "live.main.users[1]: must be an object"),
	R("user name empty", "live.main.users.0.name", "\"\"",
	  "live.main.users[0].name: must not be empty"),
	R("user name missing", "live.main.users.1.name", NULL,
	  "live.main.users[1].name: required"),
	R("password_hash plain", "live.main.users.0.password_hash", "\"secret\"",
	  "live.main.users[0].password_hash: must start with $argon2id$ or $argon2i$"),
	R("password_hash bcrypt", "live.main.users.1.password_hash", "\"$2y$10$abc\"",
	  "live.main.users[1].password_hash: must start with"),
	R("password_hash space", "live.main.users.1.password_hash", "\"$argon2i$ x\"",
	  "live.main.users[1].password_hash: must be printable ASCII without spaces"),
	G("password_hash too long", "live.main.users.0.password_hash", gen_long_password_hash,
	  "live.main.users[0].password_hash: longer than 256 bytes"),
	R("valid_until before valid_from", "live.main.users.0.valid_until",
	  "\"2026-11-27T10:00:00Z\"", "live.main.users[0].valid_until: must be after valid_from"),
	R("valid_from bad", "live.main.users.0.valid_from", "\"yesterday\"",
	  "live.main.users[0].valid_from: must be an RFC 3339 date-time"),
	G("too many users", "live.main.users", gen_too_many_users,
	  "live.main.users: more than 1000 elements"),
	/* outputs */
	R("output mount no slash", "outputs.0.mount", "\"live.mp3\"",
	  "outputs[0].mount: must match /[A-Za-z0-9._/-]{1,127}"),
	R("output mount only slash", "outputs.0.mount", "\"/\"", "outputs[0].mount: must match"),
	R("output mount dotdot", "outputs.2.mount", "\"/hq/../live.opus\"",
	  "outputs[2].mount: must match"),
	R("output mount bad char", "outputs.0.mount", "\"/live?.mp3\"",
	  "outputs[0].mount: must match"),
	G("output mount too long", "outputs.0.mount", gen_long_output_mount,
	  "outputs[0].mount: must match"),
	R("output mount duplicate", "outputs.3.mount", "\"/live.ogg\"",
	  "outputs[3].mount: duplicate of outputs[1].mount"),
	R("output format unknown", "outputs.0.format", "\"flac\"",
	  "outputs[0].format: must be one of: mp3, vorbis, opus, aac"),
	R("output bitrate low", "outputs.0.bitrate", "31", "outputs[0].bitrate: must be 32..512"),
	R("output bitrate high", "outputs.0.bitrate", "513", "outputs[0].bitrate: must be 32..512"),
	R("output bitrate real", "outputs.0.bitrate", "128.5",
	  "outputs[0].bitrate: must be an integer"),
	R("output name control", "outputs.0.name", "\"a\\tb\"",
	  "outputs[0].name: must not contain control characters"),
	G("too many outputs", "outputs", gen_too_many_outputs, "outputs: more than 16 elements"),
	/* hls */
	R("hls enabled missing", "hls.enabled", NULL, "hls.enabled: required"),
	R("hls bitrate missing", "hls.bitrate", NULL, "hls.bitrate: required"),
	R("hls bitrate high", "hls.bitrate", "1000", "hls.bitrate: must be 32..512"),
	R("hls segment short", "hls.segment", "0.5", "hls.segment: must be 1..30 s"),
	R("hls segment long", "hls.segment", "30.000001", "hls.segment: must be 1..30 s"),
	R("hls segments few", "hls.segments", "2", "hls.segments: must be 3..100"),
	R("hls segments many", "hls.segments", "101", "hls.segments: must be 3..100"),
};

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_full),
		cmocka_unit_test(test_encoding_form),
		cmocka_unit_test(test_minimal_snapshot),
		cmocka_unit_test(test_unknown_fields_ignored),
		cmocka_unit_test(test_nulls_are_absent),
		cmocka_unit_test(test_durations_exact),
		cmocka_unit_test(test_duration_text_forms),
		cmocka_unit_test(test_item_at),
		cmocka_unit_test(test_reject_malformed),
		cmocka_unit_test(test_reject_duplicate_keys),
		cmocka_unit_test(test_reject_oversize),
		cmocka_unit_test(test_reject_too_many_items),
		cmocka_unit_test(test_validate_and_encode_refuse),
	};
	int failed = cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
	char *base = full_json();
	failed += run_reject_group("snapshot-reject", &codec_snapshot, base, snapshot_rejects,
				   sizeof(snapshot_rejects) / sizeof(snapshot_rejects[0]));
	free(base);
	return failed ? 1 : 0;
}
