/*
 * harness.h - real servers for integration tests.
 *
 * The harness starts programs (nats-server now; Icecast, Liquidsoap and
 * PostgreSQL later) as child processes listening on 127.0.0.1 only, with
 * a free port and their state in a fresh temporary directory, and makes
 * sure they die with the test:
 *   - each child runs in its own process group, which is killed (SIGKILL)
 *     by an atexit handler and by a handler for SIGTERM, SIGINT and SIGHUP
 *     if the test did not stop it itself;
 *   - each child gets prctl(PR_SET_PDEATHSIG, SIGKILL), so it dies even if
 *     the test is killed outright. The kernel sends that signal when the
 *     *thread* that started the child ends, so start children from a
 *     thread that outlives them (normally the main thread);
 *   - temporary directories are removed recursively at exit (after the
 *     children are dead); a test killed by a signal or crashing leaves
 *     them behind, for a look at the servers' logs.
 *
 * A missing program is an error, not a reason to skip: the functions
 * print what to install (scripts/install-deps.sh test does it) and
 * return -ENOENT, and the test fails.
 *
 * Functions return 0 (or a value >= 0) or a negative errno value and
 * print a line starting with "harness:" on stderr when something fails.
 * They may be called from several threads, but one struct at a time.
 */
#ifndef ONAIR_TESTS_HARNESS_H
#define ONAIR_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Create a fresh directory under $TMPDIR (or /tmp), named into out, to be
 * removed with its contents at exit. 0 or -errno. */
int harness_tmpdir(char *out, size_t size);

/* A TCP port on 127.0.0.1 that was free to bind a moment ago and that no
 * other test process holds (it stays reserved by a lock file in
 * $TMPDIR/onair-test-ports until this process exits). The port number, or
 * -errno. */
int harness_free_port(void);

/* Wait up to timeout_us until 127.0.0.1:port accepts TCP connections.
 * 0 or -ETIMEDOUT. */
int harness_wait_tcp(int port, int64_t timeout_us);

/*
 * Find an executable: the path in environment variable env_var when that
 * is set and not empty, else name in $PATH, /usr/local/sbin, /usr/sbin or
 * /sbin. Its path into out. 0, or -ENOENT after printing hint (how to
 * install it).
 */
int harness_find_program(const char *name, const char *env_var, const char *hint, char *out,
			 size_t size);

/* A child process started by the harness. */
struct harness_proc {
	pid_t pid;		/* also its process group; 0 when not running */
	char name[32];		/* for messages */
	char log_path[512];	/* its stdout and stderr, appended */
};

/*
 * Start argv[0] (a path, as from harness_find_program) with argv, its
 * stdout and stderr appended to log_path (NULL: inherited), in a process
 * group of its own, registered to be killed at exit. 0 or -errno (also
 * when exec fails).
 */
int harness_proc_start(struct harness_proc *p, const char *name, char *const argv[],
		       const char *log_path);

/* True while the child has not exited (reaps it when it has). */
bool harness_proc_running(struct harness_proc *p);

/*
 * Stop the child: SIGTERM to its process group, up to grace_us for it to
 * exit, then SIGKILL; reap it. 0 when it exited on its own after SIGTERM,
 * -ETIMEDOUT when it had to be killed, -ESRCH when it was not running
 * (it had exited by itself, which tests usually treat as an error).
 */
int harness_proc_stop(struct harness_proc *p, int64_t grace_us);

/* Wait up to timeout_us for the child to accept TCP connections on port:
 * 0, -ETIMEDOUT, or -ECHILD when it exited meanwhile (its log is printed). */
int harness_proc_wait_tcp(struct harness_proc *p, int port, int64_t timeout_us);

/* Print the last max_bytes of the child's log on stderr. */
void harness_proc_dump_log(const struct harness_proc *p, size_t max_bytes);

/* ---- nats-server with JetStream */

struct harness_nats {
	int port;		/* client port on 127.0.0.1 */
	char url[64];		/* "nats://127.0.0.1:<port>" */
	char dir[256];		/* its directory: JetStream store in dir/js, log in dir/nats-server.log */
	struct harness_proc proc;
};

/*
 * Start nats-server with JetStream on 127.0.0.1 (no monitoring port) and
 * wait up to 10 s until it accepts connections. Zero-initialise n for a
 * new server (a fresh directory and a free port are picked); a port or
 * dir already set is reused. The program is $HARNESS_NATS_SERVER or
 * nats-server. 0 or -errno.
 */
int harness_nats_start(struct harness_nats *n);

/* Stop the server (SIGTERM, SIGKILL after 5 s), keeping its directory.
 * 0 or -errno as harness_proc_stop. */
int harness_nats_stop(struct harness_nats *n);

/* Stop, then start again on the same port with the same store. 0 or
 * -errno (a stop that needed SIGKILL still restarts). */
int harness_nats_restart(struct harness_nats *n);

/* ---- PostgreSQL */

struct harness_pg {
	int port;		/* on 127.0.0.1 */
	char url[128];		/* "postgresql://postgres@127.0.0.1:<port>/onair_test" */
	char dir[256];		/* its directory: data in dir/data, unix socket in dir,
				 * log in dir/postgres.log */
	char bindir[256];	/* where initdb and postgres were found */
	struct harness_proc proc;
};

/*
 * Start a PostgreSQL server of the test's own: initdb (superuser
 * "postgres", trust authentication, UTF-8, C locale) into a fresh
 * temporary directory, then postgres on a free port on 127.0.0.1 with its
 * unix socket in that directory and fsync off; wait up to 30 s until it
 * is ready, and create the database "onair_test" (pg->url names it).
 * When the test runs as root, initdb and postgres run as user postgres,
 * and every directory above the temporary one must be searchable by it.
 * The programs are taken from $HARNESS_PG_BINDIR, else the newest
 * /usr/lib/postgresql/<version>/bin, else $PATH. pg is overwritten.
 * 0 or -errno (-ENOENT with an install hint when PostgreSQL is missing).
 */
int harness_pg_start(struct harness_pg *pg);

/* Stop the server (SIGTERM to its processes, SIGKILL after 10 s). 0 or
 * -errno as harness_proc_stop. */
int harness_pg_stop(struct harness_pg *pg);

#include "common/banned.h"
#endif
