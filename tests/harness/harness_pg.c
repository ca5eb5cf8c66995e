/*
 * harness_pg.c - a throw-away PostgreSQL server for integration tests;
 * see harness.h.
 *
 * initdb and createdb run to completion here (fork, exec, wait); the
 * server runs in the foreground under harness_proc_start, so the harness
 * kills it with the test. PostgreSQL refuses to run as root: when the
 * test is root, initdb runs as user postgres (credentials dropped in the
 * child) and the server through setpriv(1), which also re-arms the
 * parent-death signal that the change of user clears.
 */
#define _GNU_SOURCE /* setgroups */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"

#define PG_USER "postgres"
#define PG_DATABASE "onair_test"
#define PG_START_TIMEOUT_US (30 * USEC_PER_SEC)
#define PG_STOP_GRACE_US (10 * USEC_PER_SEC)
#define PG_POLL_US (20 * USEC_PER_MSEC)
#define PG_HINT "install it with: scripts/install-deps.sh test (or apt-get install postgresql)"

static bool is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static bool has_server(const char *dir)
{
	char path[512];
	int n = snprintf(path, sizeof(path), "%s/initdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path) || !is_executable(path))
		return false;
	snprintf(path, sizeof(path), "%s/postgres", dir);
	return is_executable(path);
}

/* Version number of /usr/lib/postgresql/<N>/bin/postgres, for sorting. */
static long glob_version(const char *path)
{
	const char *v = path + strlen("/usr/lib/postgresql/");
	return strtol(v, NULL, 10);
}

/*
 * Where initdb and postgres are: $HARNESS_PG_BINDIR, else the newest
 * /usr/lib/postgresql/<N>/bin (Debian keeps them out of $PATH), else a
 * directory of $PATH. 0 or -ENOENT (after printing the hint).
 */
static int find_bindir(char *out, size_t size)
{
	const char *forced = getenv("HARNESS_PG_BINDIR");
	if (forced && *forced) {
		if (has_server(forced) && snprintf(out, size, "%s", forced) < (int)size)
			return 0;
		fprintf(stderr, "harness: HARNESS_PG_BINDIR=%s has no initdb and postgres\n",
			forced);
		return -ENOENT;
	}
	glob_t g;
	long best = -1;
	if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			long v = glob_version(g.gl_pathv[i]);
			char dir[512];
			int n = snprintf(dir, sizeof(dir), "%s", g.gl_pathv[i]);
			if (n < 0 || (size_t)n >= sizeof(dir))
				continue;
			*strrchr(dir, '/') = '\0';
			size_t len = strlen(dir);
			if (v > best && has_server(dir) && len < size) {
				best = v;
				memcpy(out, dir, len + 1);
			}
		}
		globfree(&g);
	}
	if (best >= 0)
		return 0;
	const char *path = getenv("PATH");
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		char dir[512];
		if (len > 0 && len < sizeof(dir) && len < size) {
			memcpy(dir, path, len);
			dir[len] = '\0';
			if (has_server(dir)) {
				memcpy(out, dir, len + 1);
				return 0;
			}
		}
		path = end ? end + 1 : NULL;
	}
	fprintf(stderr, "harness: PostgreSQL server not found ($HARNESS_PG_BINDIR, "
		"/usr/lib/postgresql/*/bin, $PATH); %s\n", PG_HINT);
	return -ENOENT;
}

struct run_as {
	bool drop;		/* become uid/gid (the test is root) */
	uid_t uid;
	gid_t gid;
};

static int lookup_user(struct run_as *as)
{
	as->drop = geteuid() == 0;
	if (!as->drop)
		return 0;
	struct passwd pw, *found = NULL;
	char buf[4096];
	int err = getpwnam_r(PG_USER, &pw, buf, sizeof(buf), &found);
	if (err || !found) {
		fprintf(stderr, "harness: running as root, and there is no user '%s' to run "
			"PostgreSQL as; %s\n", PG_USER, PG_HINT);
		return -ENOENT;
	}
	as->uid = pw.pw_uid;
	as->gid = pw.pw_gid;
	return 0;
}

static void print_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	fprintf(stderr, "harness: ---- %s ----\n", path);
	char line[1024];
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fprintf(stderr, "harness: ----\n");
	fclose(f);
}

/* In the child between fork and exec: async-signal-safe calls only. */
static void child_run(char *const argv[], const struct run_as *as, const char *cwd, int log_fd,
		      pid_t parent)
{
	if (as && as->drop &&
	    (setgroups(1, &as->gid) < 0 || setgid(as->gid) < 0 || setuid(as->uid) < 0))
		_exit(126);
	/* After the change of user, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (cwd && chdir(cwd) < 0)
		_exit(126);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	if (log_fd >= 0) {
		dup2(log_fd, STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
	}
	execv(argv[0], argv);
	_exit(127);
}

/* Run argv to its end (as as, in cwd, output appended to log_path).
 * 0 when it exits with 0; else -EIO after printing its log. */
static int run_wait(char *const argv[], const struct run_as *as, const char *cwd,
		    const char *log_path)
{
	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		int err = errno;
		fprintf(stderr, "harness: cannot open %s: %s\n", log_path, strerror(err));
		return -err;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0)
		child_run(argv, as, cwd, log_fd, parent);
	int err = errno;
	close(log_fd);
	if (pid < 0) {
		fprintf(stderr, "harness: fork: %s\n", strerror(err));
		return -err;
	}
	int status;
	pid_t w;
	do {
		w = waitpid(pid, &status, 0);
	} while (w < 0 && errno == EINTR);
	if (w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "harness: %s failed (%s %d)\n", argv[0],
		w == pid && WIFEXITED(status) ? "exit status" : "signal",
		w == pid && WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	print_file(log_path);
	return -EIO;
}

/* Whether the server says it is ready: line 8 of postmaster.pid
 * ("ready" once it accepts connections, as pg_ctl -w checks). */
static bool server_ready(const char *data)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/postmaster.pid", data);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[256];
	bool ready = false;
	for (int i = 1; fgets(line, sizeof(line), f); i++) {
		if (i == 8) {
			ready = strncmp(line, "ready", 5) == 0;
			break;
		}
	}
	fclose(f);
	return ready;
}

