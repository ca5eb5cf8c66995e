#include "playout/liq_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"

#define COMPONENT "liquidsoap"
#define LINE_MAX_BYTES (64u << 10)

static int set_path(char *out, size_t size, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, size, "%s/%s", dir, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int liq_proc_init(struct liq_proc *p, const char *binary, const char *script,
		  const char *state_dir)
{
	memset(p, 0, sizeof(*p));
	if ((size_t)snprintf(p->binary, sizeof(p->binary), "%s", binary) >= sizeof(p->binary) ||
	    (size_t)snprintf(p->script, sizeof(p->script), "%s", script) >= sizeof(p->script))
		return -ENAMETOOLONG;
	int r = set_path(p->log_path, sizeof(p->log_path), state_dir, "liquidsoap.log");
	if (r == 0)
		r = set_path(p->pid_path, sizeof(p->pid_path), state_dir, "liquidsoap.pid");
	return r;
}

/* Does /proc/pid/cmdline name our script? */
static bool runs_script(pid_t pid, const char *script)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	struct buf cmd;
	buf_init(&cmd, 64 << 10);
	bool found = false;
	if (fs_read_file(path, &cmd) == 0) {
		for (size_t off = 0; off < cmd.len; off += strlen(cmd.data + off) + 1) {
			if (strcmp(cmd.data + off, script) == 0) {
				found = true;
				break;
			}
		}
	}
	buf_release(&cmd);
	return found;
}

bool liq_proc_adopt(struct liq_proc *p)
{
	struct buf text;
	buf_init(&text, 64);
	bool ok = false;
	if (fs_read_file(p->pid_path, &text) == 0) {
		long pid = strtol(text.data, NULL, 10);
		if (pid > 1 && kill((pid_t)pid, 0) == 0 && runs_script((pid_t)pid, p->script)) {
			p->pid = (pid_t)pid;
			p->child = false;
			p->started_at = time_mono_us();
			ok = true;
			log_info(COMPONENT, "adopted running Liquidsoap (pid %ld)", pid);
		}
	}
	buf_release(&text);
	return ok;
}

int liq_proc_start(struct liq_proc *p)
{
	/* Keep the previous run's output for diagnosis. */
	char old[sizeof(p->log_path) + 4];
	snprintf(old, sizeof(old), "%s.1", p->log_path);
	rename(p->log_path, old);
	int logfd = open(p->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(logfd);
		return r;
	}
	if (pid == 0) {
		/* Child: own session, so it outlives us and our terminal's
		 * signals; default signal mask and dispositions. */
		setsid();
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execlp(p->binary, p->binary, p->script, (char *)NULL);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", p->binary, strerror(errno));
		_exit(127);
	}
	close(logfd);
	p->pid = pid;
	p->child = true;
	p->stopping = false;
	p->started_at = time_mono_us();
	char text[32];
	int n = snprintf(text, sizeof(text), "%d\n", (int)pid);
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", p->pid_path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		fs_write_atomic(dir, slash + 1, text, (size_t)n);
	}
	log_info(COMPONENT, "started %s %s (pid %d)", p->binary, p->script, (int)pid);
	return 0;
}

bool liq_proc_alive(struct liq_proc *p)
{
	if (p->pid <= 0)
		return false;
	if (p->child) {
		int status;
		pid_t r = waitpid(p->pid, &status, WNOHANG);
		if (r == 0)
			return true;
		if (r == p->pid && p->stopping) {
			log_info(COMPONENT, "pid %d stopped", (int)p->pid);
		} else if (r == p->pid) {
			if (WIFEXITED(status))
				log_error(COMPONENT, "pid %d exited with status %d (see %s)",
					  (int)p->pid, WEXITSTATUS(status), p->log_path);
			else if (WIFSIGNALED(status))
				log_error(COMPONENT, "pid %d killed by signal %d", (int)p->pid,
					  WTERMSIG(status));
		}
		p->pid = 0;
		return false;
	}
	if (kill(p->pid, 0) == 0 && runs_script(p->pid, p->script))
		return true;
	log_error(COMPONENT, "adopted pid %d is gone", (int)p->pid);
	p->pid = 0;
	return false;
}

void liq_proc_stop(struct liq_proc *p, int64_t timeout_us)
{
	if (p->pid <= 0)
		return;
	p->stopping = true;
	kill(p->pid, SIGTERM);
	/* A stopped (stuck) process handles the TERM only once continued. */
	kill(p->pid, SIGCONT);
	int64_t deadline = time_mono_us() + timeout_us;
	while (liq_proc_alive(p) && time_mono_us() < deadline)
		usleep(20000);
	if (p->pid > 0) {
		log_warn(COMPONENT, "pid %d did not stop; killing it", (int)p->pid);
		kill(p->pid, SIGKILL);
		while (liq_proc_alive(p) && time_mono_us() < deadline + USEC_PER_SEC)
			usleep(20000);
	}
	unlink(p->pid_path);
	p->pid = 0;
	p->stopping = false;
}

void log_tail_init(struct log_tail *t, const char *path, bool from_start)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->fd = -1;
	buf_init(&t->partial, LINE_MAX_BYTES);
	struct stat st;
	if (!from_start && stat(path, &st) == 0) {
		t->ino = st.st_ino;
		t->offset = st.st_size;
	}
}

void log_tail_release(struct log_tail *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	buf_release(&t->partial);
}

int log_tail_poll(struct log_tail *t, void (*on_line)(void *userdata, const char *line),
		  void *userdata)
{
	struct stat st;
	if (stat(t->path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (st.st_ino != t->ino || st.st_size < t->offset) {
		/* Replaced or truncated: start over. */
		if (t->fd >= 0)
			close(t->fd);
		t->fd = -1;
		if (st.st_ino != t->ino || st.st_size < t->offset)
			t->offset = 0;
		t->ino = st.st_ino;
		buf_reset(&t->partial);
	}
	if (t->fd < 0) {
		t->fd = open(t->path, O_RDONLY | O_CLOEXEC);
		if (t->fd < 0)
			return -errno;
	}
	int lines = 0;
	char chunk[16384];
	for (;;) {
		ssize_t n = pread(t->fd, chunk, sizeof(chunk), t->offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		t->offset += n;
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] == '\n') {
				on_line(userdata, t->partial.data);
				buf_reset(&t->partial);
				lines++;
			} else if (chunk[i] != '\r') {
				/* Past the limit the rest of the line is dropped. */
				buf_append_char(&t->partial, chunk[i]);
			}
		}
	}
	return lines;
}
