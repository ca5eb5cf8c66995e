/*
 * auth.c - sessions, API tokens, the service credential and logging in;
 * see auth.h.
 */
#include "api/auth.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api/audit.h"
#include "api/body.h"
#include "api/problem.h"
#include "api/throttle.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "db/db.h"

#define SECRET_PREFIX "onair_"
#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024
/* last_used_at of a token is written at most this often. */
#define TOKEN_TOUCH_US (INT64_C(60) * 1000000)

void auth_new_secret(char out[AUTH_SECRET_SIZE])
{
	unsigned char rnd[32];
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(out, SECRET_PREFIX, sizeof(SECRET_PREFIX) - 1);
	sodium_bin2base64(out + sizeof(SECRET_PREFIX) - 1, AUTH_SECRET_SIZE - sizeof(SECRET_PREFIX) + 1,
			  rnd, sizeof(rnd), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void auth_hash_secret(const char *secret, char out[AUTH_HASH_SIZE])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, (const unsigned char *)secret, strlen(secret));
	sodium_bin2hex(out, AUTH_HASH_SIZE, digest, sizeof(digest));
}

int auth_hash_password(const char *password, char *out, size_t size)
{
	if (size < crypto_pwhash_STRBYTES)
		return -EINVAL;
	if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return -ENOMEM;
	return 0;
}

/* The value of cookie name in a Cookie header into out; false when absent. */
static bool cookie_value(const char *header, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = len - nlen - 1;
			if (vlen >= size)
				return false;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}

static void unauthorized(struct api_response *res, const char *detail)
{
	problem(res, 401, "%s", detail);
	api_response_header(res, "WWW-Authenticate", "Bearer realm=\"onair\", error=\"invalid_token\"");
}

static int identify_token(struct api_request *req, const char *secret, struct api_response *res)
{
	char hash[AUTH_HASH_SIZE];
	auth_hash_secret(secret, hash);
	struct api_ctx *ctx = req->ctx;
	if (ctx->service_token_hash[0] && sodium_memcmp(hash, ctx->service_token_hash, 64) == 0) {
		req->caller.auth = AUTH_SERVICE;
		snprintf(req->caller.name, sizeof(req->caller.name), "playout");
		return 0;
	}
	struct db_rows *rows;
	int r = db_query(req->db,
			 "SELECT t.id, t.role, u.role, u.id, u.name, t.last_used_at"
			 " FROM api_tokens t JOIN users u ON u.id = t.user_id"
			 " WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled",
			 DB_PARAMS(DB_T(hash)), &rows);
	if (r < 0) {
		problem_errno(res, r, "checking the token", NULL);
		return -1;
	}
	if (!db_rows_next(rows)) {
		db_rows_free(rows);
		unauthorized(res, "the API token is unknown or revoked");
		return -1;
	}
	int64_t token_id = db_col_int(rows, 0);
	enum api_role trole = api_role_from_name(db_col_text(rows, 1));
	enum api_role urole = api_role_from_name(db_col_text(rows, 2));
	req->caller.auth = AUTH_TOKEN;
	req->caller.role = trole < urole ? trole : urole;
	req->caller.user_id = db_col_int(rows, 3);
	snprintf(req->caller.name, sizeof(req->caller.name), "%s", db_col_text(rows, 4));
	int64_t last = db_col_int(rows, 5);
	db_rows_free(rows);
	if (last + TOKEN_TOUCH_US < req->now)
		db_exec(req->db, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2",
			DB_PARAMS(DB_I(req->now), DB_I(token_id)));
	return 0;
}

static void identify_session(struct api_request *req, const char *secret)
{
	char hash[AUTH_HASH_SIZE];
	auth_hash_secret(secret, hash);
	struct db_rows *rows;
	if (db_query(req->db,
		     "SELECT u.id, u.name, u.role, s.csrf_token FROM sessions s"
		     " JOIN users u ON u.id = s.user_id"
		     " WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled",
		     DB_PARAMS(DB_T(hash), DB_I(req->now)), &rows) < 0)
		return;
	if (db_rows_next(rows)) {
		req->caller.auth = AUTH_SESSION;
		req->caller.user_id = db_col_int(rows, 0);
		snprintf(req->caller.name, sizeof(req->caller.name), "%s", db_col_text(rows, 1));
		req->caller.role = api_role_from_name(db_col_text(rows, 2));
		snprintf(req->caller.csrf, sizeof(req->caller.csrf), "%s", db_col_text(rows, 3));
		snprintf(req->caller.session_hash, sizeof(req->caller.session_hash), "%s", hash);
	}
	db_rows_free(rows);
}

