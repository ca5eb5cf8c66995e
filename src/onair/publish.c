#include "onair/publish.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "mq/mq.h"
#include "protocol/protocol.h"

static int read_input(const char *path, struct buf *text)
{
	if (strcmp(path, "-") != 0)
		return fs_read_file(path, text);
	char chunk[65536];
	ssize_t n;
	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) > 0)
		if (buf_append(text, chunk, (size_t)n) < 0)
			return -EFBIG;
	return n < 0 ? -errno : 0;
}

int publish_snapshot_file(const struct config *cfg, const char *path)
{
	struct buf text;
	buf_init(&text, PROTO_MESSAGE_MAX);
	int code = EXIT_FAILURE;
	int r = read_input(path, &text);
	if (r < 0) {
		fprintf(stderr, "onair: %s: %s\n", path, onair_strerror(r));
		goto out_release;
	}
	struct proto_snapshot snap;
	struct proto_error err;
	r = proto_snapshot_decode(text.data, text.len, &snap, &err);
	if (r < 0) {
		fprintf(stderr, "onair: %s: not a valid snapshot: %s\n", path, err.text);
		goto out_release;
	}
	struct mq *mq = NULL;
	struct mq_options mo = { .name = "onair-publish" };
	if ((r = mq_options_from_config(&mo, cfg)) < 0)
		goto out_close;
	if ((r = mq_connect(&mq, &mo)) < 0 ||
	    (r = mq_wait_connected(mq, 5 * USEC_PER_SEC)) < 0 ||
	    (r = mq_ensure_topology(mq)) < 0) {
		fprintf(stderr, "onair: message queue at %s: %s\n", mo.url, onair_strerror(r));
		goto out_close;
	}
	uint64_t rev = 0;
	r = mq_kv_put(mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, text.data, text.len, &rev);
	if (r < 0) {
		fprintf(stderr, "onair: publishing failed: %s\n", onair_strerror(r));
		goto out_close;
	}
	printf("published snapshot revision %" PRIu64 " (%zu items) as key-value revision %" PRIu64
	       "\n", snap.revision, snap.n_items, rev);
	code = EXIT_SUCCESS;
out_close:
	mq_close(mq);
	proto_snapshot_release(&snap);
out_release:
	buf_release(&text);
	return code;
}
