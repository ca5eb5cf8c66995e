/*
 * log.h - log lines to stderr with time, level and component.
 *
 * Format: "2026-11-28T01:02:03.123456Z INFO  [playout] message\n". Each
 * line is written with one write(2), so lines from several threads do not
 * interleave. Thread-safe.
 */
#ifndef ONAIR_LOG_H
#define ONAIR_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

/* Set the most verbose level that is written (default LOG_INFO). */
void log_set_level(enum log_level level);
/* Current threshold. */
enum log_level log_get_level(void);
/* Parse "error", "warn", "info" or "debug"; 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);
/* True when a message at level would be written. */
bool log_enabled(enum log_level level);

/* Write one line; component is a short name such as "api" or "mq". A line
 * longer than 4 KiB is truncated with "...". */
void log_write(enum log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level level, const char *component, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* The last warning or error written (by any thread): its text "[component]
 * message" into out (truncated to size), and its time (0 and "" when there
 * was none). For status reports. */
int64_t log_last_problem(char *out, size_t size);
/* How many lines were written at level since the start. */
uint64_t log_count(enum log_level level);

#define log_error(comp, ...) log_write(LOG_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_write(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...)  log_write(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) \
	do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, comp, __VA_ARGS__); } while (0)

#include "common/banned.h"
#endif
