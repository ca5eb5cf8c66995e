/*
 * auth.h - who is calling: sessions (a cookie plus a CSRF token for the
 * web app), API tokens (Authorization: Bearer, stored hashed, scoped to a
 * role, revocable) and the playout service credential; and the endpoints
 * that log in and out and change passwords.
 *
 * Secrets handed out are "onair_" + 43 base64url characters (32 random
 * bytes); only their SHA-256 (hex) is stored.
 */
#ifndef ONAIR_API_AUTH_H
#define ONAIR_API_AUTH_H

#include "api/api.h"

#define AUTH_COOKIE "onair_session"
#define AUTH_SECRET_SIZE 64	/* "onair_" + 43 + NUL, rounded */
#define AUTH_HASH_SIZE 65	/* 64 hex + NUL */

/*
 * Fill req->caller from the request's credentials. A Bearer token must be
 * valid (service credential or a live API token of an enabled user):
 * otherwise -1 and res is a 401. A session cookie that is unknown or
 * expired counts as no credential (the caller is anonymous). 0 otherwise.
 */
int auth_identify(struct api_request *req, struct api_response *res);

/* Whether the X-CSRF-Token header matches the caller's session. */
bool auth_csrf_ok(const struct api_request *req);

/* A new random secret into out. */
void auth_new_secret(char out[AUTH_SECRET_SIZE]);
/* The hex SHA-256 of secret into out. */
void auth_hash_secret(const char *secret, char out[AUTH_HASH_SIZE]);

/* Hash password with Argon2id (libsodium's interactive limits) into out.
 * 0, or -ENOMEM. */
int auth_hash_password(const char *password, char *out, size_t size);

/* Handlers: POST /auth/login, POST /auth/logout, GET /auth/me,
 * PUT /auth/password; GET/POST /tokens, DELETE /tokens/{id}. */
void auth_login(struct api_request *req, struct api_response *res);
void auth_logout(struct api_request *req, struct api_response *res);
void auth_me(struct api_request *req, struct api_response *res);
void auth_password(struct api_request *req, struct api_response *res);
void tokens_list(struct api_request *req, struct api_response *res);
void tokens_create(struct api_request *req, struct api_response *res);
void tokens_revoke(struct api_request *req, struct api_response *res);

#include "common/banned.h"
#endif
