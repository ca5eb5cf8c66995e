/*
 * runtime.h - process life cycle shared by onair and onair-playout:
 * SIGTERM/SIGINT handling for a clean stop.
 *
 * Call runtime_block_signals() first thing in main(), before any thread
 * exists: every thread then inherits a mask with SIGTERM, SIGINT and
 * SIGHUP blocked, and the main thread collects them with
 * runtime_wait_signal(). SIGPIPE is ignored (peers that go away give
 * EPIPE instead of killing us).
 */
#ifndef ONAIR_RUNTIME_H
#define ONAIR_RUNTIME_H

#include <stdint.h>

/* Block SIGTERM, SIGINT, SIGHUP in the calling thread; ignore SIGPIPE.
 * 0 or -errno. */
int runtime_block_signals(void);

/* Wait up to timeout_us (negative: forever) for one of the blocked
 * signals. Returns the signal number, 0 on timeout. */
int runtime_wait_signal(int64_t timeout_us);

/* Ask the process to stop, as a SIGTERM would (from any thread). */
void runtime_request_stop(void);

#include "common/banned.h"
#endif
