/*
 * http_range.h - one byte range of an HTTP Range header (RFC 9110).
 */
#ifndef ONAIR_COMMON_HTTP_RANGE_H
#define ONAIR_COMMON_HTTP_RANGE_H

#include <stdint.h>

enum http_range {
	HTTP_RANGE_WHOLE,		/* no usable Range: send the whole file */
	HTTP_RANGE_PART,		/* send *first..*last (inclusive) */
	HTTP_RANGE_UNSATISFIABLE,	/* 416 */
};

/*
 * Parse the Range header s for a representation of size bytes: one range,
 * "bytes=a-b", "bytes=a-" or "bytes=-n". Several ranges, other units and
 * malformed values give HTTP_RANGE_WHOLE (the whole file is sent, as the
 * RFC allows). *first and *last are set for HTTP_RANGE_PART only.
 */
enum http_range http_range_parse(const char *s, uint64_t size, uint64_t *first, uint64_t *last);

#include "common/banned.h"
#endif
