/*
 * error.h - the error convention.
 *
 * An action returns 0 on success or a negative errno value on failure
 * (-EINVAL, -ENOMEM, -ENOSPC, ...). A predicate returns bool. onair adds
 * a few codes of its own, in a range above the system's errno values.
 */
#ifndef ONAIR_ERROR_H
#define ONAIR_ERROR_H

#include <stddef.h>

enum onair_errno {
	ONAIR_EBASE = 10000,
	ONAIR_EPROTO_VERSION,	/* message of an unsupported protocol version */
	ONAIR_EMQ,		/* message queue failure not mapped to errno */
	ONAIR_ECONFIG,		/* invalid configuration */
};

/* Describe err (a negative errno or onair code, or 0). Never NULL; the
 * string is static (thread-safe). */
const char *onair_strerror(int err);

/* Write a sentence for the user into err (errlen bytes; err may be NULL
 * or errlen 0: nothing is written) and return code, so that a function
 * can say `return error_set(err, errlen, -EINVAL, "year: '%s' is not a
 * number", v);`. */
int error_set(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#include "common/banned.h"
#endif
