/*
 * test_station_feed.c - the station's own podcast feed: written from the
 * database, parsed back with libxml2 (strictly: it must be well-formed)
 * and with our feed parser, every field checked; titles full of markup,
 * quotes, non-ASCII and control characters survive. Runs on the backend
 * named in argv[1] (sqlite or postgres).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "station_fixture.h"
#include "worker/feed.h"
#include "worker/station_feed.h"

#define NS_ITUNES "http://www.itunes.com/dtds/podcast-1.0.dtd"
#define BASE "https://radio.example"

static int setup(void **state)
{
	*state = fixture_db();
	return 0;
}

static int teardown(void **state)
{
	db_close(*state);
	return 0;
}

/* Parse the feed strictly (no recovery, no network, no entities). */
static xmlDocPtr parse_strict(const struct buf *b)
{
	xmlDocPtr doc = xmlReadMemory(b->data, (int)b->len, "feed.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		fail_msg("not well-formed XML:\n%s", b->data);
	return doc;
}

static xmlNodePtr child(xmlNodePtr n, const char *name, const char *ns)
{
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, name) != 0)
			continue;
		if (ns ? (c->ns && strcmp((const char *)c->ns->href, ns) == 0) : !c->ns)
			return c;
	}
	return NULL;
}

/* Text of child name of n, compared with want (NULL: no such child). */
static void expect_text(xmlNodePtr n, const char *name, const char *ns, const char *want)
{
	xmlNodePtr c = child(n, name, ns);
	if (!want) {
		if (c)
			fail_msg("<%s> present", name);
		return;
	}
	if (!c)
		fail_msg("no <%s>", name);
	xmlChar *t = xmlNodeGetContent(c);
	if (strcmp((const char *)t, want) != 0)
		fail_msg("<%s>: \"%s\", want \"%s\"", name, (const char *)t, want);
	xmlFree(t);
}

static void expect_attr(xmlNodePtr n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	if (!v || strcmp((const char *)v, want) != 0)
		fail_msg("%s=\"%s\", want \"%s\"", name, v ? (const char *)v : "(none)", want);
	xmlFree(v);
}

static void test_empty_station(void **state)
{
	struct db *db = *state;
	struct buf b;
	buf_init(&b, 1u << 20);
	assert_int_equal(station_feed_write(db, BASE "/", &b), 0);
	xmlDocPtr doc = parse_strict(&b);
	xmlNodePtr rss = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)rss->name, "rss");
	expect_attr(rss, "version", "2.0");
	xmlNodePtr ch = child(rss, "channel", NULL);
	assert_non_null(ch);
	expect_text(ch, "title", NULL, "onair");
	expect_text(ch, "link", NULL, BASE);
	expect_text(ch, "description", NULL, "");
	expect_text(ch, "author", NS_ITUNES, "onair");
	assert_null(child(ch, "item", NULL));
	xmlFreeDoc(doc);
	buf_release(&b);
}

