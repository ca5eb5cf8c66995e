/*
 * test_tz.c - TZif reading and local/UTC conversion (src/station/tz.h).
 *
 * The zones come from tests/station/zoneinfo, copies of Debian's tzdata
 * 2025b files, so that the expected values do not move with the
 * machine's tzdata. Expected offsets were taken from
 * TZ=<zone> date -d @<secs> +%::z and zdump -v.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/timeutil.h"
#include "station/tz.h"

static char zoneinfo[4096];

static struct tz *load(const char *name)
{
	struct tz *tz = NULL;
	int r = tz_load(&tz, name, zoneinfo);
	if (r != 0)
		fail_msg("tz_load(%s): %d", name, r);
	return tz;
}

static int64_t utc(const char *rfc3339)
{
	int64_t t = 0;
	if (time_parse_rfc3339(rfc3339, &t) != 0)
		fail_msg("bad test instant %s", rfc3339);
	return t;
}

/* ------------------------------------------------------------ known offsets */

struct known {
	const char *zone;
	int64_t secs;
	int32_t offset;
	const char *abbr;
};

/* Fixed instants from 1900 to 2150, and each side of every change in
 * 2027 (from the table) and 2090 (from the footer rules). */
static const struct known known[] = {
	{ "UTC", INT64_C(-2195942400), 0, "UTC" },
	{ "UTC", INT64_C(-631152000), 0, "UTC" },
	{ "UTC", INT64_C(0), 0, "UTC" },
	{ "UTC", INT64_C(804600000), 0, "UTC" },
	{ "UTC", INT64_C(1262304000), 0, "UTC" },
	{ "UTC", INT64_C(4103654400), 0, "UTC" },
	{ "UTC", INT64_C(5695920000), 0, "UTC" },
	{ "Europe/Berlin", INT64_C(-2195942400), 3600, "CET" },
	{ "Europe/Berlin", INT64_C(-631152000), 3600, "CET" },
	{ "Europe/Berlin", INT64_C(0), 3600, "CET" },
	{ "Europe/Berlin", INT64_C(804600000), 7200, "CEST" },
	{ "Europe/Berlin", INT64_C(1262304000), 3600, "CET" },
	{ "Europe/Berlin", INT64_C(1806195599), 3600, "CET" },
	{ "Europe/Berlin", INT64_C(1806195600), 7200, "CEST" },
	{ "Europe/Berlin", INT64_C(1824944399), 7200, "CEST" },
	{ "Europe/Berlin", INT64_C(1824944400), 3600, "CET" },
	{ "Europe/Berlin", INT64_C(3794173199), 3600, "CET" },
	{ "Europe/Berlin", INT64_C(3794173200), 7200, "CEST" },
	{ "Europe/Berlin", INT64_C(3812921999), 7200, "CEST" },
	{ "Europe/Berlin", INT64_C(3812922000), 3600, "CET" },
	{ "Europe/Berlin", INT64_C(4103654400), 3600, "CET" },
	{ "Europe/Berlin", INT64_C(5695920000), 7200, "CEST" },
	{ "America/New_York", INT64_C(-2195942400), -18000, "EST" },
	{ "America/New_York", INT64_C(-631152000), -18000, "EST" },
	{ "America/New_York", INT64_C(0), -18000, "EST" },
	{ "America/New_York", INT64_C(804600000), -14400, "EDT" },
	{ "America/New_York", INT64_C(1262304000), -18000, "EST" },
	{ "America/New_York", INT64_C(1805007599), -18000, "EST" },
	{ "America/New_York", INT64_C(1805007600), -14400, "EDT" },
	{ "America/New_York", INT64_C(1825567199), -14400, "EDT" },
	{ "America/New_York", INT64_C(1825567200), -18000, "EST" },
	{ "America/New_York", INT64_C(3792985199), -18000, "EST" },
	{ "America/New_York", INT64_C(3792985200), -14400, "EDT" },
	{ "America/New_York", INT64_C(3813544799), -14400, "EDT" },
	{ "America/New_York", INT64_C(3813544800), -18000, "EST" },
	{ "America/New_York", INT64_C(4103654400), -18000, "EST" },
	{ "America/New_York", INT64_C(5695920000), -14400, "EDT" },
	{ "Australia/Lord_Howe", INT64_C(-2195942400), 36000, "AEST" },
	{ "Australia/Lord_Howe", INT64_C(-631152000), 36000, "AEST" },
	{ "Australia/Lord_Howe", INT64_C(0), 36000, "AEST" },
	{ "Australia/Lord_Howe", INT64_C(804600000), 37800, "+1030" },
	{ "Australia/Lord_Howe", INT64_C(1262304000), 39600, "+11" },
	{ "Australia/Lord_Howe", INT64_C(1806764399), 39600, "+11" },
	{ "Australia/Lord_Howe", INT64_C(1806764400), 37800, "+1030" },
	{ "Australia/Lord_Howe", INT64_C(1822490999), 37800, "+1030" },
	{ "Australia/Lord_Howe", INT64_C(1822491000), 39600, "+11" },
	{ "Australia/Lord_Howe", INT64_C(3794741999), 39600, "+11" },
	{ "Australia/Lord_Howe", INT64_C(3794742000), 37800, "+1030" },
	{ "Australia/Lord_Howe", INT64_C(3810468599), 37800, "+1030" },
	{ "Australia/Lord_Howe", INT64_C(3810468600), 39600, "+11" },
	{ "Australia/Lord_Howe", INT64_C(4103654400), 39600, "+11" },
	{ "Australia/Lord_Howe", INT64_C(5695920000), 37800, "+1030" },
	{ "Asia/Kolkata", INT64_C(-2195942400), 19270, "MMT" },
	{ "Asia/Kolkata", INT64_C(-631152000), 19800, "IST" },
	{ "Asia/Kolkata", INT64_C(0), 19800, "IST" },
	{ "Asia/Kolkata", INT64_C(804600000), 19800, "IST" },
	{ "Asia/Kolkata", INT64_C(1262304000), 19800, "IST" },
	{ "Asia/Kolkata", INT64_C(4103654400), 19800, "IST" },
	{ "Asia/Kolkata", INT64_C(5695920000), 19800, "IST" },
	{ "Pacific/Chatham", INT64_C(-2195942400), 44100, "+1215" },
	{ "Pacific/Chatham", INT64_C(-631152000), 45900, "+1245" },
	{ "Pacific/Chatham", INT64_C(0), 45900, "+1245" },
	{ "Pacific/Chatham", INT64_C(804600000), 45900, "+1245" },
	{ "Pacific/Chatham", INT64_C(1262304000), 49500, "+1345" },
	{ "Pacific/Chatham", INT64_C(1806760799), 49500, "+1345" },
	{ "Pacific/Chatham", INT64_C(1806760800), 45900, "+1245" },
	{ "Pacific/Chatham", INT64_C(1821880799), 45900, "+1245" },
	{ "Pacific/Chatham", INT64_C(1821880800), 49500, "+1345" },
	{ "Pacific/Chatham", INT64_C(3794738399), 49500, "+1345" },
	{ "Pacific/Chatham", INT64_C(3794738400), 45900, "+1245" },
	{ "Pacific/Chatham", INT64_C(3809858399), 45900, "+1245" },
	{ "Pacific/Chatham", INT64_C(3809858400), 49500, "+1345" },
	{ "Pacific/Chatham", INT64_C(4103654400), 49500, "+1345" },
	{ "Pacific/Chatham", INT64_C(5695920000), 45900, "+1245" },
	{ "America/Nuuk", INT64_C(-2195942400), -12416, "LMT" },
	{ "America/Nuuk", INT64_C(-631152000), -10800, "-03" },
	{ "America/Nuuk", INT64_C(0), -10800, "-03" },
	{ "America/Nuuk", INT64_C(804600000), -7200, "-02" },
	{ "America/Nuuk", INT64_C(1262304000), -10800, "-03" },
	{ "America/Nuuk", INT64_C(1806195599), -7200, "-02" },
	{ "America/Nuuk", INT64_C(1806195600), -3600, "-01" },
	{ "America/Nuuk", INT64_C(1824944399), -3600, "-01" },
	{ "America/Nuuk", INT64_C(1824944400), -7200, "-02" },
	{ "America/Nuuk", INT64_C(3794173199), -7200, "-02" },
	{ "America/Nuuk", INT64_C(3794173200), -3600, "-01" },
	{ "America/Nuuk", INT64_C(3812921999), -3600, "-01" },
	{ "America/Nuuk", INT64_C(3812922000), -7200, "-02" },
	{ "America/Nuuk", INT64_C(4103654400), -7200, "-02" },
	{ "America/Nuuk", INT64_C(5695920000), -3600, "-01" },
	{ "Asia/Jerusalem", INT64_C(-2195942400), 8440, "JMT" },
	{ "Asia/Jerusalem", INT64_C(-631152000), 7200, "IST" },
	{ "Asia/Jerusalem", INT64_C(0), 7200, "IST" },
	{ "Asia/Jerusalem", INT64_C(804600000), 10800, "IDT" },
	{ "Asia/Jerusalem", INT64_C(1262304000), 7200, "IST" },
	{ "Asia/Jerusalem", INT64_C(1806019199), 7200, "IST" },
	{ "Asia/Jerusalem", INT64_C(1806019200), 10800, "IDT" },
	{ "Asia/Jerusalem", INT64_C(1824937199), 10800, "IDT" },
	{ "Asia/Jerusalem", INT64_C(1824937200), 7200, "IST" },
	{ "Asia/Jerusalem", INT64_C(3793996799), 7200, "IST" },
	{ "Asia/Jerusalem", INT64_C(3793996800), 10800, "IDT" },
	{ "Asia/Jerusalem", INT64_C(3812914799), 10800, "IDT" },
	{ "Asia/Jerusalem", INT64_C(3812914800), 7200, "IST" },
	{ "Asia/Jerusalem", INT64_C(4103654400), 7200, "IST" },
	{ "Asia/Jerusalem", INT64_C(5695920000), 10800, "IDT" },
	{ "Europe/Dublin", INT64_C(-2195942400), -1521, "DMT" },
	{ "Europe/Dublin", INT64_C(-631152000), 0, "GMT" },
	{ "Europe/Dublin", INT64_C(0), 3600, "IST" },
	{ "Europe/Dublin", INT64_C(804600000), 3600, "IST" },
	{ "Europe/Dublin", INT64_C(1262304000), 0, "GMT" },
	{ "Europe/Dublin", INT64_C(1806195599), 0, "GMT" },
	{ "Europe/Dublin", INT64_C(1806195600), 3600, "IST" },
	{ "Europe/Dublin", INT64_C(1824944399), 3600, "IST" },
	{ "Europe/Dublin", INT64_C(1824944400), 0, "GMT" },
	{ "Europe/Dublin", INT64_C(3794173199), 0, "GMT" },
	{ "Europe/Dublin", INT64_C(3794173200), 3600, "IST" },
	{ "Europe/Dublin", INT64_C(3812921999), 3600, "IST" },
	{ "Europe/Dublin", INT64_C(3812922000), 0, "GMT" },
	{ "Europe/Dublin", INT64_C(4103654400), 0, "GMT" },
	{ "Europe/Dublin", INT64_C(5695920000), 3600, "IST" },
};

