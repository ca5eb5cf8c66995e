/*
 * liq_proc.h - run Liquidsoap as a supervised process that outlives us.
 *
 * Liquidsoap runs in its own session, with its standard output and error
 * appended to a log file in the state directory, and its pid in a pid
 * file. It does not depend on onair-playout staying alive: if playout is
 * killed, the stream goes on, and the next playout adopts the running
 * Liquidsoap (liq_proc_adopt) instead of restarting it. Playout reads the
 * events the script prints from the log file (struct log_tail).
 */
#ifndef ONAIR_PLAYOUT_LIQ_PROC_H
#define ONAIR_PLAYOUT_LIQ_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

struct liq_proc {
	char binary[256];	/* "liquidsoap" or a path */
	char script[1024];	/* script path */
	char log_path[1024];	/* stdout/stderr of Liquidsoap */
	char pid_path[1024];
	pid_t pid;		/* 0 when not running */
	bool child;		/* started by this process (reap with waitpid) */
	bool stopping;		/* liq_proc_stop in progress: its exit is expected */
	int64_t started_at;	/* monotonic us */
};

/* Set paths: files go to state_dir ("liquidsoap.log", "liquidsoap.pid").
 * 0 or -ENAMETOOLONG. */
int liq_proc_init(struct liq_proc *p, const char *binary, const char *script,
		  const char *state_dir);

/* Adopt a Liquidsoap left running by an earlier playout with the same
 * script (pid file, and /proc/PID/cmdline naming the script). true when
 * adopted. */
bool liq_proc_adopt(struct liq_proc *p);

/* Start Liquidsoap (the log file is truncated). 0 or -errno. */
int liq_proc_start(struct liq_proc *p);

/* Is it still running? Reaps a child that exited; then logs how. */
bool liq_proc_alive(struct liq_proc *p);

/* SIGTERM, then SIGKILL after timeout_us. */
void liq_proc_stop(struct liq_proc *p, int64_t timeout_us);

/* Follows a growing text file line by line (a new, shorter file means it
 * was replaced: reading restarts at its beginning). */
struct log_tail {
	char path[1024];
	int fd;
	ino_t ino;
	off_t offset;
	struct buf partial;	/* an incomplete last line */
};

/* Start following path from its current end (from_start: from offset 0). */
void log_tail_init(struct log_tail *t, const char *path, bool from_start);
void log_tail_release(struct log_tail *t);
/* Read what was appended since the last call and call on_line for each
 * whole line (without the newline). Lines over 64 KiB are cut. Returns the
 * number of lines, or -errno. */
int log_tail_poll(struct log_tail *t, void (*on_line)(void *userdata, const char *line),
		  void *userdata);

#include "common/banned.h"
#endif
