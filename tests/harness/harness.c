/*
 * harness.c - child servers and temporary directories for integration
 * tests; see harness.h.
 */
#define _GNU_SOURCE /* pipe2 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"

#define MAX_CHILDREN 32
#define MAX_TMPDIRS 32
#define POLL_US (10 * USEC_PER_MSEC)
#define NATS_START_TIMEOUT_US (10 * USEC_PER_SEC)
#define NATS_STOP_GRACE_US (5 * USEC_PER_SEC)
#define NATS_HINT "install it with: scripts/install-deps.sh test (or apt-get install nats-server)"

/*
 * What to clean up at exit. The child table is read by the signal handler
 * without the lock: entries are single pid_t stores, and a stale entry
 * only means a kill() that fails with ESRCH.
 */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile pid_t children[MAX_CHILDREN];
static char *tmpdirs[MAX_TMPDIRS];
static bool cleanup_installed;

static void sleep_us(int64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / USEC_PER_SEC),
			       .tv_nsec = (long)(us % USEC_PER_SEC) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void kill_children(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		pid_t pid = children[i];
		if (pid > 0)
			kill(-pid, SIGKILL);
	}
}

static void on_fatal_signal(int sig)
{
	kill_children();
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	raise(sig);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) < 0)
		fprintf(stderr, "harness: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void cleanup_at_exit(void)
{
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < MAX_CHILDREN; i++) {
		pid_t pid = children[i];
		if (pid <= 0)
			continue;
		fprintf(stderr, "harness: killing child %d left running\n", (int)pid);
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		children[i] = 0;
	}
	for (int i = 0; i < MAX_TMPDIRS; i++) {
		if (!tmpdirs[i])
			continue;
		nftw(tmpdirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(tmpdirs[i]);
		tmpdirs[i] = NULL;
	}
	pthread_mutex_unlock(&registry_lock);
}

/* Install the exit and signal handlers once; caller holds registry_lock. */
static void install_cleanup(void)
{
	if (cleanup_installed)
		return;
	cleanup_installed = true;
	atexit(cleanup_at_exit);
	const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_fatal_signal;
		sigemptyset(&sa.sa_mask);
		/* Keep a handler the test program set itself. */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			sigaction(sigs[i], &sa, NULL);
	}
}

static int register_child(pid_t pid)
{
	int r = -ENOSPC;
	pthread_mutex_lock(&registry_lock);
	install_cleanup();
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] == 0) {
			children[i] = pid;
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return r;
}

static void unregister_child(pid_t pid)
{
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] == pid)
			children[i] = 0;
	}
	pthread_mutex_unlock(&registry_lock);
}

int harness_tmpdir(char *out, size_t size)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	char path[512];
	int n = snprintf(path, sizeof(path), "%s/onair-test-XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof(path) || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (!mkdtemp(path)) {
		int err = errno;
		fprintf(stderr, "harness: cannot create a directory in %s: %s\n", base,
			strerror(err));
		return -err;
	}
	int r = -ENOSPC;
	pthread_mutex_lock(&registry_lock);
	install_cleanup();
	for (int i = 0; i < MAX_TMPDIRS; i++) {
		if (!tmpdirs[i]) {
			tmpdirs[i] = strdup(path);
			r = tmpdirs[i] ? 0 : -ENOMEM;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	if (r < 0) {
		rmdir(path);
		return r;
	}
	memcpy(out, path, (size_t)n + 1);
	return 0;
}

/* Ports are drawn below the kernel's ephemeral range (32768 up), so no
 * client socket holds one, and each is reserved for the life of the process
 * by a lock on a file named after it, as tests/e2e/station.py does: tests
 * running side by side never pick the same port. */
#define PORT_LOW 20000
#define PORT_HIGH 32000

int harness_free_port(void)
{
	static bool seeded;
	if (!seeded) {
		srandom((unsigned)(getpid() ^ time_now_us()));
		seeded = true;
	}
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300];
	snprintf(dir, sizeof(dir), "%s/onair-test-ports", tmp && *tmp ? tmp : "/tmp");
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return -errno;
	for (int attempt = 0; attempt < 1000; attempt++) {
		int port = PORT_LOW + (int)(random() % (PORT_HIGH - PORT_LOW));
		snprintf(path, sizeof(path), "%s/%d", dir, port);
		int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (lock < 0)
			return -errno;
		if (flock(lock, LOCK_EX | LOCK_NB) < 0) {
			close(lock);
			continue;
		}
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			int r = -errno;
			close(lock);
			return r;
		}
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int b = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (b < 0) {
			close(lock);
			continue;
		}
		return port;	/* the lock is held until the process exits */
	}
	fprintf(stderr, "harness: no free port in %d-%d\n", PORT_LOW, PORT_HIGH);
	return -EADDRINUSE;
}