static void test_known_offsets(void **state)
{
	const char *loaded = "";
	struct tz *tz = NULL;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct known *k = &known[i];
		if (strcmp(loaded, k->zone) != 0) {
			tz_free(tz);
			tz = load(k->zone);
			loaded = k->zone;
			assert_string_equal(tz_name(tz), k->zone);
		}
		int64_t t = k->secs * USEC_PER_SEC;
		if (tz_offset_at(tz, t) != k->offset)
			fail_msg("%s at %lld: offset %d, want %d", k->zone, (long long)k->secs,
				 tz_offset_at(tz, t), k->offset);
		struct tz_local lt;
		assert_int_equal(tz_utc_to_local(tz, t, &lt), 0);
		assert_int_equal(lt.utc_offset, k->offset);
		if (strcmp(lt.abbr, k->abbr) != 0)
			fail_msg("%s at %lld: %s, want %s", k->zone, (long long)k->secs, lt.abbr,
				 k->abbr);
	}
	tz_free(tz);
}

/* ------------------------------------------------------------ footer rules */

struct footer_case {
	const char *footer;
	int64_t secs;
	int32_t offset;
	bool is_dst;
};

/* zdump -v -c 2090,2093 '<TZ string>': each side of every change. */
static const struct footer_case footer_cases[] = {
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3792027599), -10800, false },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3792027600), -7200, true },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3812759999), -7200, true },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3812760000), -10800, false },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3823563599), -10800, false },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3823563600), -7200, true },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3844295999), -7200, true },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3844296000), -10800, false },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3855185999), -10800, false },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3855186000), -7200, true },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3875918399), -7200, true },
	{ "AAA3BBB,J60/2,J300/2", INT64_C(3875918400), -10800, false },
	{ "AAA3BBB,59/2,299/2", INT64_C(3792027599), -10800, false },
	{ "AAA3BBB,59/2,299/2", INT64_C(3792027600), -7200, true },
	{ "AAA3BBB,59/2,299/2", INT64_C(3812759999), -7200, true },
	{ "AAA3BBB,59/2,299/2", INT64_C(3812760000), -10800, false },
	{ "AAA3BBB,59/2,299/2", INT64_C(3823563599), -10800, false },
	{ "AAA3BBB,59/2,299/2", INT64_C(3823563600), -7200, true },
	{ "AAA3BBB,59/2,299/2", INT64_C(3844295999), -7200, true },
	{ "AAA3BBB,59/2,299/2", INT64_C(3844296000), -10800, false },
	{ "AAA3BBB,59/2,299/2", INT64_C(3855099599), -10800, false },
	{ "AAA3BBB,59/2,299/2", INT64_C(3855099600), -7200, true },
	{ "AAA3BBB,59/2,299/2", INT64_C(3875831999), -7200, true },
	{ "AAA3BBB,59/2,299/2", INT64_C(3875832000), -10800, false },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3794173199), -7200, false },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3794173200), -3600, true },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3812921999), -3600, true },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3812922000), -7200, false },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3825622799), -7200, false },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3825622800), -3600, true },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3844371599), -3600, true },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3844371600), -7200, false },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3857677199), -7200, false },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3857677200), -3600, true },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3875821199), -3600, true },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", INT64_C(3875821200), -7200, false },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3793996799), 7200, false },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3793996800), 10800, true },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3812914799), 10800, true },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3812914800), 7200, false },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3825446399), 7200, false },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3825446400), 10800, true },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3844364399), 10800, true },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3844364400), 7200, false },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3857500799), 7200, false },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3857500800), 10800, true },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3875813999), 10800, true },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", INT64_C(3875814000), 7200, false },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3793571999), -10800, false },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3793572000), -7200, true },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3812929199), -7200, true },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3812929200), -10800, false },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3825021599), -10800, false },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3825021600), -7200, true },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3844378799), -7200, true },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3844378800), -10800, false },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3856471199), -10800, false },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3856471200), -7200, true },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3875828399), -7200, true },
	{ "AAA3BBB,M3.2.0/167,M11.1.0/-167", INT64_C(3875828400), -10800, false },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3794173199), 0, true },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3794173200), 3600, false },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3812921999), 3600, false },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3812922000), 0, true },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3825622799), 0, true },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3825622800), 3600, false },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3844371599), 3600, false },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3844371600), 0, true },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3857677199), 0, true },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3857677200), 3600, false },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3875821199), 3600, false },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", INT64_C(3875821200), 0, true },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3794741999), 39600, true },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3794742000), 37800, false },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3810468599), 37800, false },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3810468600), 39600, true },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3826191599), 39600, true },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3826191600), 37800, false },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3842522999), 37800, false },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3842523000), 39600, true },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3858245999), 39600, true },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3858246000), 37800, false },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3873972599), 37800, false },
	{ "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", INT64_C(3873972600), 39600, true },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3794738399), 49500, true },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3794738400), 45900, false },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3809858399), 45900, false },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3809858400), 49500, true },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3826187999), 49500, true },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3826188000), 45900, false },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3841912799), 45900, false },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3841912800), 49500, true },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3858242399), 49500, true },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3858242400), 45900, false },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3873362399), 45900, false },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", INT64_C(3873362400), 49500, true },
	{ "<+053015>-5:30:15", INT64_C(3786912000), 19815, false },
	{ "<+053015>-5:30:15", INT64_C(3800000000), 19815, false },
	{ "XXX-14", INT64_C(3786912000), 50400, false },
	{ "XXX-14", INT64_C(3800000000), 50400, false },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3792985199), -18000, false },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3792985200), -14400, true },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3813544799), -14400, true },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3813544800), -18000, false },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3824434799), -18000, false },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3824434800), -14400, true },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3844994399), -14400, true },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3844994400), -18000, false },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3855884399), -18000, false },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3855884400), -14400, true },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3876443999), -14400, true },
	{ "EST5EDT,M3.2.0,M11.1.0", INT64_C(3876444000), -18000, false },
};

