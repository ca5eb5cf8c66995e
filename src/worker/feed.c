/*
 * feed.c - RSS 2.0 / iTunes and Atom feeds into struct feed.
 *
 * libxml2 builds the tree (see feed.h for the options); the text of
 * elements and attributes is then gathered by our own bounded walk, which
 * takes text and CDATA nodes and leaves entity references out, so that
 * nothing a feed declares can be expanded behind our back (xmlNodeGetContent
 * and xmlGetProp would expand them, and xmlNodeGetBase reads xml:base with
 * xmlGetProp: none of the three is used here).
 */
#include "worker/feed.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/hash.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>

#include "common/error.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/timeutil.h"

#define NS_ITUNES "http://www.itunes.com/dtds/podcast-1.0.dtd"
#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_MEDIA "http://search.yahoo.com/mrss/"

/* Nesting walked when gathering text (libxml2 itself stops at 256). */
#define TEXT_DEPTH_MAX 64

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

void feed_xml_init(void)
{
	pthread_once(&xml_once, xml_init);
}

/* ------------------------------------------------------------------ text */

/* Length of the well-formed UTF-8 sequence at s[0..n-1] (1..4), or 0
 * when s does not start with one (overlong forms, surrogates and values
 * above U+10FFFF are not well-formed). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

/* Offset of the first byte of s[0..n-1] that is not part of well-formed
 * UTF-8, or n when all of it is. */
static size_t utf8_valid_prefix(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq(p + i, n - i);
		if (l == 0)
			return i;
		i += l;
	}
	return n;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * A clean copy of s[0..n-1]: surrounding white space trimmed, NUL bytes
 * dropped, bytes that are not well-formed UTF-8 replaced by U+FFFD, and
 * cut at a character boundary to at most max bytes. Never NULL.
 */
static char *clean_text(const char *s, size_t n, size_t max)
{
	while (n > 0 && is_space((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	size_t cap = n < max ? n : max;
	char *out = xmalloc(cap + 1);
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (p[i] == 0) {
			i++;
			continue;
		}
		size_t l = utf8_seq(p + i, n - i);
		const unsigned char *src = p + i;
		static const unsigned char repl[3] = { 0xEF, 0xBF, 0xBD };
		if (l == 0) {
			src = repl;
			l = 3;
			i++;
		} else {
			i += l;
		}
		if (o + l > cap)
			break;
		memcpy(out + o, src, l);
		o += l;
	}
	/* A cut may leave white space at the end. */
	while (o > 0 && is_space((unsigned char)out[o - 1]))
		o--;
	out[o] = '\0';
	return out;
}

/*
 * Append the text of the nodes from first on (its siblings and their
 * descendants: text and CDATA, in document order) to b, up to b's limit;
 * entity references are left out. Leading white space is not stored, so
 * that it does not use up the room.
 */
static void gather_text(const xmlNode *first, struct buf *b)
{
	const xmlNode *stack[TEXT_DEPTH_MAX];
	size_t depth = 0;
	const xmlNode *n = first;
	while (n) {
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content) {
			const char *t = (const char *)n->content;
			size_t len = strlen(t);
			if (b->len == 0) {
				while (len > 0 && is_space((unsigned char)*t)) {
					t++;
					len--;
				}
			}
			size_t room = b->max - b->len;
			if (len > room)
				len = room;
			if (len > 0)
				buf_append(b, t, len);
			if (b->len >= b->max)
				return;
		} else if (n->type == XML_ELEMENT_NODE && n->children && depth < TEXT_DEPTH_MAX) {
			stack[depth++] = n;
			n = n->children;
			continue;
		}
		while (!n->next && depth > 0)
			n = stack[--depth];
		n = n->next;
	}
}

/* The trimmed, clean text of the nodes from first on, at most max bytes.
 * Never NULL. */
static char *list_text(const xmlNode *first, size_t max)
{
	struct buf b;
	/* Room for the last character cut and trailing white space. */
	buf_init(&b, max + 8);
	gather_text(first, &b);
	char *s = clean_text(b.data, b.len, max);
	buf_release(&b);
	return s;
}

/* The trimmed, clean text of element n, at most max bytes. Never NULL. */
static char *node_text(const xmlNode *n, size_t max)
{
	return list_text(n->children, max);
}

/* The attribute name of element n in namespace ns (NULL: none), or NULL. */
static const xmlAttr *find_attr(const xmlNode *n, const char *name, const char *ns)
{
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		if (strcmp((const char *)a->name, name) != 0)
			continue;
		if (ns ? (a->ns && a->ns->href && strcmp((const char *)a->ns->href, ns) == 0)
		       : a->ns == NULL)
			return a;
	}
	return NULL;
}

/* The clean text of attribute name of n, at most max bytes, or NULL when
 * n has no such attribute. */
static char *attr_text(const xmlNode *n, const char *name, size_t max)
{
	const xmlAttr *a = find_attr(n, name, NULL);
	if (!a)
		return NULL;
	return list_text(a->children, max);
}

/* ------------------------------------------------------------------ URLs */

/* s with the bytes that may not appear in a URI (white space, controls,
 * non-ASCII, "<>\"{}|\\^`") percent-encoded, as browsers do with the
 * URLs feeds really contain. */