static bool tcp_accepts(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int harness_wait_tcp(int port, int64_t timeout_us)
{
	int64_t deadline = time_mono_us() + timeout_us;
	for (;;) {
		if (tcp_accepts(port))
			return 0;
		if (time_mono_us() >= deadline)
			return -ETIMEDOUT;
		sleep_us(POLL_US);
	}
}

static bool is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static bool try_dir(const char *dir, size_t dlen, const char *name, char *out, size_t size)
{
	if (dlen == 0)
		return false;
	int n = snprintf(out, size, "%.*s/%s", (int)dlen, dir, name);
	return n > 0 && (size_t)n < size && is_executable(out);
}

int harness_find_program(const char *name, const char *env_var, const char *hint, char *out,
			 size_t size)
{
	const char *forced = env_var ? getenv(env_var) : NULL;
	if (forced && *forced) {
		int n = snprintf(out, size, "%s", forced);
		if (n > 0 && (size_t)n < size && is_executable(out))
			return 0;
		fprintf(stderr, "harness: %s=%s is not an executable file\n", env_var, forced);
		return -ENOENT;
	}
	const char *path = getenv("PATH");
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		if (try_dir(path, len, name, out, size))
			return 0;
		path = end ? end + 1 : NULL;
	}
	const char *const extra[] = { "/usr/local/sbin", "/usr/sbin", "/sbin" };
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		if (try_dir(extra[i], strlen(extra[i]), name, out, size))
			return 0;
	}
	fprintf(stderr, "harness: %s not found in $PATH, /usr/local/sbin, /usr/sbin or /sbin%s%s; %s\n",
		name, env_var ? " and $" : "", env_var ? env_var : "", hint ? hint : "install it");
	out[0] = '\0';
	return -ENOENT;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child_exec(char *const argv[], int log_fd, int err_fd, pid_t parent)
{
	setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/* Signals as a new program expects them, whatever the test did. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &dfl, NULL);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	if (log_fd >= 0) {
		dup2(log_fd, STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
		close(log_fd);
	}
	execv(argv[0], argv);
	int err = errno;
	ssize_t w = write(err_fd, &err, sizeof(err));
	(void)w;
	_exit(127);
}

int harness_proc_start(struct harness_proc *p, const char *name, char *const argv[],
		       const char *log_path)
{
	if (!p || !name || !argv || !argv[0])
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	int log_fd = -1;
	if (log_path) {
		snprintf(p->log_path, sizeof(p->log_path), "%s", log_path);
		log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (log_fd < 0) {
			int err = errno;
			fprintf(stderr, "harness: %s: cannot open %s: %s\n", name, log_path,
				strerror(err));
			return -err;
		}
	}
	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		int err = errno;
		if (log_fd >= 0)
			close(log_fd);
		return -err;
	}

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(errpipe[0]);
		child_exec(argv, log_fd, errpipe[1], parent);
	}
	int fork_err = errno;
	if (log_fd >= 0)
		close(log_fd);
	close(errpipe[1]);
	if (pid < 0) {
		close(errpipe[0]);
		fprintf(stderr, "harness: %s: fork: %s\n", name, strerror(fork_err));
		return -fork_err;
	}
	/* Also here, so the group exists before we may signal it. */
	setpgid(pid, pid);
	int r = register_child(pid);

	int exec_err = 0;
	ssize_t n;
	do {
		n = read(errpipe[0], &exec_err, sizeof(exec_err));
	} while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n > 0 || r < 0) {
		if (n > 0)
			fprintf(stderr, "harness: %s: cannot run %s: %s\n", name, argv[0],
				strerror(exec_err));
		else
			fprintf(stderr, "harness: %s: too many children\n", name);
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		unregister_child(pid);
		return n > 0 ? -exec_err : r;
	}
	p->pid = pid;
	return 0;
}