/* ------------------------------------------------------------ TZif builder */

/* A TZif file to build; counts of the 64-bit block (the version 1 block
 * of a version 2+ file is left empty, as zic -b slim may). */
struct tzif {
	char version;		/* 0 (version 1), '2', '3' */
	size_t n_trans;
	const int64_t *trans;
	const uint8_t *idx;
	size_t n_types;
	const int32_t *utoff;
	const uint8_t *isdst;
	const uint8_t *abbr;
	const char *chars;
	size_t n_chars;
	size_t n_leap;
	const char *footer;	/* between the newlines; version 2+ only */
};

static void put32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	assert_int_equal(buf_append(b, p, 4), 0);
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

static void put_header(struct buf *b, char version, uint32_t leap, uint32_t timecnt,
		       uint32_t typecnt, uint32_t charcnt)
{
	char h[20] = { 'T', 'Z', 'i', 'f', version };
	assert_int_equal(buf_append(b, h, sizeof(h)), 0);
	put32(b, 0);		/* isutcnt */
	put32(b, 0);		/* isstdcnt */
	put32(b, leap);
	put32(b, timecnt);
	put32(b, typecnt);
	put32(b, charcnt);
}

static void put_block(struct buf *b, const struct tzif *z, unsigned timesize)
{
	for (size_t i = 0; i < z->n_trans; i++) {
		if (timesize == 8)
			put64(b, (uint64_t)z->trans[i]);
		else
			put32(b, (uint32_t)z->trans[i]);
	}
	assert_int_equal(buf_append(b, z->idx, z->n_trans), 0);
	for (size_t i = 0; i < z->n_types; i++) {
		put32(b, (uint32_t)z->utoff[i]);
		assert_int_equal(buf_append_char(b, (char)z->isdst[i]), 0);
		assert_int_equal(buf_append_char(b, (char)z->abbr[i]), 0);
	}
	assert_int_equal(buf_append(b, z->chars, z->n_chars), 0);
	for (size_t i = 0; i < z->n_leap; i++) {
		if (timesize == 8)
			put64(b, 0);
		else
			put32(b, 0);
		put32(b, 0);
	}
}

/* Build z into b (buf_init'ed by the caller). */
static void tzif_build(struct buf *b, const struct tzif *z)
{
	if (z->version == 0) {
		put_header(b, 0, (uint32_t)z->n_leap, (uint32_t)z->n_trans, (uint32_t)z->n_types,
			   (uint32_t)z->n_chars);
		put_block(b, z, 4);
		return;
	}
	put_header(b, z->version, 0, 0, 0, 0);
	put_header(b, z->version, (uint32_t)z->n_leap, (uint32_t)z->n_trans, (uint32_t)z->n_types,
		   (uint32_t)z->n_chars);
	put_block(b, z, 8);
	assert_int_equal(buf_printf(b, "\n%s\n", z->footer ? z->footer : ""), 0);
}

static const int32_t one_utoff[] = { 0 };
static const uint8_t one_isdst[] = { 0 };
static const uint8_t one_abbr[] = { 0 };

