/*
 * audit.c - the audit log; see audit.h.
 */
#include "api/audit.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/error.h"
#include "common/log.h"
#include "db/db.h"

void audit(struct api_request *req, const char *action, const char *entity, int64_t entity_id,
	   const char *details)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, entity_id);
	const struct api_caller *c = &req->caller;
	int r = db_exec(req->db,
			"INSERT INTO audit_log (at, user_id, actor, action, entity, entity_id, details)"
			" VALUES ($1, $2, $3, $4, $5, $6, $7)",
			DB_PARAMS(DB_I(req->now), c->user_id ? DB_I(c->user_id) : DB_N,
				  DB_T(c->name[0] ? c->name : "anonymous"), DB_T(action),
				  DB_T(entity), entity_id ? DB_T(id) : DB_N, DB_T(details)));
	if (r < 0)
		log_warn("api", "audit log: %s %s %s: %s", action, entity, id, onair_strerror(r));
}
