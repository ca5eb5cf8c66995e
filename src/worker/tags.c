#include "worker/tags.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"

bool text_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Windows-1252 0x80-0x9F; the five undefined bytes keep their Latin-1
 * (C1 control) code points, as Windows itself maps them. */
static const uint16_t cp1252_high[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static void put_utf8(struct buf *b, uint32_t cp)
{
	char out[3];
	size_t n;
	if (cp < 0x80) {
		out[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	}
	buf_append(b, out, n);
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *text_to_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);
	while (n > 0 && is_space((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	struct buf b;
	/* Each byte becomes at most 3; read no more than can be kept. */
	if (n > max)
		n = max;
	buf_init(&b, 3 * n);
	if (text_utf8_valid(s, n)) {
		buf_append(&b, s, n);
	} else {
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			uint32_t cp = c >= 0x80 && c < 0xa0 ? cp1252_high[c - 0x80] : c;
			put_utf8(&b, cp);
		}
	}
	/* Cut to max bytes at a character boundary. */
	size_t len = b.len;
	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)b.data[len] & 0xc0) == 0x80)
			len--;
	}
	/* A valid prefix cut mid-character (by n > max above) loses its tail. */
	while (len > 0 && !text_utf8_valid(b.data, len))
		len--;
	while (len > 0 && is_space((unsigned char)b.data[len - 1]))
		len--;
	char *r = len ? xstrndup(b.data, len) : NULL;
	buf_release(&b);
	return r;
}

static const char *find(const AVDictionary *c, const AVDictionary *s, const char *const *keys)
{
	for (const AVDictionary *d = c;; d = s) {
		if (d) {
			for (size_t i = 0; keys[i]; i++) {
				const AVDictionaryEntry *e = av_dict_get(d, keys[i], NULL, 0);
				if (e && e->value && e->value[0])
					return e->value;
			}
		}
		if (d == s)
			return NULL;
	}
}

static char *text(const AVDictionary *c, const AVDictionary *s, const char *const *keys)
{
	const char *v = find(c, s, keys);
	return v ? text_to_utf8(v, ANALYZE_TAG_MAX) : NULL;
}

/* Leading decimal number of v (after blanks), or 0. */
static int leading_int(const char *v, const char **end)
{
	while (*v == ' ')
		v++;
	long n = 0;
	int digits = 0;
	while (isdigit((unsigned char)*v) && digits < 9) {
		n = n * 10 + (*v - '0');
		v++;
		digits++;
	}
	if (end)
		*end = v;
	return (int)n;
}

/* "3", "03", "3/12": number and, after a slash, total. */
static void number_pair(const char *v, int *num, int *total)
{
	if (!v)
		return;
	const char *end;
	*num = leading_int(v, &end);
	while (*end == ' ')
		end++;
	if (*end == '/' && *total == 0)
		*total = leading_int(end + 1, NULL);
}

static int year_of(const char *date)
{
	if (!date)
		return 0;
	for (const char *p = date; *p; p++) {
		bool starts = p == date || !isdigit((unsigned char)p[-1]);
		if (starts && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) &&
		    !isdigit((unsigned char)p[4])) {
			int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 +
				(p[3] - '0');
			if (y >= 1000 && y <= 2999)
				return y;
		}
	}
	return 0;
}

void tags_read(struct analysis_tags *t, const AVDictionary *c, const AVDictionary *s)
{
	static const char *const title[] = { "title", "TIT2", NULL };
	static const char *const artist[] = { "artist", "TPE1", "author", NULL };
	static const char *const album[] = { "album", "TALB", NULL };
	static const char *const genre[] = { "genre", "TCON", NULL };
	static const char *const date[] = { "date", "year", "TDRC", "TYER", "originaldate",
					     "TDOR", NULL };
	static const char *const composer[] = { "composer", "TCOM", NULL };
	static const char *const label[] = { "label", "publisher", "organization", "TPUB",
					      NULL };
	static const char *const isrc[] = { "isrc", "TSRC", NULL };
	static const char *const comment[] = { "comment", "description", "COMM", NULL };
	static const char *const language[] = { "language", "TLAN", "lang", NULL };
	static const char *const track[] = { "track", "tracknumber", "TRCK", NULL };
	static const char *const track_total[] = { "tracktotal", "totaltracks", NULL };
	static const char *const disc[] = { "disc", "discnumber", "TPOS", NULL };
	static const char *const disc_total[] = { "disctotal", "totaldiscs", NULL };
	static const char *const bpm[] = { "bpm", "TBPM", "tmpo", NULL };

	t->title = text(c, s, title);
	t->artist = text(c, s, artist);
	t->album = text(c, s, album);
	t->genre = text(c, s, genre);
	t->date = text(c, s, date);
	t->composer = text(c, s, composer);
	t->label = text(c, s, label);
	t->isrc = text(c, s, isrc);
	t->comment = text(c, s, comment);
	t->language = text(c, s, language);
	t->year = year_of(t->date);

	const char *v = find(c, s, track_total);
	if (v)
		t->track_total = leading_int(v, NULL);
	number_pair(find(c, s, track), &t->track_number, &t->track_total);
	v = find(c, s, disc_total);
	if (v)
		t->disc_total = leading_int(v, NULL);
	number_pair(find(c, s, disc), &t->disc_number, &t->disc_total);

	v = find(c, s, bpm);
	if (v) {
		char *end;
		double x = strtod(v, &end);
		if (end != v && x > 0 && x < 1000)
			t->bpm = x;
	}
}

void tags_release(struct analysis_tags *t)
{
	free(t->title);
	free(t->artist);
	free(t->album);
	free(t->genre);
	free(t->date);
	free(t->composer);
	free(t->label);
	free(t->isrc);
	free(t->comment);
	free(t->language);
	memset(t, 0, sizeof(*t));
}
