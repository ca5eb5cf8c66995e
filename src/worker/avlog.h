/*
 * avlog.h - FFmpeg's log output routed into ours.
 *
 * FFmpeg messages go to log_debug("ffmpeg", ...). Messages at FFmpeg's
 * error level are also kept, per thread, so an analysis can quote the
 * last one in its failure reason ("Header missing", ...).
 */
#ifndef ONAIR_WORKER_AVLOG_H
#define ONAIR_WORKER_AVLOG_H

/* Install the log callback (once per process; later calls do nothing).
 * Thread-safe. */
void avlog_setup(void);

/* Forget this thread's last error message. */
void avlog_clear(void);

/* This thread's last FFmpeg error message since avlog_clear(), without
 * the trailing newline; "" when none. Valid until the thread's next
 * FFmpeg call. */
const char *avlog_last_error(void);

#include "common/banned.h"
#endif