/* A file of no transitions and one type (UTC) with the given footer. */
static int parse_footer_only(const char *footer, struct tz **out)
{
	struct tzif z = { .version = '3', .n_types = 1, .utoff = one_utoff, .isdst = one_isdst,
			  .abbr = one_abbr, .chars = "UTC", .n_chars = 4, .footer = footer };
	struct buf b;
	buf_init(&b, TZ_FILE_MAX);
	tzif_build(&b, &z);
	int r = tz_parse(b.data, b.len, out);
	buf_release(&b);
	return r;
}

static void test_footer_rules(void **state)
{
	const char *parsed = "";
	struct tz *tz = NULL;
	for (size_t i = 0; i < sizeof(footer_cases) / sizeof(footer_cases[0]); i++) {
		const struct footer_case *c = &footer_cases[i];
		if (strcmp(parsed, c->footer) != 0) {
			tz_free(tz);
			tz = NULL;
			if (parse_footer_only(c->footer, &tz) != 0)
				fail_msg("footer %s does not parse", c->footer);
			assert_string_equal(tz_name(tz), "");
			parsed = c->footer;
		}
		struct tz_local lt;
		assert_int_equal(tz_utc_to_local(tz, c->secs * USEC_PER_SEC, &lt), 0);
		if (lt.utc_offset != c->offset || lt.is_dst != c->is_dst)
			fail_msg("%s at %lld: %d dst %d, want %d dst %d", c->footer,
				 (long long)c->secs, lt.utc_offset, lt.is_dst, c->offset,
				 c->is_dst);
	}
	tz_free(tz);
}

static void test_footer_all_year_dst(void **state)
{
	/* RFC 9636 3.3.1: DST all year when the end meets the next start. */
	struct tz *tz;
	assert_int_equal(parse_footer_only("EST5EDT,0/0,J365/25", &tz), 0);
	const char *at[] = { "2090-01-01T00:00:00Z", "2090-01-01T05:00:00Z", "2090-06-30T12:00:00Z",
			     "2090-12-31T23:59:59Z", "2091-01-01T00:00:00Z", "2091-01-01T04:59:59Z",
			     "2091-01-01T05:00:00Z", "2092-02-29T12:00:00Z" };
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct tz_local lt;
		assert_int_equal(tz_utc_to_local(tz, utc(at[i]), &lt), 0);
		assert_int_equal(lt.utc_offset, -4 * 3600);
		assert_true(lt.is_dst);
		assert_string_equal(lt.abbr, "EDT");
	}
	tz_free(tz);
}

static void test_footer_after_table(void **state)
{
	/* A table up to 2030, then the footer: the footer rules apply from
	 * the last transition on, not before. */
	static const int64_t trans[] = { INT64_C(1901149200) /* 2030-03-31T01:00Z */ };
	static const uint8_t idx[] = { 1 };
	static const int32_t utoff[] = { 3600, 7200 };
	static const uint8_t isdst[] = { 0, 1 };
	static const uint8_t abbr[] = { 0, 4 };
	struct tzif z = { .version = '2', .n_trans = 1, .trans = trans, .idx = idx, .n_types = 2,
			  .utoff = utoff, .isdst = isdst, .abbr = abbr, .chars = "CET\0CEST",
			  .n_chars = 9, .footer = "CET-1CEST,M3.5.0,M10.5.0/3" };
	struct buf b;
	buf_init(&b, TZ_FILE_MAX);
	tzif_build(&b, &z);
	struct tz *tz;
	assert_int_equal(tz_parse(b.data, b.len, &tz), 0);
	buf_release(&b);
	/* Before the only transition: type 0, whatever the season. */
	assert_int_equal(tz_offset_at(tz, utc("2029-07-01T00:00:00Z")), 3600);
	assert_int_equal(tz_offset_at(tz, utc("2030-03-31T00:59:59Z")), 3600);
	assert_int_equal(tz_offset_at(tz, utc("2030-03-31T01:00:00Z")), 7200);
	assert_int_equal(tz_offset_at(tz, utc("2030-10-27T00:59:59Z")), 7200);
	assert_int_equal(tz_offset_at(tz, utc("2030-10-27T01:00:00Z")), 3600);
	assert_int_equal(tz_offset_at(tz, utc("2031-03-30T01:00:00Z")), 7200);
	tz_free(tz);
}

static void test_version1_file(void **state)
{
	static const int64_t trans[] = { 0, 86400 * 180 };
	static const uint8_t idx[] = { 1, 0 };
	static const int32_t utoff[] = { -18000, -14400 };
	static const uint8_t isdst[] = { 0, 1 };
	static const uint8_t abbr[] = { 0, 4 };
	struct tzif z = { .version = 0, .n_trans = 2, .trans = trans, .idx = idx, .n_types = 2,
			  .utoff = utoff, .isdst = isdst, .abbr = abbr, .chars = "EST\0EDT",
			  .n_chars = 8 };
	struct buf b;
	buf_init(&b, TZ_FILE_MAX);
	tzif_build(&b, &z);
	struct tz *tz;
	assert_int_equal(tz_parse(b.data, b.len, &tz), 0);
	assert_int_equal(tz_offset_at(tz, -1), -18000);
	assert_int_equal(tz_offset_at(tz, 0), -14400);
	assert_int_equal(tz_offset_at(tz, INT64_C(86400) * 180 * USEC_PER_SEC), -18000);
	/* No footer: the last type stays. */
	assert_int_equal(tz_offset_at(tz, utc("2090-07-01T00:00:00Z")), -18000);
	tz_free(tz);
	/* Trailing bytes after a version 1 file. */
	assert_int_equal(buf_append_char(&b, 'x'), 0);
	assert_int_equal(tz_parse(b.data, b.len, &tz), -EBADMSG);
	buf_release(&b);
}

/* ------------------------------------------------------------ gaps and overlaps */

struct local_case {
	const char *zone;
	int64_t y;
	unsigned mo, d, h, mi;
	enum tz_local_kind kind;
	const char *earlier;	/* the instant for TZ_RESOLVE_EARLIER */
	const char *later;	/* for TZ_RESOLVE_LATER */
};

