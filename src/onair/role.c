#include "onair/role.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/timeutil.h"
#include "mq/mq.h"
#include "worker/podcast_tasks.h"
#include "worker/taskloop.h"

static void on_mq_state(void *userdata, bool connected)
{
	const char *role = userdata;
	if (connected)
		log_info(role, "message queue connected");
	else
		log_warn(role, "message queue disconnected; reconnecting");
}

int role_run(const char *name, const struct config *cfg)
{
	if (strcmp(name, "worker") == 0) {
		if (podcast_tasks_register() < 0)
			return EXIT_FAILURE;
		return taskloop_run(cfg);
	}
	char conn_name[128];
	const char *configured = config_get(cfg, "nats.name");
	char host[64] = "localhost";
	gethostname(host, sizeof(host) - 1);
	snprintf(conn_name, sizeof(conn_name), "onair-%s@%s", name, host);
	struct mq_options opts = {
		.url = config_get(cfg, "nats.url"),
		.name = configured ? configured : conn_name,
		.on_state = on_mq_state,
		.userdata = (void *)name,
	};
	struct mq *mq = NULL;
	if (mq_options_from_config(&opts, cfg) < 0)
		return EXIT_USAGE;
	int r = mq_connect(&mq, &opts);
	if (r < 0) {
		log_error(name, "cannot use message queue at %s: %s", opts.url,
			  onair_strerror(r));
		return EXIT_FAILURE;
	}
	log_info(name, "starting (version %s, pid %d, queue %s)", ONAIR_VERSION, (int)getpid(),
		 opts.url);
	bool topology_done = false;
	int sig = 0;
	while (sig == 0) {
		if (!topology_done && mq_connected(mq)) {
			r = mq_ensure_topology(mq);
			if (r == 0) {
				topology_done = true;
				log_info(name, "running");
			} else {
				log_warn(name, "setting up streams failed (%s); will retry",
					 onair_strerror(r));
			}
		}
		sig = runtime_wait_signal(topology_done ? -1 : 500 * USEC_PER_MSEC);
	}
	log_info(name, "stopping on %s", strsignal(sig));
	mq_close(mq);
	log_info(name, "stopped");
	return EXIT_SUCCESS;
}