int auth_identify(struct api_request *req, struct api_response *res)
{
	memset(&req->caller, 0, sizeof(req->caller));
	const char *authz = api_header(req, "Authorization");
	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) != 0) {
			unauthorized(res, "the Authorization header must be \"Bearer <token>\"");
			return -1;
		}
		const char *secret = authz + 7;
		while (*secret == ' ')
			secret++;
		if (!*secret || strlen(secret) > 256) {
			unauthorized(res, "the bearer token is malformed");
			return -1;
		}
		return identify_token(req, secret, res);
	}
	const char *cookie = api_header(req, "Cookie");
	char secret[AUTH_SECRET_SIZE];
	if (cookie && cookie_value(cookie, AUTH_COOKIE, secret, sizeof(secret)))
		identify_session(req, secret);
	return 0;
}

bool auth_csrf_ok(const struct api_request *req)
{
	const char *sent = api_header(req, "X-CSRF-Token");
	size_t len = strlen(req->caller.csrf);
	return sent && len > 0 && strlen(sent) == len &&
	       sodium_memcmp(sent, req->caller.csrf, len) == 0;
}

/* The JSON of a user row read as id, name, display_name, email, role. */
static json_t *user_json(struct db_rows *rows)
{
	const char *email = db_col_text(rows, 3);
	return json_pack("{s:I, s:s, s:s, s:o, s:s}", "id", (json_int_t)db_col_int(rows, 0),
			 "name", db_col_text(rows, 1), "display_name", db_col_text(rows, 2),
			 "email", email ? json_string(email) : json_null(), "role",
			 db_col_text(rows, 4));
}

static json_t *user_by_id(struct db *db, int64_t id)
{
	struct db_rows *rows;
	if (db_query(db, "SELECT id, name, display_name, email, role FROM users WHERE id = $1",
		     DB_PARAMS(DB_I(id)), &rows) < 0)
		return NULL;
	json_t *u = db_rows_next(rows) ? user_json(rows) : NULL;
	db_rows_free(rows);
	return u;
}

static void set_cookie(struct api_request *req, struct api_response *res, const char *value,
		       int64_t max_age_s)
{
	char cookie[256];
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%" PRId64 "%s",
		 AUTH_COOKIE, value, max_age_s, req->ctx->cookie_secure ? "; Secure" : "");
	api_response_header(res, "Set-Cookie", cookie);
}

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
	auth_hash_password("not the password of anyone", dummy_hash, sizeof(dummy_hash));
}

/* A verification against a fixed hash, so that an unknown name takes as
 * long as a wrong password. */
static void waste_verify(const char *password)
{
	pthread_once(&dummy_once, make_dummy_hash);
	if (crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0)
		log_warn("api", "a password matched the dummy hash");
}

void auth_login(struct api_request *req, struct api_response *res)
{
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	static const char *const allowed[] = { "name", "password", NULL };
	body_only(body, allowed, &fe);
	const char *name = NULL, *password = NULL;
	if (body_text(body, "name", 128, &name, &fe) == 0)
		field_error(&fe, "name", "is required");
	if (body_text(body, "password", PASSWORD_MAX, &password, &fe) == 0)
		field_error(&fe, "password", "is required");
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	char ukey[160], akey[160];
	char lname[129];
	size_t i;
	for (i = 0; name[i] && i < sizeof(lname) - 1; i++)
		lname[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] - 'A' + 'a' : name[i]);
	lname[i] = '\0';
	snprintf(ukey, sizeof(ukey), "user:%s", lname);
	snprintf(akey, sizeof(akey), "addr:%s", req->client_addr ? req->client_addr : "");
	int64_t wait = throttle_wait(req->ctx->throttle, ukey, req->now);
	int64_t wait_addr = throttle_wait(req->ctx->throttle_addr, akey, req->now);
	if (wait_addr > wait)
		wait = wait_addr;
	if (wait > 0) {
		char secs[24];
		snprintf(secs, sizeof(secs), "%" PRId64, (wait + 999999) / 1000000);
		problem(res, 429, "too many failed logins; try again in %s s", secs);
		api_response_header(res, "Retry-After", secs);
		goto out;
	}

	struct db_rows *rows;
	int r = db_query(req->db,
			 "SELECT id, name, display_name, email, role, password_hash FROM users"
			 " WHERE lower(name) = lower($1) AND NOT disabled AND password_hash IS NOT NULL",
			 DB_PARAMS(DB_T(name)), &rows);
	if (r < 0) {
		problem_errno(res, r, "logging in", NULL);
		goto out;
	}
	json_t *user = NULL;
	if (db_rows_next(rows)) {
		if (crypto_pwhash_str_verify(db_col_text(rows, 5), password, strlen(password)) == 0)
			user = user_json(rows);
	} else {
		waste_verify(password);
	}
	db_rows_free(rows);
	if (!user) {
		throttle_fail(req->ctx->throttle, ukey, req->now);
		throttle_fail(req->ctx->throttle_addr, akey, req->now);
		problem(res, 401, "wrong name or password");
		goto out;
	}
	throttle_clear(req->ctx->throttle, ukey);
	int64_t uid = json_integer_value(json_object_get(user, "id"));
	char secret[AUTH_SECRET_SIZE], hash[AUTH_HASH_SIZE], csrf[AUTH_SECRET_SIZE];
	auth_new_secret(secret);
	auth_hash_secret(secret, hash);
	auth_new_secret(csrf);
	int64_t expires = req->now + req->ctx->session_ttl_us;
	db_exec(req->db, "DELETE FROM sessions WHERE expires_at <= $1", DB_PARAMS(DB_I(req->now)));
	r = db_exec(req->db,
		    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at,"
		    " last_seen_at) VALUES ($1, $2, $3, $4, $5, $4)",
		    DB_PARAMS(DB_T(hash), DB_I(uid), DB_T(csrf), DB_I(req->now), DB_I(expires)));
	if (r < 0) {
		json_decref(user);
		problem_errno(res, r, "the session", NULL);
		goto out;
	}
	snprintf(req->caller.name, sizeof(req->caller.name), "%s",
		 json_string_value(json_object_get(user, "name")));
	req->caller.user_id = uid;
	audit(req, "login", "user", uid, NULL);
	char exp[40];
	time_format_rfc3339(expires, exp, sizeof(exp));
	set_cookie(req, res, secret, req->ctx->session_ttl_us / 1000000);
	api_response_json(res, 200, json_pack("{s:o, s:s, s:s}", "user", user, "csrf_token", csrf,
					      "expires_at", exp));