bool harness_proc_running(struct harness_proc *p)
{
	if (!p || p->pid <= 0)
		return false;
	int status;
	pid_t w = waitpid(p->pid, &status, WNOHANG);
	if (w == 0)
		return true;
	if (w == p->pid) {
		if (WIFEXITED(status))
			fprintf(stderr, "harness: %s (pid %d) exited with status %d\n", p->name,
				(int)p->pid, WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			fprintf(stderr, "harness: %s (pid %d) killed by signal %d\n", p->name,
				(int)p->pid, WTERMSIG(status));
	}
	kill(-p->pid, SIGKILL);	/* whatever is left of its group */
	unregister_child(p->pid);
	p->pid = 0;
	return false;
}

int harness_proc_stop(struct harness_proc *p, int64_t grace_us)
{
	if (!p)
		return -EINVAL;
	if (!harness_proc_running(p))
		return -ESRCH;
	pid_t pid = p->pid;
	kill(-pid, SIGTERM);
	int64_t deadline = time_mono_us() + grace_us;
	int r = 0;
	for (;;) {
		pid_t w = waitpid(pid, NULL, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD))
			break;
		if (time_mono_us() >= deadline) {
			fprintf(stderr, "harness: %s (pid %d) still running %lld ms after SIGTERM; killing it\n",
				p->name, (int)pid, (long long)(grace_us / USEC_PER_MSEC));
			kill(-pid, SIGKILL);
			waitpid(pid, NULL, 0);
			r = -ETIMEDOUT;
			break;
		}
		sleep_us(POLL_US);
	}
	kill(-pid, SIGKILL);	/* whatever is left of its group */
	unregister_child(pid);
	p->pid = 0;
	return r;
}

int harness_proc_wait_tcp(struct harness_proc *p, int port, int64_t timeout_us)
{
	int64_t deadline = time_mono_us() + timeout_us;
	for (;;) {
		if (tcp_accepts(port))
			return 0;
		if (!harness_proc_running(p)) {
			fprintf(stderr, "harness: %s exited before listening on port %d\n", p->name,
				port);
			harness_proc_dump_log(p, 4096);
			return -ECHILD;
		}
		if (time_mono_us() >= deadline) {
			fprintf(stderr, "harness: %s does not listen on port %d after %lld ms\n",
				p->name, port, (long long)(timeout_us / USEC_PER_MSEC));
			harness_proc_dump_log(p, 4096);
			return -ETIMEDOUT;
		}
		sleep_us(POLL_US);
	}
}

void harness_proc_dump_log(const struct harness_proc *p, size_t max_bytes)
{
	if (!p || !p->log_path[0])
		return;
	FILE *f = fopen(p->log_path, "r");
	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) == 0) {
		long size = ftell(f);
		if (size > 0 && (size_t)size > max_bytes)
			fseek(f, size - (long)max_bytes, SEEK_SET);
		else
			fseek(f, 0, SEEK_SET);
	}
	fprintf(stderr, "harness: ---- end of %s ----\n", p->log_path);
	char line[1024];
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fprintf(stderr, "harness: ----\n");
	fclose(f);
}

/* ---- nats-server */

int harness_nats_start(struct harness_nats *n)
{
	if (!n)
		return -EINVAL;
	char program[512];
	int r = harness_find_program("nats-server", "HARNESS_NATS_SERVER", NATS_HINT, program,
				     sizeof(program));
	if (r < 0)
		return r;
	if (!n->dir[0]) {
		r = harness_tmpdir(n->dir, sizeof(n->dir));
		if (r < 0)
			return r;
	}
	if (n->port <= 0) {
		n->port = harness_free_port();
		if (n->port < 0)
			return n->port;
	}
	snprintf(n->url, sizeof(n->url), "nats://127.0.0.1:%d", n->port);

	char port[16], store[300], log_path[300];
	snprintf(port, sizeof(port), "%d", n->port);
	snprintf(store, sizeof(store), "%s/js", n->dir);
	snprintf(log_path, sizeof(log_path), "%s/nats-server.log", n->dir);
	char *const argv[] = {
		program, "-a", "127.0.0.1", "-p", port, "-js", "-sd", store, NULL,
	};
	r = harness_proc_start(&n->proc, "nats-server", argv, log_path);
	if (r < 0)
		return r;
	r = harness_proc_wait_tcp(&n->proc, n->port, NATS_START_TIMEOUT_US);
	if (r < 0) {
		harness_proc_stop(&n->proc, 0);
		return r;
	}
	return 0;
}

int harness_nats_stop(struct harness_nats *n)
{
	if (!n)
		return -EINVAL;
	return harness_proc_stop(&n->proc, NATS_STOP_GRACE_US);
}

int harness_nats_restart(struct harness_nats *n)
{
	int r = harness_nats_stop(n);
	if (r < 0 && r != -ETIMEDOUT)
		return r;
	return harness_nats_start(n);
}
