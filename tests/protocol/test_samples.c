/*
 * The sample messages of tests/protocol/samples/ (also the documentation's
 * examples and the fuzzing seeds) against the codec:
 *   valid/<type>-*.json     decode, re-encode, decode again, same bytes;
 *   invalid/<type>-*.json   refused, with the error text in the .err file
 *                           beside it ("is newer" means -ONAIR_EPROTO_VERSION).
 * and the ```json examples of docs/protocol.md: accepted.
 * The directory is found through ONAIR_SOURCE_ROOT.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"
#include "fixtures.h"

struct sample {
	char *path;	/* the .json file (the text itself for a doc example) */
	char *name;	/* its file name */
	bool valid;
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	struct buf b;
	buf_init(&b, PROTO_MESSAGE_MAX);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	return buf_detach(&b, len);
}

static const struct codec *codec_for(const char *type)
{
	static const struct {
		const char *type;
		const struct codec *codec;
	} map[] = {
		{ "snapshot", &codec_snapshot }, { "event", &codec_event },
		{ "command", &codec_command },   { "reply", &codec_reply },
		{ "task", &codec_task },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].type, type) == 0)
			return map[i].codec;
	}
	return NULL;
}

static void test_valid(void **state)
{
	const struct sample *s = *state;
	size_t len;
	char *json = read_file(s->path, &len);
	char type[16];
	assert_int_equal(proto_message_type(json, len, type, sizeof(type)), 0);
	assert_int_equal(strncmp(s->name, type, strlen(type)), 0);
	const struct codec *c = codec_for(type);
	assert_non_null(c);

	void *m1 = xcalloc(1, c->size), *m2 = xcalloc(1, c->size);
	struct proto_error err = { "" };
	struct buf b1, b2;
	buf_init(&b1, PROTO_MESSAGE_MAX);
	buf_init(&b2, PROTO_MESSAGE_MAX);
	int rc = c->decode(json, len, m1, &err);
	if (rc != 0)
		fail_msg("%s: %d %s", s->name, rc, err.text);
	assert_int_equal(c->encode(m1, &b1), 0);
	rc = c->decode(b1.data, b1.len, m2, &err);
	if (rc != 0)
		fail_msg("%s re-encoded: %d %s", s->name, rc, err.text);
	assert_int_equal(c->encode(m2, &b2), 0);
	assert_string_equal(b1.data, b2.data);

	c->release(m1);
	c->release(m2);
	free(m1);
	free(m2);
	buf_release(&b1);
	buf_release(&b2);
	free(json);
}

static void test_invalid(void **state)
{
	const struct sample *s = *state;
	size_t len, elen;
	char *json = read_file(s->path, &len);
	size_t plen = strlen(s->path);
	char *err_path = xstrdup(s->path);
	memcpy(err_path + plen - 5, ".err", 5);
	char *want = read_file(err_path, &elen);
	while (elen && (want[elen - 1] == '\n' || want[elen - 1] == '\r'))
		want[--elen] = '\0';
	assert_true(elen > 0);

	char type[16];
	size_t tlen = strcspn(s->name, "-");
	assert_true(tlen < sizeof(type));
	memcpy(type, s->name, tlen);
	type[tlen] = '\0';
	const struct codec *c = codec_for(type);
	if (!c)
		fail_msg("%s: no codec for prefix \"%s\"", s->name, type);

	void *m = xcalloc(1, c->size);
	struct proto_error err = { "" };
	int rc = c->decode(json, len, m, &err);
	int want_rc = strstr(want, "is newer") ? -ONAIR_EPROTO_VERSION : -EINVAL;
	if (rc != want_rc || !strstr(err.text, want))
		fail_msg("%s: rc %d \"%s\", expected rc %d with \"%s\"", s->name, rc, err.text,
			 want_rc, want);
	free(m);
	free(want);
	free(err_path);
	free(json);
}

static int cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* Append the *.json files of dir to *samples. */
static void collect(const char *dir, bool valid, struct sample **samples, size_t *n)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "cannot open %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		*samples = xreallocarray(*samples, *n + 1, sizeof(**samples));
		struct sample *s = &(*samples)[(*n)++];
		size_t plen = strlen(dir) + 1 + len + 1;
		s->path = xmalloc(plen);
		snprintf(s->path, plen, "%s/%s", dir, de->d_name);
		s->name = xstrdup(de->d_name);
		s->valid = valid;
	}
	closedir(d);
}