static const struct local_case local_cases[] = {
	/* Europe/Berlin spring forward 2027-03-28 02:00 CET -> 03:00 CEST. */
	{ "Europe/Berlin", 2027, 3, 28, 2, 30, TZ_LOCAL_GAP, "2027-03-28T01:30:00Z",
	  "2027-03-28T01:30:00Z" },
	{ "Europe/Berlin", 2027, 3, 28, 2, 0, TZ_LOCAL_GAP, "2027-03-28T01:00:00Z",
	  "2027-03-28T01:00:00Z" },
	{ "Europe/Berlin", 2027, 3, 28, 1, 59, TZ_LOCAL_UNIQUE, "2027-03-28T00:59:00Z",
	  "2027-03-28T00:59:00Z" },
	{ "Europe/Berlin", 2027, 3, 28, 3, 0, TZ_LOCAL_UNIQUE, "2027-03-28T01:00:00Z",
	  "2027-03-28T01:00:00Z" },
	/* Fall back 2027-10-31 03:00 CEST -> 02:00 CET. */
	{ "Europe/Berlin", 2027, 10, 31, 2, 30, TZ_LOCAL_OVERLAP, "2027-10-31T00:30:00Z",
	  "2027-10-31T01:30:00Z" },
	{ "Europe/Berlin", 2027, 10, 31, 2, 0, TZ_LOCAL_OVERLAP, "2027-10-31T00:00:00Z",
	  "2027-10-31T01:00:00Z" },
	{ "Europe/Berlin", 2027, 10, 31, 3, 0, TZ_LOCAL_UNIQUE, "2027-10-31T02:00:00Z",
	  "2027-10-31T02:00:00Z" },
	/* The same from the footer rules. */
	{ "Europe/Berlin", 2090, 3, 26, 2, 30, TZ_LOCAL_GAP, "2090-03-26T01:30:00Z",
	  "2090-03-26T01:30:00Z" },
	{ "Europe/Berlin", 2090, 10, 29, 2, 30, TZ_LOCAL_OVERLAP, "2090-10-29T00:30:00Z",
	  "2090-10-29T01:30:00Z" },
	/* America/New_York 2027-03-14 02:00 EST -> 03:00 EDT, 2027-11-07
	 * 02:00 EDT -> 01:00 EST. */
	{ "America/New_York", 2027, 3, 14, 2, 30, TZ_LOCAL_GAP, "2027-03-14T07:30:00Z",
	  "2027-03-14T07:30:00Z" },
	{ "America/New_York", 2027, 11, 7, 1, 30, TZ_LOCAL_OVERLAP, "2027-11-07T05:30:00Z",
	  "2027-11-07T06:30:00Z" },
	{ "America/New_York", 2027, 11, 7, 0, 59, TZ_LOCAL_UNIQUE, "2027-11-07T04:59:00Z",
	  "2027-11-07T04:59:00Z" },
	/* Australia/Lord_Howe: half-hour changes. 2027-10-03 02:00 +1030 ->
	 * 02:30 +11; 2027-04-04 02:00 +11 -> 01:30 +1030. */
	{ "Australia/Lord_Howe", 2027, 10, 3, 2, 15, TZ_LOCAL_GAP, "2027-10-02T15:45:00Z",
	  "2027-10-02T15:45:00Z" },
	{ "Australia/Lord_Howe", 2027, 10, 3, 2, 30, TZ_LOCAL_UNIQUE, "2027-10-02T15:30:00Z",
	  "2027-10-02T15:30:00Z" },
	{ "Australia/Lord_Howe", 2027, 4, 4, 1, 45, TZ_LOCAL_OVERLAP, "2027-04-03T14:45:00Z",
	  "2027-04-03T15:15:00Z" },
	{ "Australia/Lord_Howe", 2027, 4, 4, 1, 29, TZ_LOCAL_UNIQUE, "2027-04-03T14:29:00Z",
	  "2027-04-03T14:29:00Z" },
	/* Pacific/Chatham 2027-09-26 02:45 +1245 -> 03:45 +1345. */
	{ "Pacific/Chatham", 2027, 9, 26, 3, 0, TZ_LOCAL_GAP, "2027-09-25T14:15:00Z",
	  "2027-09-25T14:15:00Z" },
	/* America/Nuuk (footer "/-1"): 2090-03-25 23:00 -02 -> 00:00 -01. */
	{ "America/Nuuk", 2090, 3, 25, 23, 30, TZ_LOCAL_GAP, "2090-03-26T01:30:00Z",
	  "2090-03-26T01:30:00Z" },
	/* Europe/Dublin: "negative DST", IST in summer is standard time. */
	{ "Europe/Dublin", 2027, 10, 31, 1, 30, TZ_LOCAL_OVERLAP, "2027-10-31T00:30:00Z",
	  "2027-10-31T01:30:00Z" },
	{ "Asia/Kolkata", 2027, 1, 1, 0, 0, TZ_LOCAL_UNIQUE, "2026-12-31T18:30:00Z",
	  "2026-12-31T18:30:00Z" },
	{ "UTC", 2027, 3, 28, 2, 30, TZ_LOCAL_UNIQUE, "2027-03-28T02:30:00Z",
	  "2027-03-28T02:30:00Z" },
};

static void test_gaps_and_overlaps(void **state)
{
	for (size_t i = 0; i < sizeof(local_cases) / sizeof(local_cases[0]); i++) {
		const struct local_case *c = &local_cases[i];
		struct tz *tz = load(c->zone);
		struct tz_local lt = { .year = c->y, .month = c->mo, .day = c->d, .hour = c->h,
				       .minute = c->mi, .usec = 250 };
		int64_t t = 0;
		enum tz_local_kind kind = TZ_LOCAL_UNIQUE;
		assert_int_equal(tz_local_to_utc(tz, &lt, TZ_RESOLVE_EARLIER, &t, &kind), 0);
		if (kind != c->kind || t != utc(c->earlier) + 250)
			fail_msg("%s %lld-%02u-%02u %02u:%02u: kind %d at %lld, want %d at %s",
				 c->zone, (long long)c->y, c->mo, c->d, c->h, c->mi, kind,
				 (long long)t, c->kind, c->earlier);
		assert_int_equal(tz_local_to_utc(tz, &lt, TZ_RESOLVE_LATER, &t, NULL), 0);
		if (t != utc(c->later) + 250)
			fail_msg("%s %lld-%02u-%02u %02u:%02u later: %lld, want %s", c->zone,
				 (long long)c->y, c->mo, c->d, c->h, c->mi, (long long)t, c->later);
		tz_free(tz);
	}
}

static void test_change_inside_a_gap(void **state)
{
	/* Made-up zone: at T +00 -> +10, at T+1h -> -10, at T+6h -> +20.
	 * Local T+5h never happens; read with +00 it would be T+5h, which
	 * the clocks (then at -10) show as T-5h, earlier than asked. The
	 * jump at T is taken instead. */
	static const int64_t trans[] = { INT64_C(2000000000), INT64_C(2000003600),
					 INT64_C(2000021600) };
	static const uint8_t idx[] = { 1, 2, 3 };
	static const int32_t utoff[] = { 0, 36000, -36000, 72000 };
	static const uint8_t isdst[] = { 0, 0, 0, 0 };
	static const uint8_t abbr[] = { 0, 0, 0, 0 };
	struct tzif z = { .version = '2', .n_trans = 3, .trans = trans, .idx = idx, .n_types = 4,
			  .utoff = utoff, .isdst = isdst, .abbr = abbr, .chars = "XXX",
			  .n_chars = 4, .footer = "" };
	struct buf b;
	buf_init(&b, TZ_FILE_MAX);
	tzif_build(&b, &z);
	struct tz *tz;
	assert_int_equal(tz_parse(b.data, b.len, &tz), 0);
	buf_release(&b);
	struct tz_local lt;
	assert_int_equal(tz_utc_to_local(tz, (trans[0] + 5 * 3600 - 1) * USEC_PER_SEC, &lt), 0);
	assert_int_equal(lt.utc_offset, -36000);
	/* Local T+5h, as a UTC calendar date (offset 0 before T). */
	struct tz_local want;
	assert_int_equal(tz_utc_to_local(tz, (trans[0] - 3600) * USEC_PER_SEC, &want), 0);
	want.hour += 6;
	int64_t t;
	enum tz_local_kind kind;
	assert_int_equal(tz_local_to_utc(tz, &want, TZ_RESOLVE_EARLIER, &t, &kind), 0);
	assert_int_equal(kind, TZ_LOCAL_GAP);
	assert_int_equal(t, trans[0] * USEC_PER_SEC);
	tz_free(tz);
}

