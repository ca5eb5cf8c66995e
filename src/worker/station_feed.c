/*
 * station_feed.c - the station's own RSS 2.0 + iTunes feed, written with
 * libxml2's xmlTextWriter.
 */
#include "worker/station_feed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "worker/feed.h"

#define NS_ITUNES "http://www.itunes.com/dtds/podcast-1.0.dtd"

/* Decode the UTF-8 character at s[0..n-1]: its length (1..4) and code
 * point in *cp, or 0 when s does not start with well-formed UTF-8. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	uint32_t min;
	if ((c & 0xE0) == 0xC0) {
		len = 2;
		min = 0x80;
		*cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3;
		min = 0x800;
		*cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4;
		min = 0x10000;
		*cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return len;
}

/* A copy of s (NULL gives "") that XML 1.0 can carry: characters it does
 * not allow dropped, bytes that are not UTF-8 replaced by U+FFFD. */
static char *xml_text(const char *s)
{
	if (!s)
		return xstrdup("");
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1);
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t l = utf8_decode(p + i, n - i, &cp);
		if (l == 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
			continue;
		}
		bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD ||
			       (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
			       cp >= 0x10000;
		if (allowed) {
			memcpy(out + o, p + i, l);
			o += l;
		}
		i += l;
	}
	out[o] = '\0';
	return out;
}

/* t as RFC 822 in UTC: "Wed, 02 Oct 2002 13:00:00 +0000". */
static void format_rfc822(int64_t t, char *out, size_t size)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t secs = time_floor_div(t, USEC_PER_SEC);
	int64_t day = time_floor_div(secs, 86400);
	int64_t sod = time_floor_mod(secs, 86400);
	int64_t y;
	unsigned m, d;
	time_civil_from_days(day, &y, &m, &d);
	snprintf(out, size, "%s, %02u %s %04" PRId64 " %02d:%02d:%02d +0000",
		 days[time_weekday(day)], d, months[m - 1], y, (int)(sod / 3600),
		 (int)(sod / 60 % 60), (int)(sod % 60));
}

/* d as h:mm:ss (whole seconds, rounded). */
static void format_duration(int64_t d, char *out, size_t size)
{
	int64_t s = (d + USEC_PER_SEC / 2) / USEC_PER_SEC;
	snprintf(out, size, "%" PRId64 ":%02d:%02d", s / 3600, (int)(s / 60 % 60), (int)(s % 60));
}

/* Write element name with text value (cleaned) when value is not NULL
 * (or always, with always set: "" for NULL). */
static int write_text(xmlTextWriterPtr w, const char *name, const char *value, bool always)
{
	if (!value && !always)
		return 0;
	char *v = xml_text(value);
	int rc = xmlTextWriterWriteElement(w, (const xmlChar *)name, (const xmlChar *)v);
	free(v);
	return rc < 0 ? -1 : 0;
}

static int write_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	char *v = xml_text(value);
	int rc = xmlTextWriterWriteAttribute(w, (const xmlChar *)name, (const xmlChar *)v);
	free(v);
	return rc < 0 ? -1 : 0;
}

static bool http_url(const char *u)
{
	return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
	       !strpbrk(u, " \t\r\n\"<>");
}

/* The items: one per published, ready file. -1 for a writer error, or
 * the db error. */
