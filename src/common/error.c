#define _GNU_SOURCE /* strerrordesc_np */
#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *onair_strerror(int err)
{
	if (err == 0)
		return "success";
	if (err < 0)
		err = -err;
	switch (err) {
	case ONAIR_EPROTO_VERSION:
		return "unsupported protocol version";
	case ONAIR_EMQ:
		return "message queue error";
	case ONAIR_ECONFIG:
		return "invalid configuration";
	default:
		break;
	}
	/* strerrordesc_np is thread-safe and static. */
	const char *s = strerrordesc_np(err);
	return s ? s : "unknown error";
}

int error_set(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}