static void test_shifted_start_reads_back(void **state)
{
	/* 02:30 on the spring-forward day is on the clocks as 03:30 CEST. */
	struct tz *tz = load("Europe/Berlin");
	struct tz_local lt = { .year = 2027, .month = 3, .day = 28, .hour = 2, .minute = 30 };
	int64_t t;
	assert_int_equal(tz_local_to_utc(tz, &lt, TZ_RESOLVE_EARLIER, &t, NULL), 0);
	struct tz_local back;
	assert_int_equal(tz_utc_to_local(tz, t, &back), 0);
	assert_int_equal(back.hour, 3);
	assert_int_equal(back.minute, 30);
	assert_int_equal(back.utc_offset, 7200);
	assert_true(back.is_dst);
	assert_string_equal(back.abbr, "CEST");
	assert_int_equal(back.weekday, 6);	/* Sunday */
	tz_free(tz);
}

static void test_round_trips(void **state)
{
	static const char *zones[] = { "UTC", "Europe/Berlin", "America/New_York",
				       "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham",
				       "America/Nuuk", "Asia/Jerusalem", "Europe/Dublin" };
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		struct tz *tz = load(zones[z]);
		size_t overlaps = 0;
		/* 1960 .. 2100, every 1 day 37 min 13.5 s. */
		for (int64_t t = utc("1960-01-01T00:00:00Z"); t < utc("2100-01-01T00:00:00Z");
		     t += (86400 + 37 * 60 + 13) * USEC_PER_SEC + 500000) {
			struct tz_local lt;
			assert_int_equal(tz_utc_to_local(tz, t, &lt), 0);
			assert_int_equal(lt.utc_offset, tz_offset_at(tz, t));
			int64_t early, late;
			enum tz_local_kind kind;
			assert_int_equal(
				tz_local_to_utc(tz, &lt, TZ_RESOLVE_EARLIER, &early, &kind), 0);
			assert_int_equal(tz_local_to_utc(tz, &lt, TZ_RESOLVE_LATER, &late, NULL),
					 0);
			assert_int_not_equal(kind, TZ_LOCAL_GAP);
			assert_true(early <= t && t <= late);
			if (kind == TZ_LOCAL_UNIQUE)
				assert_int_equal(early, t);
			else
				overlaps++;
		}
		if (strcmp(zones[z], "UTC") != 0 && strcmp(zones[z], "Asia/Kolkata") != 0)
			assert_true(overlaps > 0);
		tz_free(tz);
	}
}

static void test_local_fields(void **state)
{
	struct tz *tz = load("Asia/Kolkata");
	struct tz_local lt;
	assert_int_equal(tz_utc_to_local(tz, -500000, &lt), 0);	/* 1969-12-31T23:59:59.5Z */
	assert_int_equal(lt.year, 1970);
	assert_int_equal(lt.month, 1);
	assert_int_equal(lt.day, 1);
	assert_int_equal(lt.hour, 5);
	assert_int_equal(lt.minute, 29);
	assert_int_equal(lt.second, 59);
	assert_int_equal(lt.usec, 500000);
	assert_int_equal(lt.weekday, 3);	/* Thursday */
	assert_false(lt.is_dst);
	assert_string_equal(lt.abbr, "IST");
	assert_int_equal(tz_utc_to_local(tz, TIME_MAX_US + 1, &lt), -ERANGE);
	assert_int_equal(tz_utc_to_local(tz, TIME_MIN_US - 1, &lt), -ERANGE);

	int64_t t = 42;
	struct tz_local bad[] = {
		{ .year = 2027, .month = 2, .day = 29 },
		{ .year = 2027, .month = 13, .day = 1 },
		{ .year = 2027, .month = 0, .day = 1 },
		{ .year = 2027, .month = 1, .day = 0 },
		{ .year = 2027, .month = 1, .day = 1, .hour = 24 },
		{ .year = 2027, .month = 1, .day = 1, .minute = 60 },
		{ .year = 2027, .month = 1, .day = 1, .second = 60 },
		{ .year = 2027, .month = 1, .day = 1, .usec = 1000000 },
		{ .year = 0, .month = 1, .day = 1 },
		{ .year = 10000, .month = 1, .day = 1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tz_local_to_utc(tz, &bad[i], TZ_RESOLVE_EARLIER, &t, NULL),
				 -EINVAL);
	assert_int_equal(t, 42);
	struct tz_local leap = { .year = 2028, .month = 2, .day = 29 };
	assert_int_equal(tz_local_to_utc(tz, &leap, TZ_RESOLVE_EARLIER, &t, NULL), 0);
	assert_int_equal(t, utc("2028-02-28T18:30:00Z"));
	/* 0001-01-01 00:00 at +05:30 is before the first instant onair has. */
	struct tz_local first = { .year = 1, .month = 1, .day = 1 };
	assert_int_equal(tz_local_to_utc(tz, &first, TZ_RESOLVE_EARLIER, &t, NULL), -ERANGE);
	tz_free(tz);
}

/* ------------------------------------------------------------ names and files */

static void test_names(void **state)
{
	static const char *good[] = { "UTC", "Europe/Berlin", "America/Port-au-Prince",
				      "Etc/GMT+5", "Etc/GMT-14", "America/Argentina/Buenos_Aires" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(tz_name_valid(good[i]));
	char longest[TZ_NAME_MAX + 2];
	memset(longest, 'a', sizeof(longest));
	longest[TZ_NAME_MAX] = '\0';
	assert_true(tz_name_valid(longest));
	longest[TZ_NAME_MAX] = 'a';
	longest[TZ_NAME_MAX + 1] = '\0';
	static const char *bad[] = { "", "/etc/passwd", "../etc/passwd", "Europe/../../etc/passwd",
				     "..", ".", "Europe/.", "Europe//Berlin", "Europe/Berlin/",
				     "/", "Europe/Berlin\n", "Europe/Ber lin", "zone.tab",
				     "Europe\\Berlin", "Europe/Berlin;rm", "Europe/Berlín" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tz_name_valid(bad[i]))
			fail_msg("'%s' taken as valid", bad[i]);
		struct tz *tz = (struct tz *)&tz;
		assert_int_equal(tz_load(&tz, bad[i], zoneinfo), -EINVAL);
		assert_ptr_equal(tz, (struct tz *)&tz);
	}
	assert_false(tz_name_valid(longest));
	assert_false(tz_name_valid(NULL));
	struct tz *tz;
	assert_int_equal(tz_load(&tz, longest, zoneinfo), -EINVAL);
	assert_int_equal(tz_load(&tz, NULL, zoneinfo), -EINVAL);
	assert_int_equal(tz_load(&tz, "Nowhere/Atlantis", zoneinfo), -ENOENT);
	assert_int_equal(tz_load(&tz, "Europe", zoneinfo), -ENOENT);
	assert_int_equal(tz_load(&tz, "Europe/Berlin/Mitte", zoneinfo), -ENOENT);
	assert_int_equal(tz_load(&tz, "UTC", "/nonexistent-zoneinfo"), -ENOENT);
}

static void test_default_directory(void **state)
{
	if (access(TZ_ZONEINFO_DIR "/UTC", R_OK) != 0)
		skip();
	struct tz *tz;
	assert_int_equal(tz_load(&tz, "UTC", NULL), 0);
	assert_int_equal(tz_offset_at(tz, utc("2027-07-01T00:00:00Z")), 0);
	assert_string_equal(tz_name(tz), "UTC");
	tz_free(tz);
	tz_free(NULL);
}

static void test_special_files(void **state)
{
	char dir[] = "/tmp/onair-tz-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[4200];
	struct tz *tz;

	/* A FIFO must not block the loader. */
	snprintf(path, sizeof(path), "%s/Fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(tz_load(&tz, "Fifo", dir), -EBADMSG);
	unlink(path);

	/* Larger than TZ_FILE_MAX. */
	snprintf(path, sizeof(path), "%s/Big", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, TZ_FILE_MAX + 1), 0);
	close(fd);
	assert_int_equal(tz_load(&tz, "Big", dir), -EFBIG);
	unlink(path);
	char *big = xcalloc(1, TZ_FILE_MAX + 1);
	memcpy(big, "TZif2", 5);
	assert_int_equal(tz_parse(big, TZ_FILE_MAX + 1, &tz), -EFBIG);
	free(big);

	/* Not a TZif file. */
	snprintf(path, sizeof(path), "%s/Text", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "Europe/Berlin\n", 14), 14);
	close(fd);
	assert_int_equal(tz_load(&tz, "Text", dir), -EBADMSG);
	unlink(path);
	rmdir(dir);
}

