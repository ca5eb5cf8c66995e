/*
 * feed.h - podcast feeds: RSS 2.0 (with the iTunes namespace) and Atom,
 * parsed into plain structs.
 *
 *   struct feed f;
 *   char err[256];
 *   if (feed_parse(body, len, "https://example.org/feed.xml", &f, err, sizeof(err)) < 0)
 *           ... err says why
 *   for (size_t i = 0; i < f.n; i++)
 *           use f.episodes[i].guid, .enclosure_url, ...
 *   feed_release(&f);
 *
 * Feeds come from anywhere, so the parser expects the worst:
 *   - at most FEED_MAX_BYTES of XML and FEED_MAX_EPISODES episodes (the
 *     first ones in document order; the rest are counted in skipped);
 *   - libxml2 reads the document with XML_PARSE_NONET, without
 *     XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE: nothing is
 *     fetched, no external DTD or entity is loaded, and entities declared
 *     in an internal DTD are never expanded (their references are left
 *     out of the text);
 *   - a feed that is not well-formed is read as far as libxml2 can
 *     recover it, so one bad character does not lose the whole feed: a
 *     bare '&' (in a URL's query, in "Rock & Roll") is read as "&amp;",
 *     an undeclared HTML entity such as &nbsp; is left out;
 *   - a feed declared (or defaulting to) UTF-8 that holds bytes that are
 *     not UTF-8 is refused with -EILSEQ: guessing the real encoding would
 *     store misread titles for good. A feed declared in another encoding
 *     (ISO-8859-1, windows-1252, ...) is converted by libxml2;
 *   - every string given out is valid UTF-8 without NUL bytes, trimmed of
 *     surrounding white space, and bounded: descriptions to
 *     FEED_DESCRIPTION_MAX bytes, other text to FEED_TEXT_MAX (cut at a
 *     character boundary). HTML in descriptions is kept as text, as the
 *     feed has it.
 *
 * Episodes: an item without a usable enclosure (none, or a URL that is
 * not http/https once resolved) is skipped and counted; relative
 * enclosure URLs are resolved against the document's base (feed_url, or
 * an xml:base). An item without a guid takes its enclosure URL as guid;
 * of items sharing a guid the first is kept and the others counted as
 * skipped. Dates in RFC 822 (as RSS writes them, with the usual
 * deviations: zone names or numeric offsets, no seconds, no weekday,
 * two-digit years) and RFC 3339 (Atom) are read; anything else gives 0.
 *
 * Thread-safety: feed_parse may run in several threads at once (libxml2
 * is initialised once, the first time).
 */
#ifndef ONAIR_WORKER_FEED_H
#define ONAIR_WORKER_FEED_H

#include <stddef.h>
#include <stdint.h>

#define FEED_MAX_BYTES (16u << 20)		/* largest feed document parsed */
#define FEED_MAX_EPISODES 10000u		/* episodes kept from one feed */
#define FEED_DESCRIPTION_MAX (64u << 10)	/* bytes of a description */
#define FEED_TEXT_MAX 4096u			/* bytes of a title, guid, type */
#define FEED_URL_MAX 4096u			/* bytes of a URL; longer ones are dropped */

struct feed_episode {
	char *guid;		/* never NULL: the feed's guid/id, else the enclosure URL */
	char *title;		/* never NULL, may be "" */
	char *description;	/* never NULL, may be "" */
	int64_t published_at;	/* instant (us since the epoch, UTC); 0 unknown */
	char *enclosure_url;	/* absolute http(s) URL */
	int64_t enclosure_size;	/* bytes the feed announces; -1 unknown (absent, 0,
				 * garbage) */
	char *enclosure_type;	/* MIME type the feed announces, or NULL */
	int64_t duration_us;	/* itunes:duration; -1 unknown (absent, 0, garbage) */
};

struct feed {
	char *title;		/* never NULL, may be "" */
	char *description;	/* never NULL, may be "" */
	char *image_url;	/* absolute http(s) URL (itunes:image, image/url, logo), or NULL */
	char *link;		/* the site's absolute http(s) URL, or NULL */
	struct feed_episode *episodes;	/* in document order */
	size_t n;
	size_t skipped;		/* items left out: no enclosure, bad URL, duplicate
				 * guid, over the cap */
};

/*
 * Parse len bytes of an RSS 2.0 or Atom document into out (overwritten;
 * release it with feed_release when this returns 0). feed_url is where
 * the feed was fetched: the base for relative URLs (may be NULL, then
 * relative URLs are dropped). A feed with no episodes is not an error.
 * Errors, with a sentence in err (may be NULL), and out left empty:
 *   -E2BIG    len is over FEED_MAX_BYTES;
 *   -EILSEQ   a UTF-8 feed holds bytes that are not UTF-8 (err gives the
 *             byte offset);
 *   -EBADMSG  not XML that can be read, or XML that is neither an RSS
 *             <rss><channel> nor an Atom <feed> (err names the root);
 *   -EINVAL   data or out is NULL.
 * Thread-safe.
 */
int feed_parse(const char *data, size_t len, const char *feed_url, struct feed *out, char *err,
	       size_t errlen);

/* Free everything f owns and zero it. Safe on a zeroed struct. */
void feed_release(struct feed *f);

/* Initialise libxml2 for use from several threads, once per process
 * (later calls return at once). feed_parse and station_feed_write call
 * it; other users of libxml2 in the worker should too. Thread-safe. */
void feed_xml_init(void);

/*
 * Read a feed date: RFC 3339 ("2024-03-01T10:00:00+01:00", also without
 * a zone, taken as UTC, or a bare date) or RFC 822 ("Fri, 01 Mar 2024
 * 10:00:00 +0100", "1 Mar 24 10:00 EST", ...). The instant in
 * microseconds since the epoch, or 0 when s is not a date that can be
 * read (or is NULL). Thread-safe.
 */
int64_t feed_parse_date(const char *s);

/* Read an itunes:duration ("3725", "62:05", "1:02:05", fractions of a
 * second allowed): microseconds, or -1 when s is empty, zero or not a
 * duration. Thread-safe. */
int64_t feed_parse_duration(const char *s);

#include "common/banned.h"
#endif