static int write_items(struct db *db, xmlTextWriterPtr w, const char *base, int *werr)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT id, title, artist, comment, size, mime, content_hash,"
			 " published_at, duration_us FROM files"
			 " WHERE published_at IS NOT NULL AND import_status = 'ready'"
			 " ORDER BY published_at DESC, id DESC LIMIT $1",
			 DB_PARAMS(DB_I(STATION_FEED_MAX_ITEMS)), &rows);
	if (r < 0)
		return r;
	int bad = 0;
	while (!bad && db_rows_next(rows)) {
		int64_t id = db_col_int(rows, 0);
		const char *title = db_col_text(rows, 1);
		char fallback[32];
		if (!title || !*title) {
			snprintf(fallback, sizeof(fallback), "File %" PRId64, id);
			title = fallback;
		}
		char url[4200], size[24], date[64], dur[32];
		snprintf(url, sizeof(url), "%.4096s/api/v1/files/%" PRId64 "/content", base, id);
		snprintf(size, sizeof(size), "%" PRId64, db_col_int(rows, 4));
		format_rfc822(db_col_int(rows, 7), date, sizeof(date));
		bad |= xmlTextWriterStartElement(w, (const xmlChar *)"item") < 0;
		bad |= write_text(w, "title", title, true);
		bad |= write_text(w, "itunes:author", db_col_text(rows, 2), false);
		bad |= write_text(w, "description", db_col_text(rows, 3), false);
		bad |= xmlTextWriterStartElement(w, (const xmlChar *)"enclosure") < 0;
		bad |= write_attr(w, "url", url);
		bad |= write_attr(w, "length", size);
		bad |= write_attr(w, "type", db_col_text(rows, 5));
		bad |= xmlTextWriterEndElement(w) < 0;
		bad |= xmlTextWriterStartElement(w, (const xmlChar *)"guid") < 0;
		bad |= write_attr(w, "isPermaLink", "false");
		char *hash = xml_text(db_col_text(rows, 6));
		bad |= xmlTextWriterWriteString(w, (const xmlChar *)hash) < 0;
		free(hash);
		bad |= xmlTextWriterEndElement(w) < 0;
		bad |= write_text(w, "pubDate", date, true);
		if (!db_col_is_null(rows, 8)) {
			format_duration(db_col_int(rows, 8), dur, sizeof(dur));
			bad |= write_text(w, "itunes:duration", dur, true);
		}
		bad |= xmlTextWriterEndElement(w) < 0;
	}
	r = bad ? 0 : db_rows_error(rows);
	db_rows_free(rows);
	*werr = bad;
	return r;
}

int station_feed_write(struct db *db, const char *base_url, struct buf *out)
{
	if (!db || !out || !http_url(base_url) || strlen(base_url) > 2048)
		return -EINVAL;
	size_t blen = strlen(base_url);
	while (blen > 0 && base_url[blen - 1] == '/')
		blen--;
	char *base = xstrndup(base_url, blen);

	feed_xml_init();
	char *name = NULL, *description = NULL;
	struct db_rows *rows;
	int r = db_query(db, "SELECT name, description FROM station_settings WHERE id = 1", NULL,
			 0, &rows);
	if (r < 0)
		goto out_free_base;
	if (db_rows_next(rows)) {
		name = xstrdup(db_col_text(rows, 0) ? db_col_text(rows, 0) : "");
		description = xstrdup(db_col_text(rows, 1) ? db_col_text(rows, 1) : "");
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		goto out_free_settings;

	xmlBufferPtr xb = xmlBufferCreate();
	if (!xb) {
		r = -ENOMEM;
		goto out_free_settings;
	}
	xmlTextWriterPtr w = xmlNewTextWriterMemory(xb, 0);
	if (!w) {
		r = -ENOMEM;
		goto out_free_xb;
	}
	int bad = 0;
	bad |= xmlTextWriterSetIndent(w, 1) < 0;
	bad |= xmlTextWriterSetIndentString(w, (const xmlChar *)"  ") < 0;
	bad |= xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0;
	bad |= xmlTextWriterStartElement(w, (const xmlChar *)"rss") < 0;
	bad |= write_attr(w, "version", "2.0");
	bad |= write_attr(w, "xmlns:itunes", NS_ITUNES);
	bad |= xmlTextWriterStartElement(w, (const xmlChar *)"channel") < 0;
	bad |= write_text(w, "title", name ? name : "", true);
	bad |= write_text(w, "link", base, true);
	bad |= write_text(w, "description", description ? description : "", true);
	bad |= write_text(w, "generator", "onair " ONAIR_VERSION, true);
	bad |= write_text(w, "itunes:author", name ? name : "", true);
	bad |= write_text(w, "itunes:summary", description ? description : "", true);
	bad |= write_text(w, "itunes:explicit", "false", true);
	if (!bad) {
		r = write_items(db, w, base, &bad);
		if (r < 0) {
			xmlFreeTextWriter(w);
			goto out_free_xb;
		}
	}
	bad |= xmlTextWriterEndDocument(w) < 0;	/* closes channel and rss */
	xmlFreeTextWriter(w);	/* flushes into xb */
	if (bad) {
		r = -ENOMEM;
		goto out_free_xb;
	}
	r = buf_append(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));

out_free_xb:
	xmlBufferFree(xb);
out_free_settings:
	free(name);
	free(description);
out_free_base:
	free(base);
	return r;
}