static void test_items(void **state)
{
	struct db *db = *state;
	fixture_exec(db, "UPDATE station_settings SET name = $1, description = $2",
		     DB_PARAMS(DB_T("Radio <Zürich> & \"Friends\""), DB_T("Talk ]]> & music")));
	const char *nasty = "Tom & Jerry's <\"Best\"> "
			    "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 ]]> "
			    "\xf0\x9f\x8e\xb5\x01\x1f end";
	const char *clean = "Tom & Jerry's <\"Best\"> "
			    "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 ]]> "
			    "\xf0\x9f\x8e\xb5 end";
	int64_t a = fixture_file(db, nasty, "A & B <c>", 205 * USEC_PER_SEC + 400000);
	int64_t b2 = fixture_file(db, NULL, NULL, 3600 * USEC_PER_SEC);
	int64_t hidden = fixture_file(db, "not published", NULL, USEC_PER_SEC);
	int64_t broken = fixture_file(db, "failed import", NULL, USEC_PER_SEC);
	int64_t t_a = INT64_C(1704276000) * USEC_PER_SEC;	/* Wed, 03 Jan 2024 10:00:00 */
	int64_t t_b = INT64_C(1709287200) * USEC_PER_SEC;	/* Fri, 01 Mar 2024 10:00:00 */
	fixture_exec(db, "UPDATE files SET published_at = $1, comment = $2 WHERE id = $3",
		     DB_PARAMS(DB_I(t_a), DB_T("<p>Notes &amp; more</p>"), DB_I(a)));
	fixture_exec(db, "UPDATE files SET published_at = $1, mime = 'audio/ogg' WHERE id = $2",
		     DB_PARAMS(DB_I(t_b), DB_I(b2)));
	fixture_exec(db, "UPDATE files SET published_at = $1, import_status = 'failed'"
		     " WHERE id = $2", DB_PARAMS(DB_I(t_b), DB_I(broken)));
	(void)hidden;

	struct buf out;
	buf_init(&out, 1u << 20);
	assert_int_equal(station_feed_write(db, BASE, &out), 0);
	xmlDocPtr doc = parse_strict(&out);
	xmlNodePtr ch = child(xmlDocGetRootElement(doc), "channel", NULL);
	expect_text(ch, "title", NULL, "Radio <Z\xc3\xbcrich> & \"Friends\"");
	expect_text(ch, "description", NULL, "Talk ]]> & music");

	/* Newest first: b2, then a; the others are not there. */
	xmlNodePtr items[4];
	size_t n = 0;
	for (xmlNodePtr c = ch->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "item") == 0 &&
		    n < 4)
			items[n++] = c;
	assert_int_equal(n, 2);

	char want[256];
	snprintf(want, sizeof(want), "File %lld", (long long)b2);
	expect_text(items[0], "title", NULL, want);
	expect_text(items[0], "author", NS_ITUNES, NULL);
	expect_text(items[0], "description", NULL, NULL);
	expect_text(items[0], "pubDate", NULL, "Fri, 01 Mar 2024 10:00:00 +0000");
	expect_text(items[0], "duration", NS_ITUNES, "1:00:00");
	xmlNodePtr enc = child(items[0], "enclosure", NULL);
	assert_non_null(enc);
	snprintf(want, sizeof(want), BASE "/api/v1/files/%lld/content", (long long)b2);
	expect_attr(enc, "url", want);
	expect_attr(enc, "type", "audio/ogg");

	expect_text(items[1], "title", NULL, clean);
	expect_text(items[1], "author", NS_ITUNES, "A & B <c>");
	expect_text(items[1], "description", NULL, "<p>Notes &amp; more</p>");
	expect_text(items[1], "pubDate", NULL, "Wed, 03 Jan 2024 10:00:00 +0000");
	expect_text(items[1], "duration", NS_ITUNES, "0:03:25");
	enc = child(items[1], "enclosure", NULL);
	snprintf(want, sizeof(want), BASE "/api/v1/files/%lld/content", (long long)a);
	expect_attr(enc, "url", want);
	expect_attr(enc, "type", "audio/mpeg");
	char size[32];
	snprintf(size, sizeof(size), "%lld",
		 (long long)fixture_int(db, "SELECT size FROM files WHERE id = $1",
					DB_PARAMS(DB_I(a))));
	expect_attr(enc, "length", size);
	xmlNodePtr guid = child(items[1], "guid", NULL);
	expect_attr(guid, "isPermaLink", "false");
	xmlChar *g = xmlNodeGetContent(guid);
	char hash[128];
	struct db_rows *rows;
	assert_int_equal(db_query(db, "SELECT content_hash FROM files WHERE id = $1",
				  DB_PARAMS(DB_I(a)), &rows), 0);
	assert_true(db_rows_next(rows));
	snprintf(hash, sizeof(hash), "%s", db_col_text(rows, 0));
	db_rows_free(rows);
	assert_string_equal((const char *)g, hash);
	xmlFree(g);
	xmlFreeDoc(doc);

	/* Our own parser reads it back the same. */
	struct feed f;
	char err[256];
	assert_int_equal(feed_parse(out.data, out.len, BASE "/feed.xml", &f, err, sizeof(err)), 0);
	assert_string_equal(f.title, "Radio <Z\xc3\xbcrich> & \"Friends\"");
	assert_int_equal(f.n, 2);
	assert_string_equal(f.episodes[1].title, clean);
	assert_string_equal(f.episodes[1].guid, hash);
	assert_int_equal(f.episodes[1].published_at, t_a);
	assert_int_equal(f.episodes[1].duration_us, 205 * USEC_PER_SEC);
	assert_string_equal(f.episodes[1].enclosure_url, want);
	assert_int_equal(f.episodes[0].published_at, t_b);
	assert_int_equal(f.episodes[0].duration_us, 3600 * USEC_PER_SEC);
	feed_release(&f);

	/* The same rows, the same bytes. */
	struct buf again;
	buf_init(&again, 1u << 20);
	assert_int_equal(station_feed_write(db, BASE, &again), 0);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);
	buf_release(&again);
	buf_release(&out);
}

static void test_refusals(void **state)
{
	struct db *db = *state;
	struct buf b;
	buf_init(&b, 64);
	assert_int_equal(station_feed_write(db, NULL, &b), -EINVAL);
	assert_int_equal(station_feed_write(db, "ftp://radio.example", &b), -EINVAL);
	assert_int_equal(station_feed_write(db, "https://radio.example/a b", &b), -EINVAL);
	assert_int_equal(station_feed_write(db, "https://radio.example\"><x", &b), -EINVAL);
	/* Too small a buffer. */
	assert_int_equal(station_feed_write(db, BASE, &b), -ENOSPC);
	buf_release(&b);
}

int main(int argc, char **argv)
{
	if (fixture_init(argc, argv) < 0)
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_station, setup, teardown),
		cmocka_unit_test_setup_teardown(test_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name(fixture_group("station-feed"), tests, NULL, NULL);
	fixture_fini();
	return failed ? 1 : 0;
}
