/*
 * audit.h - the audit log of changes made through the API.
 */
#ifndef ONAIR_API_AUDIT_H
#define ONAIR_API_AUDIT_H

#include "api/api.h"

/* Record that the caller of req did action ("create", "update",
 * "delete", "login"...) to entity ("playlist") entity_id; details is
 * JSON text or NULL. A failure is logged, not returned: the change it
 * records is already made. */
void audit(struct api_request *req, const char *action, const char *entity, int64_t entity_id,
	   const char *details);

#include "common/banned.h"
#endif
