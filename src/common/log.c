#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/timeutil.h"

static _Atomic int current_level = LOG_INFO;
static _Atomic uint64_t written[LOG_DEBUG + 1];

/* The last warning or error, for log_last_problem. */
static pthread_mutex_t problem_lock = PTHREAD_MUTEX_INITIALIZER;
static char problem_text[512];
static int64_t problem_at;

static const char *const level_names[] = {
	[LOG_ERROR] = "ERROR",
	[LOG_WARN] = "WARN ",
	[LOG_INFO] = "INFO ",
	[LOG_DEBUG] = "DEBUG",
};

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&current_level);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&current_level);
}

int log_level_parse(const char *name, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

void log_vwrite(enum log_level level, const char *component, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;
	char line[4096];
	char ts[TIME_RFC3339_MAX];
	time_format_rfc3339(time_now_us(), ts, sizeof(ts));
	int n = snprintf(line, sizeof(line), "%s %s [%s] ", ts, level_names[level],
			 component ? component : "-");
	if (n < 0)
		return;
	size_t len = (size_t)n;
	if (len < sizeof(line)) {
		int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		if (m > 0)
			len += (size_t)m;
	}
	if (len >= sizeof(line) - 1) {
		len = sizeof(line) - 1;
		memcpy(line + len - 4, "...", 3);
		len--;
	}
	atomic_fetch_add(&written[level], 1);
	if (level <= LOG_WARN) {
		/* Keep the line from its "[component]", without the time stamp. */
		const char *from = line + strlen(ts) + 7;
		size_t keep = len - (size_t)(from - line);
		if (keep >= sizeof(problem_text))
			keep = sizeof(problem_text) - 1;
		pthread_mutex_lock(&problem_lock);
		memcpy(problem_text, from, keep);
		problem_text[keep] = '\0';
		problem_at = time_now_us();
		pthread_mutex_unlock(&problem_lock);
	}
	line[len++] = '\n';
	ssize_t off = 0;
	while ((size_t)off < len) {
		ssize_t w = write(STDERR_FILENO, line + off, len - (size_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		off += w;
	}
}

void log_write(enum log_level level, const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(level, component, fmt, ap);
	va_end(ap);
}

int64_t log_last_problem(char *out, size_t size)
{
	pthread_mutex_lock(&problem_lock);
	int64_t at = problem_at;
	if (size > 0)
		snprintf(out, size, "%s", problem_text);
	pthread_mutex_unlock(&problem_lock);
	return at;
}

uint64_t log_count(enum log_level level)
{
	return level <= LOG_DEBUG ? atomic_load(&written[level]) : 0;
}