static char *escape_url(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7F || strchr("<>\"{}|\\^`", c)) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

/*
 * The base URL of node n: the document's URL with the xml:base
 * attributes of n and its ancestors applied, outermost first. NULL when
 * there is none. Free with free().
 */
static char *node_base(const xmlNode *n, const char *doc_url)
{
	const xmlNode *chain[TEXT_DEPTH_MAX];
	size_t k = 0;
	for (const xmlNode *p = n; p && p->type == XML_ELEMENT_NODE; p = p->parent) {
		if (find_attr(p, "base", (const char *)XML_XML_NAMESPACE)) {
			if (k == TEXT_DEPTH_MAX)
				break;
			chain[k++] = p;
		}
	}
	char *base = doc_url ? xstrdup(doc_url) : NULL;
	while (k > 0) {
		const xmlNode *p = chain[--k];
		const xmlAttr *a = find_attr(p, "base", (const char *)XML_XML_NAMESPACE);
		char *v = list_text(a->children, FEED_URL_MAX);
		char *ev = escape_url(v);
		free(v);
		xmlChar *r = xmlBuildURI((const xmlChar *)ev, (const xmlChar *)base);
		free(ev);
		if (r) {
			free(base);
			base = xstrdup((const char *)r);
			xmlFree(r);
		}
	}
	return base;
}

/*
 * The absolute http(s) URL that text u (as found in the feed, below
 * node n) stands for, resolved against n's base; NULL when it is empty,
 * cannot be resolved, is not http or https, has no host, or is longer
 * than FEED_URL_MAX. Free with free().
 */
static char *resolve_url(const xmlNode *n, const char *doc_url, const char *u)
{
	if (!u || !*u)
		return NULL;
	char *eu = escape_url(u);
	char *base = node_base(n, doc_url);
	xmlChar *abs = xmlBuildURI((const xmlChar *)eu, (const xmlChar *)base);
	free(base);
	free(eu);
	if (!abs)
		return NULL;
	char *ret = NULL;
	xmlURIPtr uri = xmlParseURI((const char *)abs);
	if (uri && uri->scheme && uri->server && uri->server[0] &&
	    (strcasecmp(uri->scheme, "http") == 0 || strcasecmp(uri->scheme, "https") == 0) &&
	    strlen((const char *)abs) <= FEED_URL_MAX &&
	    utf8_valid_prefix((const char *)abs, strlen((const char *)abs)) ==
		    strlen((const char *)abs))
		ret = xstrdup((const char *)abs);
	xmlFreeURI(uri);
	/* "HTTP://" as "http://", so that a scheme check elsewhere is simple. */
	for (char *c = ret; c && *c && *c != ':'; c++)
		*c = (char)tolower((unsigned char)*c);
	xmlFree(abs);
	/* Everything above 0x20 and below 0x7F was escaped; make sure. */
	for (const char *c = ret; c && *c; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7F) {
			free(ret);
			return NULL;
		}
	}
	return ret;
}

/* ----------------------------------------------------------------- dates */

static int month_of(const char *w)
{
	static const char *const names[] = { "jan", "feb", "mar", "apr", "may", "jun",
					     "jul", "aug", "sep", "oct", "nov", "dec" };
	if (strlen(w) < 3)
		return 0;
	for (int i = 0; i < 12; i++) {
		if (strncasecmp(w, names[i], 3) == 0) {
			/* "mar" or "march", not "marzipan": the rest must be
			 * the month's full name (or "sept"). */
			static const char *const full[] = { "january", "february", "march",
							    "april", "may", "june", "july",
							    "august", "september", "october",
							    "november", "december" };
			if (strlen(w) == 3 || strcasecmp(w, full[i]) == 0 ||
			    (i == 8 && strcasecmp(w, "sept") == 0))
				return i + 1;
			return 0;
		}
	}
	return 0;
}

static bool is_weekday(const char *w)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	static const char *const full[] = { "monday", "tuesday", "wednesday", "thursday",
					    "friday", "saturday", "sunday" };
	for (int i = 0; i < 7; i++)
		if (strcasecmp(w, days[i]) == 0 || strcasecmp(w, full[i]) == 0 ||
		    (strlen(w) == 4 && strncasecmp(w, full[i], 4) == 0))
			return true;
	return false;
}

/* Offset east of UTC in minutes of a zone name; false when unknown. The
 * RFC 822 names, and a few that feeds use although RFC 822 has not got
 * them. Military letters count as UTC (RFC 2822 says they are unknown). */