/* The ```json blocks of docs/protocol.md, each a valid message. */
static void collect_doc_examples(const char *root, struct sample **samples, size_t *n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/docs/protocol.md", root);
	size_t len;
	char *doc = read_file(path, &len);
	const char *p = doc;
	while ((p = strstr(p, "```json\n"))) {
		p += strlen("```json\n");
		const char *end = strstr(p, "```");
		if (!end)
			break;
		*samples = xreallocarray(*samples, *n + 1, sizeof(**samples));
		struct sample *s = &(*samples)[(*n)++];
		s->path = xstrndup(p, (size_t)(end - p));	/* the text itself */
		size_t nlen = 32;
		s->name = xmalloc(nlen);
		snprintf(s->name, nlen, "protocol.md example %zu", *n);
		s->valid = true;
		p = end + 3;
	}
	free(doc);
}

static void test_doc_example(void **state)
{
	const struct sample *s = *state;
	const char *json = s->path;
	size_t len = strlen(json);
	char type[16];
	assert_int_equal(proto_message_type(json, len, type, sizeof(type)), 0);
	const struct codec *c = codec_for(type);
	assert_non_null(c);
	void *m = xcalloc(1, c->size);
	struct proto_error err = { "" };
	int rc = c->decode(json, len, m, &err);
	if (rc != 0)
		fail_msg("%s (%s): %d %s", s->name, type, rc, err.text);
	c->release(m);
	free(m);
}

int main(void)
{
	const char *root = getenv("ONAIR_SOURCE_ROOT");
	if (!root)
		root = ".";
	char dir[4096];
	struct sample *valid = NULL, *invalid = NULL;
	size_t n_valid = 0, n_invalid = 0;
	snprintf(dir, sizeof(dir), "%s/tests/protocol/samples/valid", root);
	collect(dir, true, &valid, &n_valid);
	snprintf(dir, sizeof(dir), "%s/tests/protocol/samples/invalid", root);
	collect(dir, false, &invalid, &n_invalid);
	if (n_valid == 0 || n_invalid == 0) {
		fprintf(stderr, "no samples found under %s/tests/protocol/samples\n", root);
		return 1;
	}
	qsort(valid, n_valid, sizeof(*valid), cmp_sample);
	qsort(invalid, n_invalid, sizeof(*invalid), cmp_sample);

	struct CMUnitTest *tv = xcalloc(n_valid, sizeof(*tv));
	struct CMUnitTest *ti = xcalloc(n_invalid, sizeof(*ti));
	for (size_t i = 0; i < n_valid; i++)
		tv[i] = (struct CMUnitTest){ .name = valid[i].name, .test_func = test_valid,
					     .initial_state = &valid[i] };
	for (size_t i = 0; i < n_invalid; i++)
		ti[i] = (struct CMUnitTest){ .name = invalid[i].name, .test_func = test_invalid,
					     .initial_state = &invalid[i] };
	int failed = _cmocka_run_group_tests("samples-valid", tv, n_valid, NULL, NULL);
	failed += _cmocka_run_group_tests("samples-invalid", ti, n_invalid, NULL, NULL);

	struct sample *docs = NULL;
	size_t n_docs = 0;
	collect_doc_examples(root, &docs, &n_docs);
	if (n_docs < 5) {
		fprintf(stderr, "docs/protocol.md: %zu json examples, expected one per message\n",
			n_docs);
		failed++;
	}
	struct CMUnitTest *td = xcalloc(n_docs ? n_docs : 1, sizeof(*td));
	for (size_t i = 0; i < n_docs; i++)
		td[i] = (struct CMUnitTest){ .name = docs[i].name, .test_func = test_doc_example,
					     .initial_state = &docs[i] };
	if (n_docs)
		failed += _cmocka_run_group_tests("docs-examples", td, n_docs, NULL, NULL);
	for (size_t i = 0; i < n_docs; i++) {
		free(docs[i].path);
		free(docs[i].name);
	}
	free(docs);
	free(td);

	for (size_t i = 0; i < n_valid; i++) {
		free(valid[i].path);
		free(valid[i].name);
	}
	for (size_t i = 0; i < n_invalid; i++) {
		free(invalid[i].path);
		free(invalid[i].name);
	}
	free(valid);
	free(invalid);
	free(tv);
	free(ti);
	return failed ? 1 : 0;
}
