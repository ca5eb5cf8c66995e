/*
 * resource.h - tables served as REST resources from a declaration: the
 * fields, their types and rules, who may read and write. One engine
 * lists (paging, filters, sorting, search), reads, creates, updates
 * (PATCH: the members given) and deletes rows of any declared table.
 *
 * JSON types: FT_INT and FT_ID integers, FT_REAL numbers, FT_TEXT and
 * FT_ENUM strings, FT_BOOL booleans, FT_TIME RFC 3339 strings (stored as
 * microseconds), FT_JSON any JSON (stored as text). Column names come
 * from the declaration only; every value is bound.
 */
#ifndef ONAIR_API_RESOURCE_H
#define ONAIR_API_RESOURCE_H

#include "api/api.h"
#include "api/problem.h"
#include "db/db.h"

enum field_type {
	FT_INT,
	FT_ID,		/* a reference to another table's row (FOREIGN KEY) */
	FT_REAL,
	FT_TEXT,
	FT_ENUM,
	FT_BOOL,
	FT_TIME,
	FT_JSON,
};

enum {
	FF_RO = 1u << 0,	/* set by the server: never written by the client */
	FF_REQ = 1u << 1,	/* required on create */
	FF_NULL = 1u << 2,	/* may be null */
	FF_FILTER = 1u << 3,	/* ?name=value filters the list */
	FF_SORT = 1u << 4,	/* ?sort=name / -name */
	FF_SEARCH = 1u << 5,	/* ?q= searches it (case-insensitive substring) */
	FF_NONEMPTY = 1u << 6,	/* text must not be empty */
	FF_OWNER = 1u << 7,	/* the row's owner: set to the caller on create */
	FF_VIRTUAL = 1u << 8,	/* not a column: accepted in bodies for the check hook
				   (a password), never read or written by the engine */
};

struct field {
	const char *name;	/* JSON member */
	const char *column;	/* SQL column */
	enum field_type type;
	unsigned flags;
	int64_t min, max;	/* FT_INT bounds; FT_TEXT length bound (max) */
	const char *const *choices;	/* FT_ENUM: NULL-terminated */
	const char *ref;	/* FT_ID: what it names ("track type"), for messages */
};

struct resource;

/* Extra columns a check hook wants written (a password hash). */
struct extra_cols {
	const char *column[4];
	char value[4][256];
	size_t n;
};

/*
 * Hook run before a create (id 0) or an update (id > 0) after the
 * declared fields were checked: further rules; add field errors to fe, or
 * columns to extra. Returns 0, or -1 with res filled (403, 409...).
 */
typedef int (*resource_check)(struct api_request *req, int64_t id, json_t *body,
			      struct field_errors *fe, struct extra_cols *extra,
			      struct api_response *res);

struct resource {
	const char *name;		/* "playlist": for messages and the audit log */
	const char *table;
	const struct field *fields;
	size_t nfields;
	enum api_role create_role;	/* weakest role that may create */
	enum api_role write_role;	/* ... update and delete any row */
	const char *owner_column;	/* a host may change rows it owns; NULL: none */
	bool timestamps;		/* created_at and updated_at columns */
	bool created_only;		/* a created_at column only */
	bool versioned;			/* a version column: PATCH may send "version" */
	bool schedule_change;		/* writes can change what plays: tell the publisher */
	const char *default_sort;	/* SQL ORDER BY, "name" */
	const char *parent_column;	/* created under a parent: the path's first id */
	resource_check check;
	/* Called after a delete with the row's id (storage cleanup). */
	void (*after_delete)(struct api_request *req, int64_t id, const char *extra);
	const char *delete_extra_column;	/* read before the delete for after_delete */
};

/* Generic handlers; req->route->data is the struct resource. */
void resource_list(struct api_request *req, struct api_response *res);
void resource_get(struct api_request *req, struct api_response *res);
void resource_create(struct api_request *req, struct api_response *res);
void resource_update(struct api_request *req, struct api_response *res);
void resource_delete(struct api_request *req, struct api_response *res);

/* The JSON of row id of rs (a new reference), or NULL (-ENOENT or
 * another error in *err). */
json_t *resource_read(struct db *db, const struct resource *rs, int64_t id, int *err);

/* Whether the caller may change row id of rs: its role is write_role or
 * more, or it owns the row. 0, or -1 with res filled (404 / 403). */
int resource_may_write(struct api_request *req, const struct resource *rs, int64_t id,
		       struct api_response *res);

/* Tell onair messages the schedule may have changed (when a queue is
 * connected); never fails the request. */
void resource_schedule_changed(struct api_request *req);

/* Column c of the current row as a JSON integer or text; null for NULL
 * (and for text that is not UTF-8). */
json_t *json_col_int(struct db_rows *rows, int c);
json_t *json_col_text(struct db_rows *rows, int c);

/* Format microseconds since the epoch as RFC 3339 into a JSON string. */
json_t *json_time(int64_t t);

/* The length of url's "http://" or "https://" (any case), 0 for another scheme. */
size_t http_scheme_len(const char *url);
/* Whether url is an http(s) URL with a host and without spaces or control
 * characters. */
bool http_url_ok(const char *url);

#include "common/banned.h"
#endif
