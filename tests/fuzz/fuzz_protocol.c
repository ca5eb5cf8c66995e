/*
 * fuzz_protocol.c - libFuzzer target for the protocol decoders.
 *
 * The first byte selects the decoder (modulo 5: snapshot, event, command,
 * reply, task); the rest is the message. When a decode succeeds, the
 * message must validate, encode, decode again, and encode to the same
 * bytes; anything else is a bug and aborts. Errors must leave the struct
 * released (ASan/LSan catch leaks and stray accesses).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const struct proto_error *err)
{
	fprintf(stderr, "invariant broken: %s%s%s\n", what, err ? ": " : "", err ? err->text : "");
	abort();
}

/* Encode decoded message m1, decode the result into m2, encode m2 and
 * compare; T is the message name (snapshot, event, ...). */
#define CHECK(T, json, len)                                                             \
	do {                                                                            \
		struct proto_##T m1, m2;                                                \
		struct proto_error err;                                                 \
		struct buf b1, b2;                                                      \
		if (proto_##T##_decode(json, len, &m1, &err) < 0)                       \
			break;                                                          \
		if (proto_##T##_validate(&m1, &err) < 0)                                \
			die(#T ": decoded message does not validate", &err);            \
		buf_init(&b1, PROTO_MESSAGE_MAX);                                       \
		buf_init(&b2, PROTO_MESSAGE_MAX);                                       \
		if (proto_##T##_encode(&m1, &b1) < 0)                                   \
			die(#T ": decoded message does not encode", NULL);              \
		if (proto_##T##_decode(b1.data, b1.len, &m2, &err) < 0)                 \
			die(#T ": re-encoded message does not decode", &err);           \
		if (proto_##T##_encode(&m2, &b2) < 0)                                   \
			die(#T ": second decode does not encode", NULL);                \
		if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)          \
			die(#T ": re-encoding differs", NULL);                          \
		extra_##T(&m1, &m2);                                                    \
		proto_##T##_release(&m1);                                               \
		proto_##T##_release(&m2);                                               \
		buf_release(&b1);                                                       \
		buf_release(&b2);                                                       \
	} while (0)

/* Snapshot: item_at must find each item at its own start, and nothing
 * just before the first one. */
static void extra_snapshot(const struct proto_snapshot *a, const struct proto_snapshot *b)
{
	if (a->n_items != b->n_items)
		die("snapshot: item count changed", NULL);
	for (size_t i = 0; i < a->n_items; i++) {
		if (proto_snapshot_item_at(a, a->items[i].start) != (long)i)
			die("snapshot: item_at(items[i].start) != i", NULL);
		if (proto_snapshot_item_at(a, a->items[i].end - 1) < (long)i)
			die("snapshot: item_at(items[i].end - 1) < i", NULL);
	}
	if (a->n_items && proto_snapshot_item_at(a, a->items[0].start - 1) != -1)
		die("snapshot: item_at before the first item", NULL);
}

static void extra_event(const struct proto_event *a, const struct proto_event *b)
{
	if (a->seq != b->seq || a->kind != b->kind || a->at != b->at)
		die("event: fields changed", NULL);
}

static void extra_command(const struct proto_command *a, const struct proto_command *b)
{
	if (a->kind != b->kind || strcmp(a->id, b->id) != 0)
		die("command: fields changed", NULL);
}

static void extra_reply(const struct proto_reply *a, const struct proto_reply *b)
{
	if (a->ok != b->ok || a->has_status != b->has_status)
		die("reply: fields changed", NULL);
}

static void extra_task(const struct proto_task *a, const struct proto_task *b)
{
	if (a->kind != b->kind || a->created_at != b->created_at)
		die("task: fields changed", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *json = (const char *)data + 1;
	size_t len = size - 1;
	char type[16];
	proto_message_type(json, len, type, sizeof(type));
	switch (data[0] % 5) {
	case 0:
		CHECK(snapshot, json, len);
		break;
	case 1:
		CHECK(event, json, len);
		break;
	case 2:
		CHECK(command, json, len);
		break;
	case 3:
		CHECK(reply, json, len);
		break;
	default:
		CHECK(task, json, len);
		break;
	}
	return 0;
}
