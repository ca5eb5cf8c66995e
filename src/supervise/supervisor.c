/*
 * supervisor.c - start, watch, restart and stop the processes of a
 * procfile; see supervisor.h.
 *
 * One thread. SIGCHLD, SIGINT, SIGTERM and SIGHUP stay blocked and are
 * collected with sigtimedwait(), whose timeout is the next thing due (a
 * restart, a readiness probe, the end of the stop grace).
 */
#define _GNU_SOURCE /* sigabbrev_np */
#include "supervise/supervisor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"

#define COMPONENT "supervise"
#define READY_POLL_US (50 * USEC_PER_MSEC)
#define EXIT_USAGE_STATUS EXIT_USAGE

struct sv_proc {
	const struct procfile_entry *e;
	pid_t pid;		/* 0: not running */
	int64_t started_us;	/* monotonic, of the current or last run */
	int64_t restart_at_us;	/* monotonic; 0: no restart due */
	int64_t backoff_us;	/* the delay used last */
	unsigned restarts;
	bool left;		/* done or given up: never started again */
};

struct sv {
	struct sv_options o;
	struct sv_proc procs[PROCFILE_MAX_ENTRIES];
	size_t count;
	size_t next_start;	/* first one not started yet */
	int waiting_ready;	/* index whose port is awaited, or -1 */
	int64_t ready_deadline_us;
	bool stopping;
	int64_t kill_at_us;	/* monotonic end of the grace; 0 before it */
	bool killed;
	int gave_up;
};

enum sv_verdict sv_verdict_of(int status)
{
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);
		if (code == 0)
			return SV_DONE;
		if (code == EXIT_USAGE_STATUS || code == 126 || code == 127)
			return SV_GIVE_UP;
	}
	return SV_RESTART;
}

void sv_describe_exit(int status, char *out, size_t size)
{
	if (WIFEXITED(status)) {
		snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *abbrev = sigabbrev_np(sig);
		const char *core = WCOREDUMP(status) ? " (core dumped)" : "";
		if (abbrev)
			snprintf(out, size, "killed by signal SIG%s%s", abbrev, core);
		else
			snprintf(out, size, "killed by signal %d%s", sig, core);
	} else {
		snprintf(out, size, "ended (wait status 0x%x)", (unsigned)status);
	}
}

int64_t sv_next_backoff(int64_t prev_us, int64_t ran_us, const struct sv_options *o)
{
	if (prev_us <= 0 || ran_us >= o->healthy_us)
		return o->backoff_min_us;
	if (prev_us >= o->backoff_max_us / 2)
		return o->backoff_max_us;
	return prev_us * 2;
}

static void defaults(struct sv_options *o)
{
	if (o->backoff_min_us <= 0)
		o->backoff_min_us = 500 * USEC_PER_MSEC;
	if (o->backoff_max_us < o->backoff_min_us)
		o->backoff_max_us = o->backoff_min_us > 30 * USEC_PER_SEC ? o->backoff_min_us
									 : 30 * USEC_PER_SEC;
	if (o->healthy_us <= 0)
		o->healthy_us = 60 * USEC_PER_SEC;
	if (o->grace_us <= 0)
		o->grace_us = 8 * USEC_PER_SEC;
	if (o->ready_timeout_us <= 0)
		o->ready_timeout_us = 30 * USEC_PER_SEC;
}

static void watched_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

static void on_sigchld(int sig)
{
	(void)sig;	/* only so that SIGCHLD is not discarded; collected blocked */
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void exec_child(const struct procfile_entry *e, int log_fd, pid_t parent)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);	/* an ignored signal would stay ignored */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		if (null != STDIN_FILENO)
			close(null);
	}
	if (log_fd >= 0) {
		dup2(log_fd, STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
	}
	execvp(e->argv[0], e->argv);
	int err = errno;
	static const char msg[] = "onair-supervise: cannot run ";
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)!write(STDERR_FILENO, e->argv[0], strlen(e->argv[0]));
	(void)!write(STDERR_FILENO, ": ", 2);
	const char *why = strerrorname_np(err);
	if (why)
		(void)!write(STDERR_FILENO, why, strlen(why));
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(err == ENOENT ? 127 : 126);
}

