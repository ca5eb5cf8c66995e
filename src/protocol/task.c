/*
 * task.c - worker tasks: decoder, validator, encoder.
 */
#include "protocol/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json_util.h"

#define ID_EXTRA "_.:-"
#define ID_MAX 64

static bool has_file_id(enum proto_task_kind k)
{
	return k == PROTO_TASK_ANALYZE_FILE;
}

static bool has_podcast_id(enum proto_task_kind k)
{
	return k == PROTO_TASK_POLL_PODCAST || k == PROTO_TASK_INGEST_EPISODE;
}

static bool has_episode_id(enum proto_task_kind k)
{
	return k == PROTO_TASK_INGEST_EPISODE;
}

void proto_task_release(struct proto_task *t)
{
	free(t->id);
	memset(t, 0, sizeof(*t));
}

int proto_task_validate(const struct proto_task *t, struct proto_error *err)
{
	int rc;
	if ((rc = pv_token(t->id, ID_EXTRA, ID_MAX, "", "id", err)) < 0 ||
	    (rc = pv_enum((int)t->kind, PROTO_TASK__COUNT, "", "task", err)) < 0 ||
	    (rc = pv_instant(t->created_at, "", "created_at", err)) < 0)
		return rc;
	if (has_file_id(t->kind) &&
	    (rc = pv_range(t->file_id, 1, INT64_MAX, "", "file_id", err)) < 0)
		return rc;
	if (has_podcast_id(t->kind) &&
	    (rc = pv_range(t->podcast_id, 1, INT64_MAX, "", "podcast_id", err)) < 0)
		return rc;
	if (has_episode_id(t->kind) &&
	    (rc = pv_range(t->episode_id, 1, INT64_MAX, "", "episode_id", err)) < 0)
		return rc;
	return 0;
}

static int read_task(json_t *root, struct proto_task *t, struct proto_error *err)
{
	int kind = 0;
	int rc;
	if ((rc = jr_string(root, "", "id", true, &t->id, err)) < 0 ||
	    (rc = jr_enum(root, "", "task", true, proto_task_kind_names, PROTO_TASK__COUNT, &kind,
			  err)) < 0 ||
	    (rc = jr_instant(root, "", "created_at", true, &t->created_at, err)) < 0)
		return rc;
	t->kind = (enum proto_task_kind)kind;
	if (has_file_id(t->kind) &&
	    (rc = jr_int(root, "", "file_id", true, INT64_MIN, INT64_MAX, &t->file_id, err)) < 0)
		return rc;
	if (has_podcast_id(t->kind) &&
	    (rc = jr_int(root, "", "podcast_id", true, INT64_MIN, INT64_MAX, &t->podcast_id,
			 err)) < 0)
		return rc;
	if (has_episode_id(t->kind) &&
	    (rc = jr_int(root, "", "episode_id", true, INT64_MIN, INT64_MAX, &t->episode_id,
			 err)) < 0)
		return rc;
	return 0;
}

int proto_task_decode(const char *json, size_t len, struct proto_task *out,
		      struct proto_error *err)
{
	json_t *root;
	memset(out, 0, sizeof(*out));
	int rc = jr_load(json, len, "task", &root, err);
	if (rc < 0)
		return rc;
	if ((rc = read_task(root, out, err)) < 0 || (rc = proto_task_validate(out, err)) < 0)
		goto out_release;
	json_decref(root);
	return 0;

out_release:
	proto_task_release(out);
	json_decref(root);
	return rc;
}

int proto_task_encode(const struct proto_task *t, struct buf *out)
{
	if (proto_task_validate(t, NULL) < 0)
		return -EINVAL;
	struct jw w;
	jw_init(&w, out);
	jw_object_begin(&w, NULL);
	jw_string(&w, "type", "task");
	jw_int(&w, "version", PROTO_VERSION);
	jw_string(&w, "id", t->id);
	jw_string(&w, "task", proto_task_kind_name(t->kind));
	jw_instant(&w, "created_at", t->created_at);
	if (has_file_id(t->kind))
		jw_int(&w, "file_id", t->file_id);
	if (has_podcast_id(t->kind))
		jw_int(&w, "podcast_id", t->podcast_id);
	if (has_episode_id(t->kind))
		jw_int(&w, "episode_id", t->episode_id);
	jw_object_end(&w);
	return jw_finish(&w);
}