/* ------------------------------------------------------------ hostile bytes */

static void read_fixture(const char *name, struct buf *b)
{
	char path[4400];
	snprintf(path, sizeof(path), "%s/%s", zoneinfo, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(b, chunk, n), 0);
	fclose(f);
}

static void test_truncated_files(void **state)
{
	struct buf b;
	buf_init(&b, TZ_FILE_MAX);
	read_fixture("Europe/Berlin", &b);
	struct tz *tz;
	assert_int_equal(tz_parse(b.data, b.len, &tz), 0);
	tz_free(tz);
	for (size_t len = 0; len < b.len; len++) {
		tz = NULL;
		int r = tz_parse(b.data, len, &tz);
		if (r != -EBADMSG)
			fail_msg("prefix of %zu bytes: %d", len, r);
		assert_null(tz);
	}
	buf_release(&b);
}

static void set32(struct buf *b, size_t at, uint32_t v)
{
	b->data[at] = (char)(v >> 24);
	b->data[at + 1] = (char)(v >> 16);
	b->data[at + 2] = (char)(v >> 8);
	b->data[at + 3] = (char)v;
}

/* The Berlin file with one 32-bit word of its second header changed
 * (field: 0 isutcnt .. 5 charcnt). */
static int parse_patched_header(size_t field, uint32_t v)
{
	struct buf b;
	buf_init(&b, TZ_FILE_MAX);
	read_fixture("Europe/Berlin", &b);
	/* Berlin's first header: 9 9 0 143 9 18. */
	size_t second = 44 + 143 * 5 + 9 * 6 + 18 + 9 + 9;
	assert_memory_equal(b.data + second, "TZif2", 5);
	set32(&b, second + 20 + 4 * field, v);
	struct tz *tz = NULL;
	int r = tz_parse(b.data, b.len, &tz);
	tz_free(tz);
	buf_release(&b);
	return r;
}

static void test_bad_headers(void **state)
{
	assert_int_equal(parse_patched_header(0, 0), -EBADMSG);	/* sizes no longer add up */
	assert_int_equal(parse_patched_header(0, 5), -EBADMSG);	/* isutcnt != typecnt */
	assert_int_equal(parse_patched_header(1, 8), -EBADMSG);
	assert_int_equal(parse_patched_header(2, 1), -ENOTSUP);	/* leap seconds */
	assert_int_equal(parse_patched_header(2, 0xffffffffu), -EBADMSG);
	assert_int_equal(parse_patched_header(3, 0xffffffffu), -EBADMSG);
	assert_int_equal(parse_patched_header(3, 142), -EBADMSG);
	assert_int_equal(parse_patched_header(4, 0), -EBADMSG);
	assert_int_equal(parse_patched_header(4, 257), -EBADMSG);
	assert_int_equal(parse_patched_header(5, 0), -EBADMSG);
	assert_int_equal(parse_patched_header(5, 0x7fffffffu), -EBADMSG);

	struct buf b;
	buf_init(&b, TZ_FILE_MAX);
	read_fixture("UTC", &b);
	struct tz *tz;
	b.data[0] = 'X';	/* magic */
	assert_int_equal(tz_parse(b.data, b.len, &tz), -EBADMSG);
	b.data[0] = 'T';
	b.data[4] = '1';	/* no such version */
	assert_int_equal(tz_parse(b.data, b.len, &tz), -EBADMSG);
	b.data[4] = '2';
	/* UTC: 44-byte header, 4 bytes of v1 data... then the second header. */
	size_t second = 44 + 6 + 4;
	assert_memory_equal(b.data + second, "TZif2", 5);
	b.data[second + 4] = '3';	/* versions differ */
	assert_int_equal(tz_parse(b.data, b.len, &tz), -EBADMSG);
	b.data[second + 4] = '2';
	b.data[second + 1] = 'z';
	assert_int_equal(tz_parse(b.data, b.len, &tz), -EBADMSG);
	b.data[second + 1] = 'Z';
	assert_int_equal(tz_parse(b.data, b.len, &tz), 0);
	tz_free(tz);
	/* The footer must end the file. */
	assert_int_equal(tz_parse(b.data, b.len - 1, &tz), -EBADMSG);
	assert_int_equal(buf_append_char(&b, '\n'), 0);
	assert_int_equal(tz_parse(b.data, b.len, &tz), -EBADMSG);
	buf_release(&b);
}