static bool zone_of(const char *w, int *minutes)
{
	static const struct {
		const char *name;
		int minutes;
	} zones[] = {
		{ "ut", 0 }, { "utc", 0 }, { "gmt", 0 }, { "z", 0 },
		{ "est", -300 }, { "edt", -240 }, { "cst", -360 }, { "cdt", -300 },
		{ "mst", -420 }, { "mdt", -360 }, { "pst", -480 }, { "pdt", -420 },
		{ "akst", -540 }, { "akdt", -480 }, { "hst", -600 },
		{ "wet", 0 }, { "west", 60 }, { "bst", 60 }, { "cet", 60 }, { "cest", 120 },
		{ "met", 60 }, { "mest", 120 }, { "eet", 120 }, { "eest", 180 },
		{ "msk", 180 }, { "ist", 330 }, { "jst", 540 }, { "kst", 540 },
		{ "aest", 600 }, { "aedt", 660 }, { "acst", 570 }, { "awst", 480 },
		{ "nzst", 720 }, { "nzdt", 780 },
	};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strcasecmp(w, zones[i].name) == 0) {
			*minutes = zones[i].minutes;
			return true;
		}
	}
	if (strlen(w) == 1 && isalpha((unsigned char)w[0]) && w[0] != 'j' && w[0] != 'J') {
		*minutes = 0;
		return true;
	}
	return false;
}

/* Read up to max decimal digits at *p into *v; the count read. */
static int read_digits(const char **p, int max, long *v)
{
	int k = 0;
	long x = 0;
	while (k < max && isdigit((unsigned char)**p)) {
		x = x * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	*v = x;
	return k;
}

/* "hh:mm[:ss[.fff]]" at w (the whole word): true and the fields. */
static bool parse_clock(const char *w, long *h, long *mi, long *s)
{
	const char *p = w;
	*s = 0;
	if (read_digits(&p, 2, h) < 1 || *p++ != ':' || read_digits(&p, 2, mi) != 2)
		return false;
	if (*p == ':') {
		p++;
		if (read_digits(&p, 2, s) != 2)
			return false;
		if (*p == '.' || *p == ',') {
			p++;
			long frac;
			if (read_digits(&p, 9, &frac) < 1)
				return false;
		}
	}
	if (*p)
		return false;
	if (*h > 23 || *mi > 59 || *s > 60)
		return false;
	if (*s == 60)
		*s = 59;
	return true;
}

/* "+hhmm", "-hhmm", "+hh:mm", "+hh" at w: true and minutes east. */
static bool parse_offset(const char *w, int *minutes)
{
	if (w[0] != '+' && w[0] != '-')
		return false;
	const char *p = w + 1;
	long h, m = 0;
	int k = read_digits(&p, 2, &h);
	if (k != 2)
		return false;
	if (*p == ':')
		p++;
	if (*p && read_digits(&p, 2, &m) != 2)
		return false;
	if (*p || h > 23 || m > 59)
		return false;
	*minutes = (int)((w[0] == '-' ? -1 : 1) * (h * 60 + m));
	return true;
}

/* RFC 822 and its usual deviations; 0 when s cannot be read. */
static int64_t parse_rfc822(const char *s)
{
	char copy[128];
	size_t n = strlen(s);
	if (n >= sizeof(copy))
		return 0;
	memcpy(copy, s, n + 1);
	/* A comment "(...)" ends the useful part. */
	char *paren = strchr(copy, '(');
	if (paren)
		*paren = '\0';
	long day = -1, year = -1, h = -1, mi = 0, sec = 0;
	int year_digits = 0, month = 0, zone = 0;
	bool have_zone = false;
	char *save = NULL;
	static const char seps[] = " \t\r\n,";
	for (char *w = strtok_r(copy, seps, &save); w; w = strtok_r(NULL, seps, &save)) {
		if (isdigit((unsigned char)w[0])) {
			if (strchr(w, ':')) {
				if (h >= 0 || !parse_clock(w, &h, &mi, &sec))
					return 0;
				continue;
			}
			/* "02-Oct-2002" as some write it. */
			char *dash = strchr(w, '-');
			if (dash && day < 0 && month == 0) {
				char *d2 = strchr(dash + 1, '-');
				if (!d2)
					return 0;
				*dash = *d2 = '\0';
				const char *p = w;
				int m = month_of(dash + 1);
				if (read_digits(&p, 2, &day) < 1 || *p || m == 0)
					return 0;
				month = m;
				p = d2 + 1;
				year_digits = read_digits(&p, 4, &year);
				if (*p || year_digits < 2)
					return 0;
				continue;
			}
			const char *p = w;
			long v;
			int k = read_digits(&p, 5, &v);
			if (*p)
				return 0;
			if (k == 4 && year < 0) {
				year = v;	/* also "2002 Oct 02" */
				year_digits = 4;
			} else if (day < 0 && k <= 2) {
				day = v;
			} else if (year < 0 && k >= 2 && k <= 4) {
				year = v;
				year_digits = k;
			} else {
				return 0;
			}
		} else if (w[0] == '+' || w[0] == '-') {
			if (have_zone || !parse_offset(w, &zone))
				return 0;
			have_zone = true;
		} else if (isalpha((unsigned char)w[0])) {
			int m;
			if (month == 0 && (m = month_of(w)) > 0) {
				month = m;
			} else if (h < 0 && month == 0 && is_weekday(w)) {
				continue;
			} else if (!have_zone && h >= 0) {
				/* "GMT+0200" and the like: the name, then an offset. */
				char *sign = strpbrk(w, "+-");
				int extra = 0;
				if (sign) {
					if (!parse_offset(sign, &extra))
						return 0;
					*sign = '\0';
				}
				if (!zone_of(w, &zone))
					zone = 0;	/* unknown name: taken as UTC */
				zone += extra;
				have_zone = true;
			} else if (h >= 0 && have_zone) {
				continue;	/* words after the zone */
			} else {
				return 0;
			}
		} else {
			return 0;
		}
	}
	if (day < 1 || month == 0 || year < 0 || h < 0)
		return 0;
	if (year_digits == 2)
		year += year < 50 ? 2000 : 1900;
	else if (year_digits == 3)
		year += 1900;
	if (year < 1900 || year > 9999 || day > (long)time_days_in_month(year, (unsigned)month))
		return 0;
	int64_t days = time_days_from_civil(year, (unsigned)month, (unsigned)day);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)zone * 60;
	return secs * USEC_PER_SEC;
}

