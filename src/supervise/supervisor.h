/*
 * supervisor.h - keep a station's processes running: start them in
 * order, restart any that dies with a growing delay, and stop them all
 * on SIGINT/SIGTERM.
 *
 * Each process runs in its own process group (a Ctrl-C at the terminal
 * reaches the supervisor only, which then stops the others in order),
 * with standard input from /dev/null and its output appended to
 * LOG_DIR/NAME.log, and gets SIGTERM should the supervisor die.
 *
 * What happens when a process ends:
 *   exit status 0         it meant to: not restarted;
 *   exit status 2         a usage or configuration error (the onair
 *                         programs' EXIT_USAGE): not restarted, said so;
 *   exit status 126, 127  the program cannot be run: not restarted;
 *   anything else         restarted after the current delay, which starts
 *                         at backoff_min and doubles up to backoff_max at
 *                         each restart, and is back to backoff_min once
 *                         the process has run for `healthy` before dying.
 * Every start, end (with its exit status or signal) and decision is
 * logged. Stopping sends SIGTERM to every group (last started first) and
 * SIGKILL to what is left after `grace`.
 */
#ifndef ONAIR_SUPERVISOR_H
#define ONAIR_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervise/procfile.h"

struct sv_options {
	const char *log_dir;	/* NULL: the processes write to our stderr */
	int64_t backoff_min_us;	/* 0: 500 ms */
	int64_t backoff_max_us;	/* 0: 30 s */
	int64_t healthy_us;	/* 0: 60 s */
	int64_t grace_us;	/* 0: 8 s */
	int64_t ready_timeout_us; /* 0: 30 s, for ready=tcp:PORT */
};

enum sv_verdict {
	SV_RESTART,	/* start it again after the delay */
	SV_DONE,	/* exited 0: leave it */
	SV_GIVE_UP,	/* cannot work as it is: leave it and say why */
};

/* What to do about a process that ended with wait status `status`. */
enum sv_verdict sv_verdict_of(int status);

/* Write "exited with status N" or "killed by signal SIGNAME[ (core
 * dumped)]" for wait status `status` into out. */
void sv_describe_exit(int status, char *out, size_t size);

/* The delay before the next restart: min after a run of at least
 * `healthy`, else the previous delay doubled (min at first), at most max.
 * prev_us is the delay used last (0: none yet). */
int64_t sv_next_backoff(int64_t prev_us, int64_t ran_us, const struct sv_options *o);

/* Run the processes of pf until SIGINT, SIGTERM or SIGHUP (or until none
 * is left to run), as described above. The caller must have left those
 * signals at their default disposition; they are blocked here. 0 when
 * every process was stopped, or ended of its own with status 0; 1 when
 * some were given up; -errno when the supervisor itself cannot work
 * (the log directory cannot be made). */
int supervisor_run(const struct procfile *pf, const struct sv_options *opt);

#include "common/banned.h"
#endif
