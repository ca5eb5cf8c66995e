/*
 * fuzz_api.c - libFuzzer target driving request bodies, paths and query
 * strings through the web API's router and handlers (src/api), in
 * process, on an in-memory SQLite database, as an admin.
 *
 * Input: "METHOD /path?k=v&k2=v2\n" then the body. The property, beyond
 * what ASan/UBSan/LSan catch: whatever the input, the answer is a status
 * of 200..499 or 503 with a JSON body (or a file or text the route
 * makes) - never a 500, which would be the server's fault.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api/router.h"
#include "api/throttle.h"
#include "db/db.h"
#include "db/migrations.h"
#include "storage/storage.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct db *db;
static struct api_ctx ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz-api-XXXXXX";
	if (sodium_init() < 0 || !mkdtemp(dir) || storage_open(&ctx.storage, dir) < 0)
		abort();
	char err[256];
	int64_t from, to;
	if (db_open(&db, "sqlite::memory:", err, sizeof(err)) < 0 ||
	    db_migrate(db, &from, &to) < 0)
		abort();
	static const char *const seed[] = {
		"INSERT INTO users (name, role, created_at) VALUES ('admin', 'admin', 0)",
		"INSERT INTO users (name, role, created_at) VALUES ('host', 'host', 0)",
		"INSERT INTO track_types (code, name) VALUES ('music', 'Music')",
		"INSERT INTO playlists (name, owner_id, created_at, updated_at)"
		" VALUES ('p', 1, 0, 0)",
		"INSERT INTO smart_blocks (name, owner_id, created_at, updated_at)"
		" VALUES ('b', 1, 0, 0)",
		"INSERT INTO webstreams (name, url, duration_us, created_at, updated_at)"
		" VALUES ('w', 'http://a/b', 60000000, 0, 0)",
		"INSERT INTO shows (name, created_at, updated_at) VALUES ('s', 0, 0)",
		"INSERT INTO show_recurrences (show_id, frequency, weekdays, start_date, start_time,"
		" duration_us, timezone, created_at, updated_at) VALUES (1, 'weekly', 1,"
		" '2026-01-05', '10:00', 3600000000, 'UTC', 0, 0)",
		"INSERT INTO show_instances (show_id, recurrence_id, instance_date, starts_at,"
		" ends_at, created_at, updated_at) VALUES (1, 1, '2099-01-05',"
		" 4071132000000000, 4071135600000000, 0, 0)",
		"INSERT INTO files (content_hash, size, mime, storage_key, import_status,"
		" created_at, updated_at, duration_us) VALUES ('sha256:00', 10, 'audio/mpeg',"
		" 'aa/bb/x.mp3', 'ready', 0, 0, 60000000)",
	};
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		if (db_exec(db, seed[i], NULL, 0) < 0)
			abort();
	}
	ctx.db_url = "sqlite::memory:";
	ctx.max_upload = 1 << 20;
	ctx.session_ttl_us = 3600000000;
	ctx.public_enabled = true;
	ctx.throttle = throttle_new(64, 5, 1000000, 60000000);
	ctx.throttle_addr = throttle_new(64, 20, 1000000, 60000000);
	return 0;
}

/* Split "k=v&k2=v2" (in place) into the request's query. */
static void split_query(struct api_request *req, char *q)
{
	while (q && *q && req->nquery < API_MAX_QUERY) {
		char *amp = strchr(q, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(q, '=');
		if (eq)
			*eq = '\0';
		req->query[req->nquery].key = q;
		req->query[req->nquery].value = eq ? eq + 1 : "";
		req->nquery++;
		q = amp ? amp + 1 : NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size < 512 ? size : 512);
	if (!nl)
		return 0;
	size_t head_len = (size_t)(nl - data);
	char head[512];
	memcpy(head, data, head_len);
	head[head_len] = '\0';
	char *sp = strchr(head, ' ');
	if (!sp || strlen(head) != head_len)
		return 0;
	*sp = '\0';
	char *path = sp + 1;
	char *q = strchr(path, '?');
	if (q)
		*q++ = '\0';
	struct api_request req = {
		.method = head,
		.path = path,
		.client_addr = "127.0.0.1",
		.body = (const char *)nl + 1,
		.body_len = size - head_len - 1,
		.ctx = &ctx,
		.db = db,
		.now = 1790000000000000,
	};
	split_query(&req, q);
	req.headers[0].key = "Content-Type";
	req.headers[0].value = "application/json";
	req.nheaders = 1;
	struct api_response res;
	api_response_init(&res);
	int status;
	req.route = router_match(req.method, req.path, req.ids, &req.nids, &status, NULL, 0);
	if (!req.route || req.route->stream || req.route->role == ROLE_NONE)
		return 0;	/* routing is tested elsewhere; logins would be throttled */
	req.caller.auth = AUTH_TOKEN;
	req.caller.role = ROLE_ADMIN;
	req.caller.user_id = 1;
	snprintf(req.caller.name, sizeof(req.caller.name), "admin");
	req.route->handler(&req, &res);
	if (db_in_transaction(db))
		abort();	/* a handler left a transaction open */
	if (res.status < 200 || res.status > 599 || (res.status >= 500 && res.status != 503)) {
		fprintf(stderr, "status %d: %s\n", res.status,
			res.json ? json_string_value(json_object_get(res.json, "detail")) : "");
		abort();
	}
	api_response_release(&res);
	return 0;
}