int64_t feed_parse_date(const char *s)
{
	if (!s)
		return 0;
	while (is_space((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n > 100)
		return 0;
	char t[128];
	memcpy(t, s, n);
	t[n] = '\0';
	int64_t v;
	/* ISO 8601 / RFC 3339: "2024-03-01T10:00:00Z", also without a zone
	 * (UTC) and a bare date. */
	if (n >= 10 && isdigit((unsigned char)t[0]) && t[4] == '-') {
		if (time_parse_rfc3339(t, &v) == 0)
			return v == 0 ? 1 : v;
		char u[160];
		if (n == 10)
			snprintf(u, sizeof(u), "%.10sT00:00:00Z", t);
		else
			snprintf(u, sizeof(u), "%.100sZ", t);
		if (time_parse_rfc3339(u, &v) == 0)
			return v == 0 ? 1 : v;
		return 0;
	}
	v = parse_rfc822(t);
	/* 0 means unknown: an instant of exactly the epoch moves by 1 us. */
	return v;
}

int64_t feed_parse_duration(const char *s)
{
	if (!s)
		return -1;
	while (is_space((unsigned char)*s))
		s++;
	long parts[3];
	int k = 0;
	const char *p = s;
	int64_t frac_us = 0;
	for (;;) {
		if (k == 3)
			return -1;
		if (read_digits(&p, 9, &parts[k]) < 1)
			return -1;
		k++;
		if (*p == ':') {
			p++;
			continue;
		}
		if (*p == '.' || *p == ',') {
			p++;
			int64_t scale = 100000;
			int d = 0;
			while (isdigit((unsigned char)*p)) {
				if (d++ < 6) {
					frac_us += (*p - '0') * scale;
					scale /= 10;
				}
				p++;
			}
			if (d == 0)
				return -1;
		}
		break;
	}
	while (is_space((unsigned char)*p))
		p++;
	if (*p)
		return -1;
	int64_t secs;
	if (k == 1) {
		secs = parts[0];
	} else if (k == 2) {
		if (parts[1] > 59)
			return -1;
		secs = (int64_t)parts[0] * 60 + parts[1];
	} else {
		if (parts[1] > 59 || parts[2] > 59)
			return -1;
		secs = (int64_t)parts[0] * 3600 + (int64_t)parts[1] * 60 + parts[2];
	}
	int64_t us = secs * USEC_PER_SEC + frac_us;
	return us > 0 ? us : -1;
}

/* ---------------------------------------------------------------- parsing */

struct parser {
	const char *doc_url;
	struct feed *f;
	size_t cap;
	xmlHashTablePtr guids;
	const xmlNs *atom_ns;	/* the Atom root's namespace (Atom feeds) */
};

static bool ns_is(const xmlNode *n, const char *href)
{
	return n->ns && n->ns->href && strcasecmp((const char *)n->ns->href, href) == 0;
}

/* An RSS element: no namespace, or a default one that is not one of the
 * extensions (some feeds put their RSS in one). */
static bool is_rss(const xmlNode *n, const char *name)
{
	if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
		return false;
	if (!n->ns)
		return true;
	return n->ns->prefix == NULL && !ns_is(n, NS_ATOM) && !ns_is(n, NS_ITUNES);
}

static bool is_ns(const xmlNode *n, const char *href, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0 &&
	       ns_is(n, href);
}

/* An Atom element: the namespace of the Atom root (Atom 1.0 or 0.3). */
static bool is_atom(const struct parser *ps, const xmlNode *n, const char *name)
{
	if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
		return false;
	if (!n->ns || !ps->atom_ns)
		return n->ns == ps->atom_ns;
	return n->ns->href && ps->atom_ns->href &&
	       strcmp((const char *)n->ns->href, (const char *)ps->atom_ns->href) == 0;
}

/* Replace *dst by the text of n when *dst is empty or NULL. */
static void take_text(char **dst, const xmlNode *n, size_t max)
{
	if (*dst && **dst)
		return;
	char *t = node_text(n, max);
	if (*t || !*dst) {
		free(*dst);
		*dst = t;
	} else {
		free(t);
	}
}

/* Replace *dst by the resolved URL in attribute attr of n (or, with attr
 * NULL, in its text) when *dst is NULL. */
static void take_url(const struct parser *ps, char **dst, const xmlNode *n, const char *attr)
{
	if (*dst)
		return;
	char *u = attr ? attr_text(n, attr, FEED_URL_MAX + 1) : node_text(n, FEED_URL_MAX + 1);
	/* Longer than FEED_URL_MAX as written: dropped, not cut. */
	if (u && strlen(u) <= FEED_URL_MAX)
		*dst = resolve_url(n, ps->doc_url, u);
	free(u);
}

/* An enclosure length: decimal bytes, > 0; -1 for anything else. */
static int64_t parse_size(const char *s)
{
	if (!s)
		return -1;
	int64_t x = 0;
	int digits = 0;
	const char *p = s;
	for (; isdigit((unsigned char)*p); p++) {
		if (++digits > 18)
			return -1;
		x = x * 10 + (*p - '0');
	}
	if (digits == 0 || *p)
		return -1;
	return x > 0 ? x : -1;
}

static void episode_release(struct feed_episode *e)
{
	free(e->guid);
	free(e->title);
	free(e->description);
	free(e->enclosure_url);
	free(e->enclosure_type);
	memset(e, 0, sizeof(*e));
}

/* Keep episode e (taking what it owns) unless it has no enclosure or a
 * guid seen before; either way e is left empty. */
static void add_episode(struct parser *ps, struct feed_episode *e)
{
	struct feed *f = ps->f;
	if (!e->enclosure_url) {
		f->skipped++;
		episode_release(e);
		return;
	}
	if (!e->guid || !*e->guid) {
		free(e->guid);
		e->guid = xstrdup(e->enclosure_url);
	}
	if (!e->title)
		e->title = xstrdup("");
	if (!e->description)
		e->description = xstrdup("");
	if (xmlHashAddEntry(ps->guids, (const xmlChar *)e->guid, (void *)ps) != 0) {
		f->skipped++;
		episode_release(e);
		return;
	}
	if (f->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 16;
		f->episodes = xreallocarray(f->episodes, ps->cap, sizeof(*f->episodes));
	}
	f->episodes[f->n++] = *e;
	memset(e, 0, sizeof(*e));
}

/* An element of Media RSS (its namespace URI with or without the final
 * slash). */
static bool is_media(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0 &&
	       n->ns && n->ns->href &&
	       strncmp((const char *)n->ns->href, NS_MEDIA, strlen(NS_MEDIA) - 1) == 0;
}

/* Media RSS: <media:content url= type= fileSize=> directly in the item
 * or in a <media:group>, used when an item has no <enclosure>. Only
 * audio counts (type audio/... or medium="audio"). */
static void take_media_content(struct parser *ps, struct feed_episode *e, const xmlNode *item,
			       int depth)
{
	for (const xmlNode *c = item->children; c && !e->enclosure_url; c = c->next) {
		if (is_media(c, "group") && depth == 0) {
			take_media_content(ps, e, c, depth + 1);
			continue;
		}
		if (!is_media(c, "content"))
			continue;
		char *type = attr_text(c, "type", FEED_TEXT_MAX);
		char *medium = attr_text(c, "medium", FEED_TEXT_MAX);
		bool audio = (type && strncasecmp(type, "audio/", 6) == 0) ||
			     (medium && strcasecmp(medium, "audio") == 0);
		free(medium);
		if (audio)
			take_url(ps, &e->enclosure_url, c, "url");
		if (!e->enclosure_url) {
			free(type);
			continue;
		}
		free(e->enclosure_type);
		e->enclosure_type = type;
		char *size = attr_text(c, "fileSize", 64);
		e->enclosure_size = parse_size(size);
		free(size);
		if (e->duration_us < 0) {
			char *d = attr_text(c, "duration", 64);
			e->duration_us = feed_parse_duration(d);
			free(d);
		}
	}
}
/* The enclosure of an item: its URL in attribute url_attr (resolved;
 * nothing when it is not http(s)), type and length. */
static void take_enclosure(const struct parser *ps, struct feed_episode *e, const xmlNode *c,
			   const char *url_attr)
{
	take_url(ps, &e->enclosure_url, c, url_attr);
	if (!e->enclosure_url)
		return;
	e->enclosure_type = attr_text(c, "type", FEED_TEXT_MAX);
	char *len = attr_text(c, "length", 64);
	e->enclosure_size = parse_size(len);
	free(len);
}

/* itunes:duration of an item. */
static void take_duration(struct feed_episode *e, const xmlNode *c)
{
	char *d = node_text(c, 64);
	e->duration_us = feed_parse_duration(d);
	free(d);
}


static void rss_item(struct parser *ps, const xmlNode *item)
{
	struct feed_episode e = { .enclosure_size = -1, .duration_us = -1 };
	char *summary = NULL, *content = NULL, *subtitle = NULL, *itunes_title = NULL;
	int64_t dc_date = 0;
	for (const xmlNode *c = item->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_rss(c, "guid")) {
			take_text(&e.guid, c, FEED_TEXT_MAX);
		} else if (is_rss(c, "title")) {
			take_text(&e.title, c, FEED_TEXT_MAX);
		} else if (is_rss(c, "description")) {
			take_text(&e.description, c, FEED_DESCRIPTION_MAX);
		} else if (is_rss(c, "pubDate")) {
			if (e.published_at == 0) {
				char *d = node_text(c, 128);
				e.published_at = feed_parse_date(d);
				free(d);
			}
		} else if (is_rss(c, "enclosure")) {
			if (e.enclosure_url)
				continue;
			take_enclosure(ps, &e, c, "url");
		} else if (is_ns(c, NS_ITUNES, "duration")) {
			take_duration(&e, c);
		} else if (is_ns(c, NS_ITUNES, "summary")) {
			take_text(&summary, c, FEED_DESCRIPTION_MAX);
		} else if (is_ns(c, NS_ITUNES, "subtitle")) {
			take_text(&subtitle, c, FEED_DESCRIPTION_MAX);
		} else if (is_ns(c, NS_ITUNES, "title")) {
			take_text(&itunes_title, c, FEED_TEXT_MAX);
		} else if (is_ns(c, NS_CONTENT, "encoded")) {
			take_text(&content, c, FEED_DESCRIPTION_MAX);
		} else if (is_ns(c, NS_DC, "date")) {
			char *d = node_text(c, 128);
			if (dc_date == 0)
				dc_date = feed_parse_date(d);
			free(d);
		}
	}
	if (!e.enclosure_url)
		take_media_content(ps, &e, item, 0);
	if (e.published_at == 0)
		e.published_at = dc_date;
	char **fallbacks[] = { &summary, &content, &subtitle };
	for (size_t i = 0; i < 3; i++) {
		if ((!e.description || !*e.description) && *fallbacks[i] && **fallbacks[i]) {
			free(e.description);
			e.description = *fallbacks[i];
			*fallbacks[i] = NULL;
		}
	}
	if ((!e.title || !*e.title) && itunes_title) {
		free(e.title);
		e.title = itunes_title;
		itunes_title = NULL;
	}
	free(summary);
	free(content);
	free(subtitle);
	free(itunes_title);
	add_episode(ps, &e);
}

static void rss_channel(struct parser *ps, const xmlNode *channel)
{
	struct feed *f = ps->f;
	char *summary = NULL, *subtitle = NULL, *itunes_image = NULL, *image = NULL;
	for (const xmlNode *c = channel->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_rss(c, "item")) {
			if (f->n >= FEED_MAX_EPISODES)
				f->skipped++;
			else
				rss_item(ps, c);
		} else if (is_rss(c, "title")) {
			take_text(&f->title, c, FEED_TEXT_MAX);
		} else if (is_rss(c, "description")) {
			take_text(&f->description, c, FEED_DESCRIPTION_MAX);
		} else if (is_rss(c, "link")) {
			take_url(ps, &f->link, c, NULL);
		} else if (is_rss(c, "image")) {
			for (const xmlNode *i = c->children; i; i = i->next)
				if (is_rss(i, "url"))
					take_url(ps, &image, i, NULL);
		} else if (is_ns(c, NS_ITUNES, "image")) {
			take_url(ps, &itunes_image, c, "href");
		} else if (is_ns(c, NS_ITUNES, "summary")) {
			take_text(&summary, c, FEED_DESCRIPTION_MAX);
		} else if (is_ns(c, NS_ITUNES, "subtitle")) {
			take_text(&subtitle, c, FEED_DESCRIPTION_MAX);
		}
	}
	/* iTunes artwork first: it is the square one made for podcasts. */
	f->image_url = itunes_image ? itunes_image : image;
	if (itunes_image)
		free(image);
	char **fallbacks[] = { &summary, &subtitle };
	for (size_t i = 0; i < 2; i++) {
		if ((!f->description || !*f->description) && *fallbacks[i] && **fallbacks[i]) {
			free(f->description);
			f->description = *fallbacks[i];
			*fallbacks[i] = NULL;
		}
	}
	free(summary);
	free(subtitle);
}