out:
	json_decref(body);
}

void auth_logout(struct api_request *req, struct api_response *res)
{
	if (req->caller.auth == AUTH_SESSION)
		db_exec(req->db, "DELETE FROM sessions WHERE token_hash = $1",
			DB_PARAMS(DB_T(req->caller.session_hash)));
	set_cookie(req, res, "", 0);
	res->status = 204;
}

void auth_me(struct api_request *req, struct api_response *res)
{
	json_t *user = user_by_id(req->db, req->caller.user_id);
	if (!user) {
		problem(res, 404, "the account does not exist any more");
		return;
	}
	json_t *doc = json_pack("{s:o, s:s}", "user", user, "auth",
				req->caller.auth == AUTH_SESSION ? "session" : "token");
	json_object_set_new(doc, "csrf_token", req->caller.auth == AUTH_SESSION
			    ? json_string(req->caller.csrf) : json_null());
	api_response_json(res, 200, doc);
}

void auth_password(struct api_request *req, struct api_response *res)
{
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	static const char *const allowed[] = { "current_password", "new_password", NULL };
	body_only(body, allowed, &fe);
	const char *cur = NULL, *next = NULL;
	if (body_text(body, "current_password", PASSWORD_MAX, &cur, &fe) == 0)
		field_error(&fe, "current_password", "is required");
	if (body_text(body, "new_password", PASSWORD_MAX, &next, &fe) == 0)
		field_error(&fe, "new_password", "is required");
	else if (next && strlen(next) < PASSWORD_MIN)
		field_error(&fe, "new_password", "must be at least %d characters", PASSWORD_MIN);
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	struct db_rows *rows;
	int r = db_query(req->db, "SELECT password_hash FROM users WHERE id = $1",
			 DB_PARAMS(DB_I(req->caller.user_id)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the account", NULL);
		goto out;
	}
	bool ok = db_rows_next(rows) && db_col_text(rows, 0) &&
		  crypto_pwhash_str_verify(db_col_text(rows, 0), cur, strlen(cur)) == 0;
	db_rows_free(rows);
	if (!ok) {
		problem_field(res, 422, "current_password", "the current password is wrong");
		goto out;
	}
	char hash[crypto_pwhash_STRBYTES];
	if (auth_hash_password(next, hash, sizeof(hash)) < 0) {
		problem(res, 503, "not enough memory to hash the password; try again");
		goto out;
	}
	r = db_exec(req->db, "UPDATE users SET password_hash = $1 WHERE id = $2",
		    DB_PARAMS(DB_T(hash), DB_I(req->caller.user_id)));
	if (r >= 0)
		r = db_exec(req->db, "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
			    DB_PARAMS(DB_I(req->caller.user_id), DB_T(req->caller.session_hash)));
	if (r < 0) {
		problem_errno(res, r, "changing the password", NULL);
		goto out;
	}
	audit(req, "password", "user", req->caller.user_id, NULL);
	res->status = 204;
out:
	json_decref(body);
}

static json_t *token_json(struct db_rows *rows)
{
	json_t *t = json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)db_col_int(rows, 0),
			      "user_id", (json_int_t)db_col_int(rows, 1), "name",
			      db_col_text(rows, 2), "role", db_col_text(rows, 3));
	static const char *const times[] = { "created_at", "last_used_at", "revoked_at" };
	for (int i = 0; i < 3; i++) {
		char ts[40];
		if (db_col_is_null(rows, 4 + i)) {
			json_object_set_new(t, times[i], json_null());
		} else {
			time_format_rfc3339(db_col_int(rows, 4 + i), ts, sizeof(ts));
			json_object_set_new(t, times[i], json_string(ts));
		}
	}
	return t;
}

