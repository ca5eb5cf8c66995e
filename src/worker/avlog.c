#include "worker/avlog.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/log.h>

#include "common/log.h"

static _Thread_local char last_error[256];

/* Format one message into out (size bytes), without trailing newlines;
 * with FFmpeg's "[name @ 0x...] " prefix when prefix is set. */
static size_t format(void *avcl, int level, const char *fmt, va_list vl, bool prefix, char *out,
		     size_t size)
{
	int print_prefix = prefix ? 1 : 0;
	va_list ap;
	va_copy(ap, vl);
	av_log_format_line2(avcl, level, fmt, ap, out, (int)size, &print_prefix);
	va_end(ap);
	size_t len = strlen(out);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	return len;
}

static void callback(void *avcl, int level, const char *fmt, va_list vl)
{
	/* Verbose, debug and trace messages are many; do not even format them. */
	if (level <= AV_LOG_INFO && log_enabled(LOG_DEBUG)) {
		char line[1024];
		if (format(avcl, level, fmt, vl, true, line, sizeof(line)) > 0)
			log_debug("ffmpeg", "%s", line);
	}
	if (level <= AV_LOG_ERROR) {
		char msg[200];
		if (format(avcl, level, fmt, vl, false, msg, sizeof(msg)) == 0)
			return;
		const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
		const char *name = cls && cls->item_name ? cls->item_name(avcl) : NULL;
		snprintf(last_error, sizeof(last_error), "%.40s%s%.200s", name ? name : "",
			 name ? ": " : "", msg);
	}
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void install(void)
{
	av_log_set_callback(callback);
}

void avlog_setup(void)
{
	pthread_once(&once, install);
}

void avlog_clear(void)
{
	last_error[0] = '\0';
}

const char *avlog_last_error(void)
{
	return last_error;
}
