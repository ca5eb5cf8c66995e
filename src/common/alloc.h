/*
 * alloc.h - checked allocation.
 *
 * onair treats running out of memory as fatal: these wrappers log and
 * abort() instead of returning NULL, so callers never test for it. Use
 * them for all heap allocation; free with free().
 */
#ifndef ONAIR_ALLOC_H
#define ONAIR_ALLOC_H

#include <stddef.h>

/* malloc(n) that never returns NULL (n == 0 allocates one byte). */
void *xmalloc(size_t n);
/* calloc(nmemb, size) that never returns NULL and checks the product for overflow. */
void *xcalloc(size_t nmemb, size_t size);
/* realloc(p, n) that never returns NULL; p may be NULL. */
void *xrealloc(void *p, size_t n);
/* reallocarray: realloc(p, nmemb * size) with overflow check. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
/* strdup(s) that never returns NULL; s must not be NULL. */
char *xstrdup(const char *s);
/* Copy of the first n bytes of s, NUL-terminated; never NULL. */
char *xstrndup(const char *s, size_t n);

#include "common/banned.h"
#endif