static int parse_built(const struct tzif *z)
{
	struct buf b;
	buf_init(&b, TZ_FILE_MAX);
	tzif_build(&b, z);
	struct tz *tz = NULL;
	int r = tz_parse(b.data, b.len, &tz);
	tz_free(tz);
	buf_release(&b);
	return r;
}

static void test_bad_data(void **state)
{
	int64_t trans[40];
	uint8_t idx[40];
	for (size_t i = 0; i < 40; i++) {
		trans[i] = INT64_C(1800000000) + (int64_t)i * 3 * 86400;
		idx[i] = (uint8_t)(i % 2);
	}
	int32_t utoff[] = { 3600, 7200 };
	uint8_t isdst[] = { 0, 1 };
	uint8_t abbr[] = { 0, 4 };
	struct tzif good = { .version = '2', .n_trans = 40, .trans = trans, .idx = idx,
			     .n_types = 2, .utoff = utoff, .isdst = isdst, .abbr = abbr,
			     .chars = "CET\0CEST", .n_chars = 9, .footer = "CET-1" };
	assert_int_equal(parse_built(&good), 0);
	struct tzif z = good;

	idx[3] = 2;		/* no such type */
	assert_int_equal(parse_built(&z), -EBADMSG);
	idx[3] = 1;
	trans[5] = trans[4];	/* not strictly ascending */
	assert_int_equal(parse_built(&z), -EBADMSG);
	trans[5] = trans[4] - 1;
	assert_int_equal(parse_built(&z), -EBADMSG);
	trans[5] = trans[4] + 3 * 86400;
	utoff[1] = 93600;	/* offset of 26 hours */
	assert_int_equal(parse_built(&z), -EBADMSG);
	utoff[1] = -90000;
	assert_int_equal(parse_built(&z), -EBADMSG);
	utoff[1] = INT32_MIN;
	assert_int_equal(parse_built(&z), -EBADMSG);
	utoff[1] = 93599;
	assert_int_equal(parse_built(&z), 0);
	utoff[1] = 7200;
	isdst[1] = 2;
	assert_int_equal(parse_built(&z), -EBADMSG);
	isdst[1] = 1;
	abbr[1] = 9;		/* past the characters */
	assert_int_equal(parse_built(&z), -EBADMSG);
	abbr[1] = 4;
	z.chars = "CET\0CESTX";	/* last abbreviation without its NUL */
	assert_int_equal(parse_built(&z), -EBADMSG);
	z = good;
	z.n_leap = 1;
	assert_int_equal(parse_built(&z), -ENOTSUP);
	z = good;
	z.version = 0;
	z.n_leap = 1;
	assert_int_equal(parse_built(&z), -ENOTSUP);

	/* At most 32 transitions within 52 hours. */
	for (size_t i = 0; i < 40; i++)
		trans[i] = INT64_C(1800000000) + (int64_t)i * 3600;
	z = good;
	z.n_trans = 32;
	assert_int_equal(parse_built(&z), 0);
	z.n_trans = 33;
	assert_int_equal(parse_built(&z), -EBADMSG);
}

static void test_bad_footers(void **state)
{
	static const char *bad[] = {
		"EST5EDT",			/* DST without its rules */
		"EST",				/* no offset */
		"ES5",				/* abbreviation too short */
		"<EST5",			/* unterminated */
		"<E>5",
		"<EST!>5",
		"ABCDEFGHIJKLMNOP5",		/* 16 letters */
		"EST25",			/* offset over 24 hours */
		"EST5:60",
		"EST5:00:60",
		"EST5:",
		"EST5EDT,M13.1.0,M11.1.0",
		"EST5EDT,M0.1.0,M11.1.0",
		"EST5EDT,M3.6.0,M11.1.0",
		"EST5EDT,M3.0.0,M11.1.0",
		"EST5EDT,M3.1.7,M11.1.0",
		"EST5EDT,M3.1,M11.1.0",
		"EST5EDT,J0,J300",
		"EST5EDT,J366,J300",
		"EST5EDT,366,300",
		"EST5EDT,M3.2.0/168,M11.1.0",
		"EST5EDT,M3.2.0/-168,M11.1.0",
		"EST5EDT,M3.2.0/2:60,M11.1.0",
		"EST5EDT,M3.2.0,M11.1.0junk",
		"EST5EDT,M3.2.0",
		"EST5EDT,M3.2.0,",
		"EST5EDT4:00:60,M3.2.0,M11.1.0",
		"EST5EDT-25,M3.2.0,M11.1.0",
		"EST-24:59:59EDT-25,M3.2.0,M11.1.0",
		"EST5 ",
		"EST0005",			/* four hour digits */
		"EST5\t",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tz *tz = NULL;
		int r = parse_footer_only(bad[i], &tz);
		if (r != -EBADMSG)
			fail_msg("footer '%s': %d", bad[i], r);
		assert_null(tz);
	}
	static const char *good[] = { "", "UTC0", "<+14>-14", "<-0930>9:30", "EST+5",
				      "EST5EDT4,M3.2.0/02:00:00,M11.1.0/2",
				      "EST5EDT,M3.2.0/167,M11.1.0/-167",
				      "EST-24:59:59EDT,0,365", "ABCDEFGHIJKLMNO5" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct tz *tz = NULL;
		if (parse_footer_only(good[i], &tz) != 0)
			fail_msg("footer '%s' refused", good[i]);
		tz_free(tz);
	}
	/* An empty footer: the last type (here type 0, no transitions). */
	struct tz *tz;
	assert_int_equal(parse_footer_only("", &tz), 0);
	assert_int_equal(tz_offset_at(tz, utc("2090-07-01T00:00:00Z")), 0);
	tz_free(tz);
	assert_int_equal(parse_footer_only("<-0930>9:30", &tz), 0);
	assert_int_equal(tz_offset_at(tz, utc("2090-07-01T00:00:00Z")), -(9 * 3600 + 1800));
	tz_free(tz);
}

int main(void)
{
	const char *root = getenv("ONAIR_SOURCE_ROOT");
	snprintf(zoneinfo, sizeof(zoneinfo), "%s/tests/station/zoneinfo", root ? root : ".");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_offsets),
		cmocka_unit_test(test_footer_rules),
		cmocka_unit_test(test_footer_all_year_dst),
		cmocka_unit_test(test_footer_after_table),
		cmocka_unit_test(test_version1_file),
		cmocka_unit_test(test_gaps_and_overlaps),
		cmocka_unit_test(test_change_inside_a_gap),
		cmocka_unit_test(test_shifted_start_reads_back),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_local_fields),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_default_directory),
		cmocka_unit_test(test_special_files),
		cmocka_unit_test(test_truncated_files),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_data),
		cmocka_unit_test(test_bad_footers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