static void atom_entry(struct parser *ps, const xmlNode *entry)
{
	struct feed_episode e = { .enclosure_size = -1, .duration_us = -1 };
	char *content = NULL;
	int64_t updated = 0;
	for (const xmlNode *c = entry->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_atom(ps, c, "id")) {
			take_text(&e.guid, c, FEED_TEXT_MAX);
		} else if (is_atom(ps, c, "title")) {
			take_text(&e.title, c, FEED_TEXT_MAX);
		} else if (is_atom(ps, c, "summary")) {
			take_text(&e.description, c, FEED_DESCRIPTION_MAX);
		} else if (is_atom(ps, c, "content")) {
			take_text(&content, c, FEED_DESCRIPTION_MAX);
		} else if (is_atom(ps, c, "published") || is_atom(ps, c, "issued")) {
			char *d = node_text(c, 128);
			if (e.published_at == 0)
				e.published_at = feed_parse_date(d);
			free(d);
		} else if (is_atom(ps, c, "updated") || is_atom(ps, c, "modified")) {
			char *d = node_text(c, 128);
			if (updated == 0)
				updated = feed_parse_date(d);
			free(d);
		} else if (is_atom(ps, c, "link")) {
			char *rel = attr_text(c, "rel", FEED_TEXT_MAX);
			bool enclosure = rel && strcmp(rel, "enclosure") == 0;
			free(rel);
			if (!enclosure || e.enclosure_url)
				continue;
			take_enclosure(ps, &e, c, "href");
		} else if (is_ns(c, NS_ITUNES, "duration")) {
			take_duration(&e, c);
		}
	}
	if (e.published_at == 0)
		e.published_at = updated;
	if ((!e.description || !*e.description) && content && *content) {
		free(e.description);
		e.description = content;
		content = NULL;
	}
	free(content);
	add_episode(ps, &e);
}

