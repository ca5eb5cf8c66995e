/*
 * ics_check - parse an iCalendar document (RFC 5545) from stdin with
 * libical and print what it holds as JSON lines, for the public API test
 * (tests/api/test_public.py):
 *
 *   {"calendar": {"prodid": "...", "version": "2.0", "calname": "...", "errors": 0}}
 *   {"event": {"uid": "...", "summary": "...", "description": "...", "url": "...",
 *              "dtstart": 1764338400, "dtend": 1764342000, "dtstamp": ..., "utc": true}}
 *
 * Times are POSIX seconds; "utc" says DTSTART and DTEND were in UTC ("Z").
 * "errors" counts the X-LIC-ERROR properties libical added for what it
 * could not parse. Exit 0, or 1 when the input is not a VCALENDAR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#define INPUT_MAX (64u * 1024 * 1024)

/* Print s as a JSON string (NULL: null). */
static void jstr(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static int count_errors(icalcomponent *c)
{
	int n = icalcomponent_count_properties(c, ICAL_XLICERROR_PROPERTY);
	for (icalcomponent *s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
	     s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		n += count_errors(s);
	return n;
}

static const char *prop_text(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty *p = icalcomponent_get_first_property(c, kind);
	return p ? icalproperty_get_value_as_string(p) : NULL;
}

int main(void)
{
	char *data = malloc(INPUT_MAX + 1);
	if (!data)
		return 1;
	size_t n = fread(data, 1, INPUT_MAX, stdin);
	data[n] = '\0';
	icalcomponent *cal = icalparser_parse_string(data);
	free(data);
	if (!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		fputs("ics_check: not a VCALENDAR\n", stderr);
		if (cal)
			icalcomponent_free(cal);
		return 1;
	}
	const char *calname = NULL;
	for (icalproperty *p = icalcomponent_get_first_property(cal, ICAL_X_PROPERTY); p;
	     p = icalcomponent_get_next_property(cal, ICAL_X_PROPERTY)) {
		if (strcmp(icalproperty_get_x_name(p), "X-WR-CALNAME") == 0)
			calname = icalproperty_get_x(p);
	}
	fputs("{\"calendar\": {\"prodid\": ", stdout);
	jstr(prop_text(cal, ICAL_PRODID_PROPERTY));
	fputs(", \"version\": ", stdout);
	jstr(prop_text(cal, ICAL_VERSION_PROPERTY));
	fputs(", \"calname\": ", stdout);
	jstr(calname);
	printf(", \"errors\": %d}}\n", count_errors(cal));
	for (icalcomponent *e = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); e;
	     e = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		struct icaltimetype s = icalcomponent_get_dtstart(e);
		struct icaltimetype en = icalcomponent_get_dtend(e);
		struct icaltimetype st = icalcomponent_get_dtstamp(e);
		fputs("{\"event\": {\"uid\": ", stdout);
		jstr(icalcomponent_get_uid(e));
		fputs(", \"summary\": ", stdout);
		jstr(icalcomponent_get_summary(e));
		fputs(", \"description\": ", stdout);
		jstr(icalcomponent_get_description(e));
		fputs(", \"url\": ", stdout);
		jstr(prop_text(e, ICAL_URL_PROPERTY));
		printf(", \"dtstart\": %lld, \"dtend\": %lld, \"dtstamp\": %lld, \"utc\": %s}}\n",
		       (long long)icaltime_as_timet(s), (long long)icaltime_as_timet(en),
		       (long long)icaltime_as_timet(st),
		       icaltime_is_utc(s) && icaltime_is_utc(en) ? "true" : "false");
	}
	icalcomponent_free(cal);
	return 0;
}
