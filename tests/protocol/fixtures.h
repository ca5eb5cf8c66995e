/*
 * fixtures.h - messages for the protocol tests: full structs with every
 * field set, field-by-field comparisons, and JSON mutation for the
 * rejection tables.
 */
#ifndef ONAIR_TESTS_PROTOCOL_FIXTURES_H
#define ONAIR_TESTS_PROTOCOL_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/protocol.h"

/* 2026-11-28T10:00:00Z, the start of the fixture schedule. */
#define FIX_T0 INT64_C(1795860000000000)
#define SEC(s) ((int64_t)((s) * 1000000.0 + 0.5))

/* A snapshot with every field of every kind set (4 items: file,
 * webstream with a crossfade, live in a show, silence). */
void fix_snapshot(struct proto_snapshot *s);
/* An event of kind k with every field that applies to it set. */
void fix_event(struct proto_event *e, enum proto_event_kind k);
/* A command of kind k with every field that applies to it set. */
void fix_command(struct proto_command *c, enum proto_command_kind k);
/* A reply; with_status adds a status with outputs; !ok sets an error. */
void fix_reply(struct proto_reply *r, bool ok, bool with_status);
/* A task of kind k with every field that applies to it set. */
void fix_task(struct proto_task *t, enum proto_task_kind k);

/* Field-by-field equality, with cmocka asserts. */
void assert_snapshot_equal(const struct proto_snapshot *a, const struct proto_snapshot *b);
void assert_event_equal(const struct proto_event *a, const struct proto_event *b);
void assert_command_equal(const struct proto_command *a, const struct proto_command *b);
void assert_reply_equal(const struct proto_reply *a, const struct proto_reply *b);
void assert_task_equal(const struct proto_task *a, const struct proto_task *b);

/*
 * Parse json, then set the member at path ("items.1.media.hash": dots
 * between object keys and array indexes) to the JSON text value, or delete
 * it when value is NULL. Returns the new compact text (free() it).
 */
char *json_mutate(const char *json, const char *path, const char *value);

/* A JSON string literal of n copies of c, prefixed by prefix (free() it). */
char *json_long_string(const char *prefix, char c, size_t n);

/* One row of a rejection table: mutate a valid message, expect failure. */
struct reject_case {
	const char *name;	/* test name */
	const char *path;	/* as json_mutate; NULL: no mutation */
	const char *value;	/* JSON text, or NULL to delete */
	char *(*gen)(void);	/* when set, makes the value instead */
	int rc;			/* expected return (0 means -EINVAL) */
	const char *err;	/* expected substring of the error text */
};

/* A decoder under test, with its release. */
struct codec {
	int (*decode)(const char *json, size_t len, void *out, struct proto_error *err);
	int (*encode)(const void *msg, struct buf *out);
	void (*release)(void *msg);
	size_t size;	/* of the struct */
};

extern const struct codec codec_snapshot, codec_event, codec_command, codec_reply, codec_task;

/*
 * Run the rows as one cmocka group named group: each row mutates the JSON
 * text base (made by the caller) and checks that the codec refuses it with
 * the row's rc and error text. Returns the number of failed rows.
 */
int run_reject_group(const char *group, const struct codec *codec, const char *base,
		     const struct reject_case *rows, size_t n);

#endif