static void atom_feed(struct parser *ps, const xmlNode *root)
{
	struct feed *f = ps->f;
	char *logo = NULL, *icon = NULL, *itunes_image = NULL;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_atom(ps, c, "entry")) {
			if (f->n >= FEED_MAX_EPISODES)
				f->skipped++;
			else
				atom_entry(ps, c);
		} else if (is_atom(ps, c, "title")) {
			take_text(&f->title, c, FEED_TEXT_MAX);
		} else if (is_atom(ps, c, "subtitle") || is_atom(ps, c, "tagline")) {
			take_text(&f->description, c, FEED_DESCRIPTION_MAX);
		} else if (is_atom(ps, c, "logo")) {
			take_url(ps, &logo, c, NULL);
		} else if (is_atom(ps, c, "icon")) {
			take_url(ps, &icon, c, NULL);
		} else if (is_ns(c, NS_ITUNES, "image")) {
			take_url(ps, &itunes_image, c, "href");
		} else if (is_atom(ps, c, "link") && !f->link) {
			char *rel = attr_text(c, "rel", FEED_TEXT_MAX);
			if (!rel || strcmp(rel, "alternate") == 0)
				take_url(ps, &f->link, c, "href");
			free(rel);
		}
	}
	char **images[] = { &itunes_image, &logo, &icon };
	for (size_t i = 0; i < 3; i++) {
		if (!f->image_url && *images[i]) {
			f->image_url = *images[i];
			*images[i] = NULL;
		}
		free(*images[i]);
	}
}

