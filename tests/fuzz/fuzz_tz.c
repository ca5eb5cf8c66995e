/*
 * fuzz_tz.c - libFuzzer target for the TZif reader (station/tz.h).
 *
 * The input is a TZif file. When it parses, conversions must hold
 * together at instants taken from the input and a few fixed ones: the
 * local time of an instant converts back to an interval around it
 * (earlier <= t <= later) and is never in a gap; a local time taken from
 * the input converts, and reads back as itself, or later when it was in
 * a gap. Anything else aborts. ASan/LSan catch stray reads and leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "station/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECS_1800 INT64_C(-5364662400)
#define SECS_2300 INT64_C(10413792000)

static void die(const char *what, int64_t t)
{
	fprintf(stderr, "invariant broken: %s (at %lld us)\n", what, (long long)t);
	abort();
}

static uint64_t word_at(const uint8_t *data, size_t size, size_t i)
{
	uint64_t v = 0;
	for (size_t k = 0; k < 8; k++)
		v = v << 8 | data[(i * 37 + k) % size];
	return v;
}

static int64_t local_secs(const struct tz_local *lt)
{
	return time_days_from_civil(lt->year, lt->month, lt->day) * 86400 + lt->hour * 3600 +
	       lt->minute * 60 + lt->second;
}

static void check_instant(const struct tz *tz, int64_t t)
{
	struct tz_local lt;
	if (tz_utc_to_local(tz, t, &lt) != 0)
		die("utc_to_local failed", t);
	if (lt.utc_offset != tz_offset_at(tz, t))
		die("offsets differ", t);
	int64_t early, late;
	enum tz_local_kind kind;
	if (tz_local_to_utc(tz, &lt, TZ_RESOLVE_EARLIER, &early, &kind) != 0 ||
	    tz_local_to_utc(tz, &lt, TZ_RESOLVE_LATER, &late, NULL) != 0)
		die("local_to_utc failed on a local time that exists", t);
	if (kind == TZ_LOCAL_GAP || early > t || late < t ||
	    (kind == TZ_LOCAL_UNIQUE && early != t))
		die("local time does not convert back", t);
}

static void check_local(const struct tz *tz, uint64_t w)
{
	struct tz_local lt = { .year = 1800 + (int64_t)(w % 500), .month = 1 + (w >> 9) % 12,
			       .day = 1 + (w >> 13) % 28, .hour = (w >> 18) % 24,
			       .minute = (w >> 23) % 60, .second = (w >> 29) % 60 };
	int64_t t;
	enum tz_local_kind kind;
	if (tz_local_to_utc(tz, &lt, (w >> 40) & 1 ? TZ_RESOLVE_LATER : TZ_RESOLVE_EARLIER, &t,
			    &kind) != 0)
		die("local_to_utc failed", 0);
	struct tz_local back;
	if (tz_utc_to_local(tz, t, &back) != 0)
		die("utc_to_local failed", t);
	int64_t want = local_secs(&lt), got = local_secs(&back);
	if (kind == TZ_LOCAL_GAP ? got <= want : got != want)
		die("local time does not read back", t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz *tz;
	if (tz_parse(data, size, &tz) != 0)
		return 0;
	static const int64_t fixed[] = { INT64_C(-2208988800), 0, INT64_C(946684800),
					 INT64_C(1806195600), INT64_C(2147483648),
					 INT64_C(3786912000), INT64_C(7258118400) };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_instant(tz, fixed[i] * USEC_PER_SEC);
	for (size_t i = 0; i < 16; i++) {
		uint64_t w = word_at(data, size, i);
		int64_t secs = SECS_1800 + (int64_t)(w % (uint64_t)(SECS_2300 - SECS_1800));
		check_instant(tz, secs * USEC_PER_SEC + (int64_t)(w >> 44) % USEC_PER_SEC);
		check_local(tz, w);
	}
	(void)tz_offset_at(tz, INT64_MIN);
	(void)tz_offset_at(tz, INT64_MAX);
	tz_free(tz);
	return 0;
}