static int open_log(const struct sv *s, const struct procfile_entry *e)
{
	char path[PATH_MAX];
	if (!s->o.log_dir)
		return -1;
	int n = snprintf(path, sizeof(path), "%s/%s.log", s->o.log_dir, e->name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		log_warn(COMPONENT, "%s: cannot open %s (%s); its output goes to ours", e->name,
			 path, strerror(errno));
	return fd;
}

static void spawn(struct sv *s, struct sv_proc *p)
{
	int log_fd = open_log(s, p->e);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0)
		exec_child(p->e, log_fd, parent);
	if (log_fd >= 0)
		close(log_fd);
	p->restart_at_us = 0;
	p->started_us = time_mono_us();
	if (pid < 0) {
		/* Treated as a run that failed at once: retried after the delay. */
		log_error(COMPONENT, "%s: cannot fork: %s", p->e->name, strerror(errno));
		p->backoff_us = sv_next_backoff(p->backoff_us, 0, &s->o);
		p->restart_at_us = p->started_us + p->backoff_us;
		return;
	}
	setpgid(pid, pid);	/* also here: no race with a kill right after */
	p->pid = pid;
	if (p->restarts == 0)
		log_info(COMPONENT, "started %s (pid %d): %s", p->e->name, (int)pid, p->e->argv[0]);
	else
		log_info(COMPONENT, "restarted %s (pid %d, restart %u)", p->e->name, (int)pid,
			 p->restarts);
}

static bool port_accepts(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static struct sv_proc *find_pid(struct sv *s, pid_t pid)
{
	for (size_t i = 0; i < s->count; i++) {
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	}
	return NULL;
}

static void ended(struct sv *s, struct sv_proc *p, int status)
{
	char how[96];
	int64_t now = time_mono_us();
	int64_t ran = now - p->started_us;
	pid_t pid = p->pid;
	sv_describe_exit(status, how, sizeof(how));
	p->pid = 0;
	if (s->stopping) {
		log_info(COMPONENT, "%s (pid %d) stopped: %s", p->e->name, (int)pid, how);
		return;
	}
	switch (sv_verdict_of(status)) {
	case SV_DONE:
		p->left = true;
		log_info(COMPONENT, "%s (pid %d) %s after %.1f s; it is not restarted", p->e->name,
			 (int)pid, how,
			 (double)ran / USEC_PER_SEC);
		return;
	case SV_GIVE_UP:
		p->left = true;
		s->gave_up++;
		log_error(COMPONENT,
			  "%s (pid %d) %s after %.1f s: %s; not restarting it (see %s%s%s.log),"
			  " fix it and start the station again",
			  p->e->name, (int)pid, how, (double)ran / USEC_PER_SEC,
			  WEXITSTATUS(status) == EXIT_USAGE_STATUS ? "a usage or configuration error"
								   : "the program cannot be run",
			  s->o.log_dir ? s->o.log_dir : "", s->o.log_dir ? "/" : "its output: ",
			  p->e->name);
		return;
	case SV_RESTART:
		break;
	}
	p->backoff_us = sv_next_backoff(p->backoff_us, ran, &s->o);
	p->restart_at_us = now + p->backoff_us;
	p->restarts++;
	log_warn(COMPONENT, "%s (pid %d) %s after %.1f s; restarting it in %.1f s", p->e->name,
		 (int)pid, how, (double)ran / USEC_PER_SEC, (double)p->backoff_us / USEC_PER_SEC);
}

static void reap(struct sv *s)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		struct sv_proc *p = find_pid(s, pid);
		if (p)
			ended(s, p, status);
	}
}

static void signal_all(struct sv *s, int sig)
{
	for (size_t i = s->count; i-- > 0;) {
		if (s->procs[i].pid > 0)
			kill(-s->procs[i].pid, sig);
	}
}

static void begin_stop(struct sv *s, int sig)
{
	s->stopping = true;
	s->kill_at_us = time_mono_us() + s->o.grace_us;
	log_info(COMPONENT, "SIG%s: stopping every process (SIGKILL after %.0f s)",
		 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", (double)s->o.grace_us / USEC_PER_SEC);
	signal_all(s, SIGTERM);
}

static size_t running(const struct sv *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->count; i++)
		n += s->procs[i].pid > 0;
	return n;
}

static bool anything_left(const struct sv *s)
{
	if (s->next_start < s->count)
		return true;
	for (size_t i = 0; i < s->count; i++) {
		if (s->procs[i].pid > 0 || s->procs[i].restart_at_us > 0)
			return true;
	}
	return false;
}