/*
 * Is this document to be read as UTF-8 by libxml2? True unless it
 * starts with a UTF-16/UTF-32 byte order mark or pattern, or its XML
 * declaration names another encoding.
 */
/* Does the document start as UTF-16 or UTF-32 (a byte order mark, or
 * "<" next to a zero byte)? */
static bool wide_encoding(const char *data, size_t len)
{
	const unsigned char *u = (const unsigned char *)data;
	if (len >= 2 && ((u[0] == 0xFE && u[1] == 0xFF) || (u[0] == 0xFF && u[1] == 0xFE)))
		return true;
	return len >= 2 && (u[0] == 0 || u[1] == 0);
}

static bool declared_utf8(const char *data, size_t len)
{
	const unsigned char *u = (const unsigned char *)data;
	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		return true;
	if (wide_encoding(data, len))
		return false;
	if (len < 5 || memcmp(data, "<?xml", 5) != 0)
		return true;
	size_t end = 5;
	while (end + 1 < len && end < 1024 && !(data[end] == '?' && data[end + 1] == '>'))
		end++;
	const char *enc = NULL;
	for (size_t i = 5; i + 8 <= end; i++) {
		if (memcmp(data + i, "encoding", 8) == 0) {
			enc = data + i + 8;
			break;
		}
	}
	if (!enc)
		return true;
	const char *stop = data + end;
	while (enc < stop && (is_space((unsigned char)*enc) || *enc == '='))
		enc++;
	if (enc >= stop || (*enc != '"' && *enc != '\''))
		return true;
	char quote = *enc++;
	const char *q = memchr(enc, quote, (size_t)(stop - enc));
	if (!q)
		return true;
	size_t n = (size_t)(q - enc);
	return (n == 5 && strncasecmp(enc, "utf-8", 5) == 0) ||
	       (n == 4 && strncasecmp(enc, "utf8", 4) == 0);
}

/* The first occurrence of needle in s[0..n-1], or NULL. */
static const char *find(const char *s, size_t n, const char *needle)
{
	size_t nl = strlen(needle);
	for (const char *p = s; (size_t)(p - s) + nl <= n; p++) {
		p = memchr(p, needle[0], n - (size_t)(p - s) - nl + 1);
		if (!p)
			return NULL;
		if (memcmp(p, needle, nl) == 0)
			return p;
	}
	return NULL;
}

/* True when the text at s[0..n-1] (just after a '&') is the rest of an
 * entity or character reference: "name;", "#123;" or "#x1F;". */
