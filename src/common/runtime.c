#include "common/runtime.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static void stop_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

int runtime_block_signals(void)
{
	sigset_t set;
	stop_set(&set);
	int r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r)
		return -r;
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int runtime_wait_signal(int64_t timeout_us)
{
	sigset_t set;
	stop_set(&set);
	for (;;) {
		int sig;
		if (timeout_us < 0) {
			sig = sigwaitinfo(&set, NULL);
		} else {
			struct timespec ts = {
				.tv_sec = timeout_us / 1000000,
				.tv_nsec = (long)(timeout_us % 1000000) * 1000,
			};
			sig = sigtimedwait(&set, NULL, &ts);
		}
		if (sig >= 0)
			return sig;
		if (errno == EAGAIN)
			return 0;
		if (errno != EINTR)
			return 0;
	}
}

void runtime_request_stop(void)
{
	kill(getpid(), SIGTERM);
}
