#include "onair/playout_cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/timeutil.h"
#include "mq/mq.h"
#include "protocol/protocol.h"

struct replies {
	int count;
	int failed;
	bool one;		/* a command for one instance: its reply is all */
};

static void print_status(const struct proto_status *st)
{
	printf("  schedule revision %" PRIu64 ", source %s\n", st->snapshot_revision,
	       proto_source_name(st->source));
	if (st->on_air_item_id)
		printf("  on air: item %" PRId64 "\n", st->on_air_item_id);
	if (st->next_item_id) {
		char when[TIME_RFC3339_MAX];
		time_format_rfc3339(st->next_start, when, sizeof(when));
		printf("  next:   item %" PRId64 " at %s\n", st->next_item_id, when);
	}
	printf("  cache:  %" PRIu32 " ready, %" PRIu32 " missing\n", st->cache_ready,
	       st->cache_missing);
}

static bool on_reply(void *userdata, const char *data, size_t len)
{
	struct replies *r = userdata;
	struct proto_reply rep;
	struct proto_error err;
	r->count++;
	if (proto_reply_decode(data, len, &rep, &err) < 0) {
		printf("? invalid reply: %s\n", err.text);
		r->failed++;
		return !r->one;
	}
	printf("%s: %s%s%s\n", rep.instance, rep.ok ? "ok" : "FAILED", rep.ok ? "" : ": ",
	       rep.ok ? "" : rep.error);
	if (!rep.ok)
		r->failed++;
	if (rep.has_status)
		print_status(&rep.status);
	proto_reply_release(&rep);
	return !r->one;
}

static int usage(void)
{
	fprintf(stderr,
		"Usage: onair playout status|skip|reload [--instance NAME]\n"
		"       onair playout source schedule|show_live|main_live on|off [--instance NAME]\n"
		"       onair playout disconnect main|show [--instance NAME]\n");
	return EXIT_USAGE;
}

/* Parse argv into cmd; the instance (or NULL) into *instance. */
static int parse(int argc, char **argv, struct proto_command *cmd, const char **instance)
{
	int n = argc;
	*instance = NULL;
	if (n >= 2 && strcmp(argv[n - 2], "--instance") == 0) {
		*instance = argv[n - 1];
		n -= 2;
	}
	if (n < 1)
		return -EINVAL;
	const char *verb = argv[0];
	if (strcmp(verb, "status") == 0 && n == 1) {
		cmd->kind = PROTO_CMD_STATUS;
	} else if (strcmp(verb, "skip") == 0 && n == 1) {
		cmd->kind = PROTO_CMD_SKIP;
	} else if (strcmp(verb, "reload") == 0 && n == 1) {
		cmd->kind = PROTO_CMD_RELOAD;
	} else if (strcmp(verb, "source") == 0 && n == 3) {
		cmd->kind = PROTO_CMD_SOURCE;
		if (strcmp(argv[1], "schedule") == 0)
			cmd->source = PROTO_SRC_SCHEDULE;
		else if (strcmp(argv[1], "show_live") == 0)
			cmd->source = PROTO_SRC_SHOW_LIVE;
		else if (strcmp(argv[1], "main_live") == 0)
			cmd->source = PROTO_SRC_MAIN_LIVE;
		else
			return -EINVAL;
		if (strcmp(argv[2], "on") != 0 && strcmp(argv[2], "off") != 0)
			return -EINVAL;
		cmd->enabled = strcmp(argv[2], "on") == 0;
	} else if (strcmp(verb, "disconnect") == 0 && n == 2) {
		cmd->kind = PROTO_CMD_DISCONNECT_LIVE;
		if (strcmp(argv[1], "main") == 0)
			cmd->input = PROTO_LIVE_MAIN;
		else if (strcmp(argv[1], "show") == 0)
			cmd->input = PROTO_LIVE_SHOW;
		else
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

int playout_command(const struct config *cfg, int argc, char **argv)
{
	char id[64];
	snprintf(id, sizeof(id), "cli-%d-%" PRId64, (int)getpid(), time_now_us());
	struct proto_command cmd = { .id = id };
	const char *instance;
	if (parse(argc, argv, &cmd, &instance) < 0)
		return usage();
	struct buf msg;
	buf_init(&msg, 4096);
	int code = EXIT_FAILURE;
	if (proto_command_encode(&cmd, &msg) < 0)
		goto out_release;
	struct mq *mq = NULL;
	struct mq_options mo = { .name = "onair-cli" };
	int r;
	if ((r = mq_options_from_config(&mo, cfg)) < 0)
		goto out_close;
	if ((r = mq_connect(&mq, &mo)) < 0 || (r = mq_wait_connected(mq, 5 * USEC_PER_SEC)) < 0) {
		fprintf(stderr, "onair: message queue at %s: %s\n", mo.url, onair_strerror(r));
		goto out_close;
	}
	char subject[160];
	if ((r = mq_command_subject(instance, subject, sizeof(subject))) < 0) {
		fprintf(stderr, "onair: instance name too long\n");
		goto out_close;
	}
	struct replies replies = { .one = instance != NULL };
	r = mq_request_many(mq, subject, msg.data, msg.len, 3 * USEC_PER_SEC, on_reply, &replies);
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "onair: request failed: %s\n", onair_strerror(r));
	} else if (replies.count == 0) {
		fprintf(stderr, "onair: no playout instance answered\n");
	} else if (replies.failed == 0) {
		code = EXIT_SUCCESS;
	}
out_close:
	mq_close(mq);
out_release:
	buf_release(&msg);
	return code;
}
