#include "playout/snapshot_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"

#define SNAPSHOT_FILE "snapshot.json"

int snapshot_store_save(const char *state_dir, const char *json, size_t len)
{
	return fs_write_atomic(state_dir, SNAPSHOT_FILE, json, len);
}

int snapshot_store_load(const char *state_dir, struct proto_snapshot *out,
			struct proto_error *err)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, SNAPSHOT_FILE) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	struct buf text;
	buf_init(&text, PROTO_MESSAGE_MAX);
	int r = fs_read_file(path, &text);
	if (r < 0) {
		snprintf(err->text, sizeof(err->text), "%.180s: %s", path, strerror(-r));
		goto out_release;
	}
	r = proto_snapshot_decode(text.data, text.len, out, err);
out_release:
	buf_release(&text);
	return r;
}
