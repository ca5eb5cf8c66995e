/*
 * buf.h - bounded growable byte buffer.
 *
 * A struct buf owns a heap block that grows on demand up to a maximum
 * size fixed at init, so a peer can never make us grow without bound.
 * The contents are always NUL-terminated (the NUL is not counted in len
 * and does not count against max), so text can be used as a C string.
 *
 *   struct buf b;
 *   buf_init(&b, 1 << 20);
 *   if (buf_append(&b, data, n) < 0) ... -ENOSPC: over the limit
 *   use b.data, b.len
 *   buf_release(&b);
 *
 * Not thread-safe; the caller owns the struct.
 */
#ifndef ONAIR_BUF_H
#define ONAIR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;	/* NUL-terminated contents; never NULL after init */
	size_t len;	/* bytes used, without the NUL */
	size_t cap;	/* bytes allocated, with room for the NUL */
	size_t max;	/* largest len allowed */
};

/* Make b empty with limit max (no allocation). */
void buf_init(struct buf *b, size_t max);
/* Free the contents; b may be reused after buf_init. */
void buf_release(struct buf *b);
/* Empty b, keeping its allocation and limit. */
void buf_reset(struct buf *b);
/* Ensure room for extra more bytes: 0, or -ENOSPC if len + extra > max. */
int buf_reserve(struct buf *b, size_t extra);
/* Append n bytes: 0, or -ENOSPC (b unchanged) if the limit would be passed. */
int buf_append(struct buf *b, const void *data, size_t n);
/* Append a C string: as buf_append. */
int buf_append_str(struct buf *b, const char *s);
/* Append one byte: as buf_append. */
int buf_append_char(struct buf *b, char c);
/* Append formatted text: 0, -ENOSPC (b unchanged), or -EINVAL on a format error. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Give the contents to the caller (free() it) and re-init b empty. */
char *buf_detach(struct buf *b, size_t *len);

#include "common/banned.h"
#endif
