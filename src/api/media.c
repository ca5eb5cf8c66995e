/*
 * media.c - media bytes through the API: uploads streamed into the
 * content-addressed store (never whole in memory), downloads with Range
 * and ETag (how playout fetches media), waveforms, re-analysis.
 *
 * An upload is the raw body of POST /api/v1/files (any Content-Type but
 * multipart), named by ?filename= (for its extension); many files are
 * many requests, which may run at once.
 */
#include "api/resources.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/audit.h"
#include "api/body.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/http_range.h"
#include "common/log.h"
#include "storage/storage.h"
#include "worker/library.h"

#define FILENAME_MAX_LEN 255

struct upload {
	struct storage_put *put;
	char ext[STORAGE_EXT_MAX + 1];
	int64_t track_type_id;
};

/* The extension of a file name ("mp3"), "" when it has none that fits. */
static void name_ext(const char *name, char out[STORAGE_EXT_MAX + 1])
{
	out[0] = '\0';
	const char *dot = name ? strrchr(name, '.') : NULL;
	if (!dot || strchr(dot, '/') || strlen(dot + 1) > STORAGE_EXT_MAX)
		return;
	size_t i = 0;
	for (const char *p = dot + 1; *p; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			out[0] = '\0';
			return;
		}
		out[i++] = c;
	}
	out[i] = '\0';
}

static int upload_begin(struct api_request *req, struct api_response *res, void **state)
{
	static const char *const allowed[] = { "filename", "track_type_id", NULL };
	if (!query_only(req, allowed, res))
		return -1;
	const char *type = api_header(req, "Content-Type");
	if (type && strncasecmp(type, "multipart/", 10) == 0) {
		problem(res, 415, "send each file as the raw body of its own request"
			" (?filename=name.mp3), not as a form");
		return -1;
	}
	const char *name = api_query(req, "filename");
	if (name && strlen(name) > FILENAME_MAX_LEN) {
		problem_field(res, 400, "filename", "the file name is longer than %d bytes",
			      FILENAME_MAX_LEN);
		return -1;
	}
	int64_t track_type = 0;
	if (query_int(req, "track_type_id", 1, INT64_MAX, &track_type, res) < 0)
		return -1;
	const char *len = api_header(req, "Content-Length");
	if (len && strtoll(len, NULL, 10) > req->ctx->max_upload) {
		problem(res, 413, "the file is larger than the limit of %" PRId64 " bytes",
			req->ctx->max_upload);
		return -1;
	}
	struct upload *up = xcalloc(1, sizeof(*up));
	name_ext(name, up->ext);
	up->track_type_id = track_type;
	int r = storage_put_begin(req->ctx->storage, req->ctx->max_upload, &up->put);
	if (r < 0) {
		free(up);
		log_error("api", "cannot store an upload: %s", onair_strerror(r));
		problem(res, 503, "the media store cannot take files now: %s", onair_strerror(r));
		return -1;
	}
	*state = up;
	return 0;
}

static int upload_data(struct api_request *req, void *state, const char *data, size_t len,
		       struct api_response *res)
{
	struct upload *up = state;
	int r = storage_put_write(up->put, data, len);
	if (r == -EFBIG) {
		problem(res, 413, "the file is larger than the limit of %" PRId64 " bytes",
			req->ctx->max_upload);
		return -1;
	}
	if (r < 0) {
		log_error("api", "writing an upload: %s", onair_strerror(r));
		problem(res, 503, "the media store failed to write: %s", onair_strerror(r));
		return -1;
	}
	return 0;
}

static void upload_abort(struct api_request *req, void *state)
{
	struct upload *up = state;
	storage_put_abort(up->put);
	free(up);
}

static void upload_finish(struct api_request *req, void *state, struct api_response *res)
{
	struct upload *up = state;
	if (storage_put_size(up->put) == 0) {
		upload_abort(req, state);
		problem(res, 422, "the upload is empty");
		return;
	}
	char key[STORAGE_KEY_SIZE], hash[STORAGE_HASH_SIZE];
	int64_t size = storage_put_size(up->put);
	int r = storage_put_finish(up->put, up->ext[0] ? up->ext : NULL, key, hash);
	up->put = NULL;
	int64_t track_type = up->track_type_id;
	const char *mime = library_mime_for_ext(up->ext[0] ? up->ext : NULL);
	free(up);
	if (r < 0) {
		problem(res, 503, "the media store failed to keep the file: %s", onair_strerror(r));
		return;
	}
	int64_t id;
	bool existed;
	r = library_add_file(req->db, hash, size, mime, key, req->caller.user_id, track_type, NULL,
			     req->now, &id, &existed);
	if (r == -ENOENT) {
		problem_field(res, 422, "track_type_id", "no track type has this id");
		return;
	}
	if (r < 0) {
		problem_errno(res, r, "adding the file", NULL);
		return;
	}
	json_t *task = json_null();
	if (!existed) {
		audit(req, "upload", "file", id, NULL);
		char task_id[LIBRARY_TASK_ID_SIZE];
		if (req->ctx->mq &&
		    library_enqueue_analysis(req->db, req->ctx->mq, id, req->now, task_id) == 0)
			task = json_string(task_id);
		else
			log_warn("api", "file %" PRId64 " stays pending: the analysis could not be"
				 " queued", id);
	}
	json_t *file = resource_read(req->db, &res_files, id, &r);
	if (!file) {
		json_decref(task);
		problem_errno(res, r, "the file", NULL);
		return;
	}
	char detail[128];
	if (existed)
		snprintf(detail, sizeof(detail), "the same bytes are already file %" PRId64, id);
	else
		snprintf(detail, sizeof(detail), "stored; waiting for analysis");
	char loc[64];
	snprintf(loc, sizeof(loc), "/api/v1/files/%" PRId64, id);
	api_response_json(res, existed ? 200 : 201,
			  json_pack("{s:o, s:b, s:o, s:s}", "file", file, "duplicate", existed,
				    "task_id", task, "detail", detail));
	api_response_header(res, "Location", loc);
}