static bool is_reference(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '#') {
		i++;
		bool hex = i < n && (s[i] == 'x' || s[i] == 'X');
		if (hex)
			i++;
		size_t start = i;
		while (i < n && i - start < 16 &&
		       (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i])))
			i++;
		return i > start && i < n && s[i] == ';';
	}
	if (i >= n || !(isalpha((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
		return false;
	while (i < n && i < 64 &&
	       (isalnum((unsigned char)s[i]) || strchr("._:-", s[i]) != NULL))
		i++;
	return i < n && s[i] == ';';
}

/*
 * The commonest breakage of real feeds is a bare '&' (in a URL's query,
 * in "Rock & Roll"), which libxml2 would drop while recovering. Return a
 * copy of data with every '&' that does not start a reference written as
 * "&amp;" (outside CDATA sections, comments and processing instructions),
 * its length in *outlen; NULL when there is none to fix. Only for
 * ASCII-compatible encodings.
 */
static char *fix_bare_ampersands(const char *data, size_t len, size_t *outlen)
{
	struct buf b;
	bool fixed = false;
	size_t copied = 0;
	size_t i = 0;
	buf_init(&b, (size_t)FEED_MAX_BYTES * 5);
	while (i < len) {
		const char *p = memchr(data + i, '<', len - i);
		const char *amp = memchr(data + i, '&', len - i);
		if (!amp)
			break;
		if (p && p < amp) {
			static const struct {
				const char *open, *close;
			} skips[] = { { "<![CDATA[", "]]>" }, { "<!--", "-->" }, { "<?", "?>" } };
			size_t at = (size_t)(p - data);
			i = at + 1;
			for (size_t k = 0; k < 3; k++) {
				size_t ol = strlen(skips[k].open);
				if (len - at >= ol && memcmp(p, skips[k].open, ol) == 0) {
					const char *end = find(p + ol, len - at - ol,
							       skips[k].close);
					i = end ? (size_t)(end - data) + strlen(skips[k].close)
						: len;
					break;
				}
			}
			continue;
		}
		size_t at = (size_t)(amp - data);
		i = at + 1;
		if (is_reference(data + i, len - i))
			continue;
		buf_append(&b, data + copied, at - copied);
		buf_append_str(&b, "&amp;");
		copied = i;
		fixed = true;
	}
	if (!fixed) {
		buf_release(&b);
		return NULL;
	}
	buf_append(&b, data + copied, len - copied);
	return buf_detach(&b, outlen);
}

void feed_release(struct feed *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		episode_release(&f->episodes[i]);
	free(f->episodes);
	free(f->title);
	free(f->description);
	free(f->image_url);
	free(f->link);
	memset(f, 0, sizeof(*f));
}

int feed_parse(const char *data, size_t len, const char *feed_url, struct feed *out, char *err,
	       size_t errlen)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!data) {
		(void)error_set(err, errlen, 0, "no feed data");
		return -EINVAL;
	}
	if (len > FEED_MAX_BYTES) {
		(void)error_set(err, errlen, 0, "feed is %zu bytes, over the limit of %u", len,
			FEED_MAX_BYTES);
		return -E2BIG;
	}
	if (len == 0) {
		(void)error_set(err, errlen, 0, "feed is empty");
		return -EBADMSG;
	}
	if (declared_utf8(data, len)) {
		size_t bad = utf8_valid_prefix(data, len);
		if (bad < len) {
			(void)error_set(err, errlen, 0,
				"feed is declared UTF-8 but is not: invalid byte 0x%02X"
				" at offset %zu",
				(unsigned)(unsigned char)data[bad], bad);
			return -EILSEQ;
		}
	}
	feed_xml_init();

	size_t fixed_len = 0;
	char *fixed = wide_encoding(data, len) ? NULL : fix_bare_ampersands(data, len, &fixed_len);
	if (fixed) {
		data = fixed;
		len = fixed_len;
	}
	int r = 0;
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		(void)error_set(err, errlen, 0, "out of memory");
		r = -ENOMEM;
		goto out_free_fixed;
	}
	/* No external DTD subset, whatever the options say. */
	if (ctxt->sax) {
		ctxt->sax->externalSubset = NULL;
		ctxt->sax->resolveEntity = NULL;
	}
	int options = XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOERROR |
		      XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, data, (int)len, feed_url, NULL, options);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		(void)error_set(err, errlen, 0, "feed is not XML%s%.200s", e && e->message ? ": " : "",
			e && e->message ? e->message : "");
		/* libxml2 messages end with a newline. */
		if (err && errlen && strlen(err) > 0 && err[strlen(err) - 1] == '\n')
			err[strlen(err) - 1] = '\0';
		r = -EBADMSG;
		goto out_free_doc;
	}

	struct parser ps = { .doc_url = feed_url, .f = out };
	ps.guids = xmlHashCreate(64);
	if (!ps.guids) {
		(void)error_set(err, errlen, 0, "out of memory");
		r = -ENOMEM;
		goto out_free_doc;
	}
	const char *rname = (const char *)root->name;
	if (strcmp(rname, "rss") == 0 && (!root->ns || root->ns->prefix == NULL)) {
		const xmlNode *channel = NULL;
		for (const xmlNode *c = root->children; c && !channel; c = c->next)
			if (is_rss(c, "channel"))
				channel = c;
		if (!channel) {
			(void)error_set(err, errlen, 0, "RSS feed without a <channel>");
			r = -EBADMSG;
			goto out_free_hash;
		}
		rss_channel(&ps, channel);
	} else if (strcmp(rname, "feed") == 0) {
		ps.atom_ns = root->ns;
		atom_feed(&ps, root);
	} else {
		(void)error_set(err, errlen, 0, "not an RSS or Atom feed: the document is <%.64s>", rname);
		r = -EBADMSG;
		goto out_free_hash;
	}
	if (!out->title)
		out->title = xstrdup("");
	if (!out->description)
		out->description = xstrdup("");

out_free_hash:
	xmlHashFree(ps.guids, NULL);
out_free_doc:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
out_free_fixed:
	free(fixed);
	if (r < 0)
		feed_release(out);
	return r;
}