#define TOKEN_COLS "id, user_id, name, role, created_at, last_used_at, revoked_at"

void tokens_list(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "user_id", NULL };
	if (!query_only(req, allowed, res))
		return;
	int64_t uid = req->caller.user_id;
	int q = query_int(req, "user_id", 1, INT64_MAX, &uid, res);
	if (q < 0)
		return;
	if (uid != req->caller.user_id && req->caller.role < ROLE_ADMIN) {
		problem_field(res, 403, "user_id", "only an admin may see other users' tokens");
		return;
	}
	struct db_rows *rows;
	int r = db_query(req->db, "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = $1"
			 " ORDER BY id", DB_PARAMS(DB_I(uid)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the tokens", NULL);
		return;
	}
	json_t *items = json_array();
	while (db_rows_next(rows))
		json_array_append_new(items, token_json(rows));
	db_rows_free(rows);
	api_response_json(res, 200, json_pack("{s:o}", "items", items));
}

void tokens_create(struct api_request *req, struct api_response *res)
{
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	static const char *const allowed[] = { "name", "role", NULL };
	body_only(body, allowed, &fe);
	const char *name = NULL, *role = NULL;
	if (body_text(body, "name", 200, &name, &fe) == 0 || (name && !*name))
		field_error(&fe, "name", "is required");
	enum api_role want = req->caller.role;
	if (body_text(body, "role", 32, &role, &fe) == 1) {
		want = api_role_from_name(role);
		if (want == ROLE_NONE)
			field_error(&fe, "role", "must be admin, program_manager, host or guest");
		else if (want > req->caller.role)
			field_error(&fe, "role", "may not be more than your own role (%s)",
				    api_role_name(req->caller.role));
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	char secret[AUTH_SECRET_SIZE], hash[AUTH_HASH_SIZE];
	auth_new_secret(secret);
	auth_hash_secret(secret, hash);
	int64_t id;
	int r = db_query_int(req->db,
			     "INSERT INTO api_tokens (token_hash, user_id, name, role, created_at)"
			     " VALUES ($1, $2, $3, $4, $5) RETURNING id",
			     DB_PARAMS(DB_T(hash), DB_I(req->caller.user_id), DB_T(name),
				       DB_T(api_role_name(want)), DB_I(req->now)), &id);
	if (r < 0) {
		problem_errno(res, r, "the token", NULL);
		goto out;
	}
	audit(req, "create", "api_token", id, NULL);
	struct db_rows *rows;
	r = db_query(req->db, "SELECT " TOKEN_COLS " FROM api_tokens WHERE id = $1",
		     DB_PARAMS(DB_I(id)), &rows);
	if (r < 0 || !db_rows_next(rows)) {
		db_rows_free(rows);
		problem_errno(res, r < 0 ? r : -EIO, "reading the token back", NULL);
		goto out;
	}
	json_t *doc = token_json(rows);
	db_rows_free(rows);
	json_object_set_new(doc, "token", json_string(secret));
	api_response_json(res, 201, doc);
out:
	json_decref(body);
}

void tokens_revoke(struct api_request *req, struct api_response *res)
{
	int64_t id = req->ids[0];
	int64_t owner;
	int r = db_query_int(req->db, "SELECT user_id FROM api_tokens WHERE id = $1",
			     DB_PARAMS(DB_I(id)), &owner);
	if (r == 0 && owner != req->caller.user_id && req->caller.role < ROLE_ADMIN)
		r = -ENOENT;	/* another user's token: as if it did not exist */
	if (r < 0) {
		problem_errno(res, r, "the token", NULL);
		return;
	}
	r = db_exec(req->db, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2"
		    " AND revoked_at IS NULL", DB_PARAMS(DB_I(req->now), DB_I(id)));
	if (r < 0) {
		problem_errno(res, r, "revoking the token", NULL);
		return;
	}
	audit(req, "revoke", "api_token", id, NULL);
	res->status = 204;
}