const struct api_stream_ops files_upload_ops = {
	.begin = upload_begin,
	.data = upload_data,
	.finish = upload_finish,
	.abort = upload_abort,
};

/* Open the stored file of key: fd and its size, or -1 with res filled. */
static int open_stored(struct api_request *req, const char *key, const char *what,
		       uint64_t *size, struct api_response *res)
{
	char path[4096];
	if (storage_path(req->ctx->storage, key, path, sizeof(path)) < 0) {
		problem(res, 404, "%s has no stored bytes", what);
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		log_error("api", "%s: stored bytes missing at %s", what, key);
		problem(res, 404, "the bytes of %s are missing from the media store", what);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

void files_content(struct api_request *req, struct api_response *res)
{
	char what[48];
	snprintf(what, sizeof(what), "file %" PRId64, req->ids[0]);
	struct db_rows *rows;
	int r = db_query(req->db, "SELECT storage_key, content_hash, mime FROM files WHERE id = $1",
			 DB_PARAMS(DB_I(req->ids[0])), &rows);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return;
	}
	if (!db_rows_next(rows)) {
		db_rows_free(rows);
		problem_errno(res, -ENOENT, what, NULL);
		return;
	}
	char key[STORAGE_KEY_SIZE], hash[STORAGE_HASH_SIZE], mime[96];
	snprintf(key, sizeof(key), "%s", db_col_text(rows, 0));
	snprintf(hash, sizeof(hash), "%s", db_col_text(rows, 1));
	snprintf(mime, sizeof(mime), "%s", db_col_text(rows, 2));
	db_rows_free(rows);

	char etag[STORAGE_HASH_SIZE + 4];
	const char *hex = strchr(hash, ':') ? strchr(hash, ':') + 1 : hash;
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	api_response_header(res, "ETag", etag);
	api_response_header(res, "X-Content-Hash", hash);
	api_response_header(res, "Accept-Ranges", "bytes");
	/* The bytes of an id never change: content addressed. */
	api_response_header(res, "Cache-Control", "private, max-age=31536000, immutable");
	const char *inm = api_header(req, "If-None-Match");
	if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
		res->status = 304;
		return;
	}
	uint64_t size;
	int fd = open_stored(req, key, what, &size, res);
	if (fd < 0)
		return;
	uint64_t first = 0, last = size ? size - 1 : 0;
	enum http_range kind = HTTP_RANGE_WHOLE;
	const char *range = api_header(req, "Range");
	const char *if_range = api_header(req, "If-Range");
	if (range && (!if_range || strcmp(if_range, etag) == 0))
		kind = http_range_parse(range, size, &first, &last);
	if (kind == HTTP_RANGE_UNSATISFIABLE) {
		close(fd);
		char cr[48];
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
		problem(res, 416, "the range is outside the file's %" PRIu64 " bytes", size);
		api_response_header(res, "Content-Range", cr);
		return;
	}
	res->status = 200;
	res->fd = fd;
	res->fd_offset = 0;
	res->fd_length = size;
	if (kind == HTTP_RANGE_PART) {
		char cr[80];
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
		api_response_header(res, "Content-Range", cr);
		res->status = 206;
		res->fd_offset = first;
		res->fd_length = last - first + 1;
	}
	/* content_type must be static: the file's own type goes as a header. */
	api_response_header(res, "Content-Type", mime[0] ? mime : "application/octet-stream");
}

void files_waveform(struct api_request *req, struct api_response *res)
{
	char what[48];
	snprintf(what, sizeof(what), "file %" PRId64, req->ids[0]);
	struct db_rows *rows;
	int r = db_query(req->db, "SELECT waveform_path FROM files WHERE id = $1",
			 DB_PARAMS(DB_I(req->ids[0])), &rows);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return;
	}
	bool found = db_rows_next(rows);
	char key[STORAGE_KEY_SIZE] = "";
	if (found && db_col_text(rows, 0))
		snprintf(key, sizeof(key), "%s", db_col_text(rows, 0));
	db_rows_free(rows);
	if (!found) {
		problem_errno(res, -ENOENT, what, NULL);
		return;
	}
	if (!key[0]) {
		problem(res, 404, "%s has no waveform yet (it is made by the analysis)", what);
		return;
	}
	uint64_t size;
	int fd = open_stored(req, key, what, &size, res);
	if (fd < 0)
		return;
	res->fd = fd;
	res->fd_length = size;
	res->content_type = "application/json";
	api_response_header(res, "Cache-Control", "private, max-age=3600");
}

void files_analyze(struct api_request *req, struct api_response *res)
{
	char what[48];
	snprintf(what, sizeof(what), "file %" PRId64, req->ids[0]);
	if (!need_queue(req, res))
		return;
	char task_id[LIBRARY_TASK_ID_SIZE];
	int r = library_reanalyze(req->db, req->ctx->mq, req->ids[0], req->now, task_id);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return;
	}
	audit(req, "analyze", "file", req->ids[0], NULL);
	api_response_json(res, 202, json_pack("{s:I, s:s}", "file_id", (json_int_t)req->ids[0],
					      "task_id", task_id));
}