static void sleep_us(int64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / USEC_PER_SEC),
			       .tv_nsec = (long)(us % USEC_PER_SEC) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int wait_ready(struct harness_pg *pg, const char *data)
{
	int64_t deadline = time_mono_us() + PG_START_TIMEOUT_US;
	for (;;) {
		if (server_ready(data))
			return 0;
		if (!harness_proc_running(&pg->proc)) {
			fprintf(stderr, "harness: postgres exited while starting\n");
			harness_proc_dump_log(&pg->proc, 8192);
			return -ECHILD;
		}
		if (time_mono_us() >= deadline) {
			fprintf(stderr, "harness: postgres not ready after %lld s\n",
				(long long)(PG_START_TIMEOUT_US / USEC_PER_SEC));
			harness_proc_dump_log(&pg->proc, 8192);
			return -ETIMEDOUT;
		}
		sleep_us(PG_POLL_US);
	}
}

int harness_pg_start(struct harness_pg *pg)
{
	if (!pg)
		return -EINVAL;
	memset(pg, 0, sizeof(*pg));
	int r = find_bindir(pg->bindir, sizeof(pg->bindir));
	if (r < 0)
		return r;
	struct run_as as;
	if ((r = lookup_user(&as)) < 0)
		return r;
	char setpriv[512] = "";
	if (as.drop && (r = harness_find_program("setpriv", "HARNESS_SETPRIV",
						 "install util-linux", setpriv,
						 sizeof(setpriv))) < 0)
		return r;
	if ((r = harness_tmpdir(pg->dir, sizeof(pg->dir))) < 0)
		return r;
	if (as.drop && chown(pg->dir, as.uid, as.gid) < 0) {
		r = -errno;
		fprintf(stderr, "harness: chown %s: %s\n", pg->dir, strerror(-r));
		return r;
	}
	pg->port = harness_free_port();
	if (pg->port < 0)
		return pg->port;

	char initdb[600], postgres[600], createdb[600], data[300], initdb_log[300], log[300];
	snprintf(initdb, sizeof(initdb), "%s/initdb", pg->bindir);
	snprintf(postgres, sizeof(postgres), "%s/postgres", pg->bindir);
	snprintf(createdb, sizeof(createdb), "%s/createdb", pg->bindir);
	snprintf(data, sizeof(data), "%s/data", pg->dir);
	snprintf(initdb_log, sizeof(initdb_log), "%s/initdb.log", pg->dir);
	snprintf(log, sizeof(log), "%s/postgres.log", pg->dir);

	char *const initdb_argv[] = {
		initdb, "-D", data, "-U", PG_USER, "-A", "trust", "-E", "UTF8", "--no-locale",
		"--no-sync", NULL,
	};
	if ((r = run_wait(initdb_argv, &as, pg->dir, initdb_log)) < 0) {
		fprintf(stderr, "harness: initdb failed in %s (is every directory above it "
			"searchable by user %s?)\n", pg->dir, PG_USER);
		return r;
	}

	char port[16];
	snprintf(port, sizeof(port), "%d", pg->port);
	char *server_argv[] = {
		setpriv, "--reuid=" PG_USER, "--regid=" PG_USER, "--init-groups",
		"--pdeathsig", "KILL", "--",
		postgres, "-D", data, "-p", port, "-k", pg->dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=40",
		"-c", "shared_buffers=16MB",
		NULL,
	};
	char *const *argv = as.drop ? server_argv : server_argv + 7;
	if ((r = harness_proc_start(&pg->proc, "postgres", argv, log)) < 0)
		return r;
	if ((r = wait_ready(pg, data)) < 0 ||
	    (r = harness_proc_wait_tcp(&pg->proc, pg->port, PG_START_TIMEOUT_US)) < 0) {
		harness_proc_stop(&pg->proc, 0);
		return r;
	}

	char *const createdb_argv[] = {
		createdb, "-h", "127.0.0.1", "-p", port, "-U", PG_USER, PG_DATABASE, NULL,
	};
	if ((r = run_wait(createdb_argv, NULL, NULL, log)) < 0) {
		harness_proc_stop(&pg->proc, 0);
		return r;
	}
	snprintf(pg->url, sizeof(pg->url), "postgresql://%s@127.0.0.1:%d/%s", PG_USER, pg->port,
		 PG_DATABASE);
	return 0;
}

int harness_pg_stop(struct harness_pg *pg)
{
	if (!pg)
		return -EINVAL;
	return harness_proc_stop(&pg->proc, PG_STOP_GRACE_US);
}