/* Start what is due; return how long until something else is due. */
static int64_t start_due(struct sv *s)
{
	int64_t now = time_mono_us();
	int64_t wait = -1;
	if (s->waiting_ready >= 0) {
		struct sv_proc *p = &s->procs[s->waiting_ready];
		if (port_accepts(p->e->ready_port)) {
			log_info(COMPONENT, "%s is ready (port %d)", p->e->name, p->e->ready_port);
			s->waiting_ready = -1;
		} else if (p->pid == 0) {
			log_warn(COMPONENT, "%s ended before it accepted on port %d; starting the"
				 " next ones", p->e->name, p->e->ready_port);
			s->waiting_ready = -1;
		} else if (now >= s->ready_deadline_us) {
			log_warn(COMPONENT, "%s is not accepting on port %d after %.0f s; starting"
				 " the next ones", p->e->name, p->e->ready_port,
				 (double)s->o.ready_timeout_us / USEC_PER_SEC);
			s->waiting_ready = -1;
		} else {
			wait = READY_POLL_US;
		}
	}
	while (s->waiting_ready < 0 && s->next_start < s->count) {
		struct sv_proc *p = &s->procs[s->next_start];
		spawn(s, p);
		if (p->e->ready_port) {
			s->waiting_ready = (int)s->next_start;
			s->ready_deadline_us = time_mono_us() + s->o.ready_timeout_us;
			wait = READY_POLL_US;
		}
		s->next_start++;
	}
	for (size_t i = 0; i < s->next_start; i++) {
		struct sv_proc *p = &s->procs[i];
		if (!p->restart_at_us)
			continue;
		if (now >= p->restart_at_us) {
			spawn(s, p);
			continue;
		}
		int64_t left = p->restart_at_us - now;
		if (wait < 0 || left < wait)
			wait = left;
	}
	return wait;
}

static int wait_event(const sigset_t *set, int64_t timeout_us)
{
	struct timespec ts = { .tv_sec = (time_t)(timeout_us / USEC_PER_SEC),
			       .tv_nsec = (long)(timeout_us % USEC_PER_SEC) * 1000 };
	int sig = sigtimedwait(set, NULL, timeout_us >= 0 ? &ts : NULL);
	return sig < 0 ? 0 : sig;
}

static void init(struct sv *s, const struct procfile *pf, const struct sv_options *opt)
{
	memset(s, 0, sizeof(*s));
	if (opt)
		s->o = *opt;
	defaults(&s->o);
	s->count = pf->count;
	for (size_t i = 0; i < pf->count; i++)
		s->procs[i].e = &pf->entries[i];
	s->waiting_ready = -1;
}

int supervisor_run(const struct procfile *pf, const struct sv_options *opt)
{
	struct sv s;
	sigset_t set;
	init(&s, pf, opt);
	if (s.o.log_dir) {
		int r = fs_mkdir_p(s.o.log_dir);
		if (r < 0) {
			log_error(COMPONENT, "cannot make %s: %s", s.o.log_dir, strerror(-r));
			return r;
		}
	}
	struct sigaction sa = { .sa_handler = on_sigchld };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	watched_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	log_info(COMPONENT, "starting %zu processes%s%s", s.count,
		 s.o.log_dir ? ", their output in " : "", s.o.log_dir ? s.o.log_dir : "");
	while (s.stopping ? running(&s) > 0 : anything_left(&s)) {
		int64_t wait = s.stopping ? -1 : start_due(&s);
		if (s.stopping) {
			int64_t now = time_mono_us();
			wait = s.killed ? 200 * USEC_PER_MSEC : s.kill_at_us - now;
			if (!s.killed && wait <= 0) {
				log_warn(COMPONENT, "%zu still running after %.0f s: SIGKILL",
					 running(&s), (double)s.o.grace_us / USEC_PER_SEC);
				signal_all(&s, SIGKILL);
				s.killed = true;
				wait = 200 * USEC_PER_MSEC;
			}
		}
		int sig = wait_event(&set, wait);
		reap(&s);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			if (!s.stopping)
				begin_stop(&s, sig);
			else
				log_info(COMPONENT, "still stopping %zu processes", running(&s));
		}
	}
	if (s.stopping) {
		log_info(COMPONENT, "stopped");
		return 0;
	}
	log_info(COMPONENT, "no process is left to run");
	return s.gave_up ? 1 : 0;
}
