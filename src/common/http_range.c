/*
 * http_range.c - the Range header of RFC 9110; see http_range.h.
 */
#include "common/http_range.h"

#include <stdbool.h>
#include <strings.h>
#include <string.h>

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Parse decimal digits, saturating at UINT64_MAX (a position that large
 * is past any file anyway). */
static const char *parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*out = v;
	return s;
}

enum http_range http_range_parse(const char *s, uint64_t size, uint64_t *first, uint64_t *last)
{
	if (strncasecmp(s, "bytes", 5) != 0)
		return HTTP_RANGE_WHOLE;
	s = skip_ws(s + 5);
	if (*s != '=')
		return HTTP_RANGE_WHOLE;
	s = skip_ws(s + 1);
	if (strchr(s, ','))
		return HTTP_RANGE_WHOLE;

	uint64_t a = 0, b = 0;
	bool has_a = *s >= '0' && *s <= '9';
	if (has_a)
		s = parse_u64(s, &a);
	s = skip_ws(s);
	if (*s != '-')
		return HTTP_RANGE_WHOLE;
	s = skip_ws(s + 1);
	bool has_b = *s >= '0' && *s <= '9';
	if (has_b)
		s = parse_u64(s, &b);
	s = skip_ws(s);
	if (*s != '\0')
		return HTTP_RANGE_WHOLE;

	if (!has_a) {
		if (!has_b)
			return HTTP_RANGE_WHOLE;
		if (b == 0 || size == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return HTTP_RANGE_PART;
	}
	if (has_b && b < a)
		return HTTP_RANGE_WHOLE;
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*first = a;
	*last = has_b && b < size - 1 ? b : size - 1;
	return HTTP_RANGE_PART;
}
