/*
 * Unit tests of the feed parser: complete RSS + iTunes and Atom feeds as
 * podcast hosts write them, then each messy shape on its own (missing
 * enclosures, relative and non-http URLs, odd dates, duplicate and
 * missing guids, huge descriptions, other encodings, invalid UTF-8, HTML,
 * entities, recovery, the caps), with every field checked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "worker/feed.h"
#include "worker/tags.h"

#define FEED_URL "https://pod.example.org/shows/weekly/feed.xml"
#define S(x) ((int64_t)(x) * USEC_PER_SEC)

/* Every string of f is valid UTF-8, every URL absolute http(s). */
static void check_strings(const struct feed *f)
{
	assert_non_null(f->title);
	assert_non_null(f->description);
	assert_true(text_utf8_valid(f->title, strlen(f->title)));
	assert_true(text_utf8_valid(f->description, strlen(f->description)));
	assert_true(strlen(f->description) <= FEED_DESCRIPTION_MAX);
	for (size_t i = 0; i < f->n; i++) {
		const struct feed_episode *e = &f->episodes[i];
		assert_non_null(e->guid);
		assert_non_null(e->title);
		assert_non_null(e->description);
		assert_non_null(e->enclosure_url);
		assert_true(text_utf8_valid(e->guid, strlen(e->guid)));
		assert_true(text_utf8_valid(e->title, strlen(e->title)));
		assert_true(text_utf8_valid(e->description, strlen(e->description)));
		assert_true(strlen(e->description) <= FEED_DESCRIPTION_MAX);
		assert_true(strncmp(e->enclosure_url, "http://", 7) == 0 ||
			    strncmp(e->enclosure_url, "https://", 8) == 0);
	}
}

/* Parse text (NUL-terminated) and expect success. */
static void parse_ok(const char *text, struct feed *f)
{
	char err[256] = "";
	int r = feed_parse(text, strlen(text), FEED_URL, f, err, sizeof(err));
	if (r != 0)
		fail_msg("feed_parse: %d %s", r, err);
	check_strings(f);
}

/* A feed of one RSS channel with items (the text inside <channel>). */
static char *rss(const char *inside)
{
	struct buf b;
	buf_init(&b, 1u << 26);
	buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		       "<rss version=\"2.0\""
		       " xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\""
		       " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\""
		       " xmlns:media=\"http://search.yahoo.com/mrss/\">\n"
		       "<channel><title>T</title>\n");
	buf_append_str(&b, inside);
	buf_append_str(&b, "</channel></rss>\n");
	return buf_detach(&b, NULL);
}

static const char complete_rss[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"\n"
	"     xmlns:atom=\"http://www.w3.org/2005/Atom\"\n"
	"     xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n"
	"  <channel>\n"
	"    <atom:link href=\"https://pod.example.org/shows/weekly/feed.xml\" rel=\"self\""
	" type=\"application/rss+xml\"/>\n"
	"    <title>The Weekly Café</title>\n"
	"    <link>https://pod.example.org/weekly</link>\n"
	"    <language>en-us</language>\n"
	"    <copyright>&#169; 2024 Example</copyright>\n"
	"    <itunes:author>Example Radio</itunes:author>\n"
	"    <description><![CDATA[<p>News &amp; talk, every week.</p>]]></description>\n"
	"    <image><url>https://pod.example.org/small.jpg</url><title>T</title>"
	"<link>https://pod.example.org</link></image>\n"
	"    <itunes:image href=\"https://cdn.example.org/art/weekly-3000.jpg\"/>\n"
	"    <itunes:category text=\"News\"><itunes:category text=\"Daily News\"/>"
	"</itunes:category>\n"
	"    <itunes:explicit>false</itunes:explicit>\n"
	"    <item>\n"
	"      <title>Episode 3: Rain &amp; &#8220;Sun&#8221;</title>\n"
	"      <description>Third &lt;b&gt;episode&lt;/b&gt;.</description>\n"
	"      <content:encoded><![CDATA[<p>Long notes</p>]]></content:encoded>\n"
	"      <pubDate>Fri, 01 Mar 2024 10:00:00 GMT</pubDate>\n"
	"      <guid isPermaLink=\"false\">weekly-ep-3</guid>\n"
	"      <enclosure url=\"https://cdn.example.org/audio/ep3.mp3?src=rss\" length=\"12345678\""
	" type=\"audio/mpeg\"/>\n"
	"      <itunes:duration>1:02:05</itunes:duration>\n"
	"      <itunes:episode>3</itunes:episode>\n"
	"    </item>\n"
	"    <item>\n"
	"      <title>Episode 2</title>\n"
	"      <itunes:summary>Summary of two</itunes:summary>\n"
	"      <pubDate>Sun, 5 Nov 2023 01:00:00 +0100</pubDate>\n"
	"      <guid isPermaLink=\"true\">https://pod.example.org/weekly/2</guid>\n"
	"      <enclosure url=\"audio/ep2.m4a\" length=\"0\" type=\"audio/x-m4a\"/>\n"
	"      <itunes:duration>3725</itunes:duration>\n"
	"    </item>\n"
	"    <item>\n"
	"      <title>Trailer</title>\n"
	"      <pubDate>Fri, 31 Dec 1999 23:59 GMT</pubDate>\n"
	"      <enclosure url=\"//cdn.example.org/audio/trailer.mp3\" type=\"audio/mpeg\"/>\n"
	"      <itunes:duration>62:05</itunes:duration>\n"
	"    </item>\n"
	"    <item>\n"
	"      <title>A blog post without audio</title>\n"
	"      <guid>post-1</guid>\n"
	"    </item>\n"
	"  </channel>\n"
	"</rss>\n";

static void test_complete_rss(void **state)
{
	struct feed f;
	parse_ok(complete_rss, &f);
	assert_string_equal(f.title, "The Weekly Caf\xc3\xa9");
	assert_string_equal(f.description, "<p>News &amp; talk, every week.</p>");
	assert_string_equal(f.image_url, "https://cdn.example.org/art/weekly-3000.jpg");
	assert_string_equal(f.link, "https://pod.example.org/weekly");
	assert_int_equal(f.n, 3);
	assert_int_equal(f.skipped, 1);

	const struct feed_episode *e = &f.episodes[0];
	assert_string_equal(e->guid, "weekly-ep-3");
	assert_string_equal(e->title, "Episode 3: Rain & \xe2\x80\x9cSun\xe2\x80\x9d");
	assert_string_equal(e->description, "Third <b>episode</b>.");
	assert_int_equal(e->published_at, S(1709287200));
	assert_string_equal(e->enclosure_url, "https://cdn.example.org/audio/ep3.mp3?src=rss");
	assert_int_equal(e->enclosure_size, 12345678);
	assert_string_equal(e->enclosure_type, "audio/mpeg");
	assert_int_equal(e->duration_us, S(3725));

	e = &f.episodes[1];
	assert_string_equal(e->guid, "https://pod.example.org/weekly/2");
	assert_string_equal(e->title, "Episode 2");
	assert_string_equal(e->description, "Summary of two");
	assert_int_equal(e->published_at, S(1699142400));
	assert_string_equal(e->enclosure_url, "https://pod.example.org/shows/weekly/audio/ep2.m4a");
	assert_int_equal(e->enclosure_size, -1);
	assert_string_equal(e->enclosure_type, "audio/x-m4a");
	assert_int_equal(e->duration_us, S(3725));

	e = &f.episodes[2];
	assert_string_equal(e->guid, "https://cdn.example.org/audio/trailer.mp3");
	assert_string_equal(e->title, "Trailer");
	assert_string_equal(e->description, "");
	assert_int_equal(e->published_at, S(946684740));
	assert_string_equal(e->enclosure_url, "https://cdn.example.org/audio/trailer.mp3");
	assert_int_equal(e->enclosure_size, -1);
	assert_int_equal(e->duration_us, S(3725));
	feed_release(&f);
}

static const char complete_atom[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"https://atom.example.net/pod/\"\n"
	"      xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">\n"
	"  <title type=\"text\">Atom &lt;Cast&gt;</title>\n"
	"  <subtitle type=\"html\">&lt;i&gt;Sounds&lt;/i&gt;</subtitle>\n"
	"  <link rel=\"self\" href=\"https://atom.example.net/pod/feed.atom\"/>\n"
	"  <link href=\"https://atom.example.net/\"/>\n"
	"  <logo>logo.png</logo>\n"
	"  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>\n"
	"  <updated>2024-01-15T06:30:00Z</updated>\n"
	"  <entry>\n"
	"    <title>First</title>\n"
	"    <id>tag:atom.example.net,2024:1</id>\n"
	"    <updated>2024-01-15T07:30:00+01:00</updated>\n"
	"    <link rel=\"alternate\" href=\"posts/1.html\"/>\n"
	"    <link rel=\"enclosure\" type=\"audio/ogg\" length=\"4242\" href=\"media/1.ogg\"/>\n"
	"    <summary>One</summary>\n"
	"    <itunes:duration>00:10:00</itunes:duration>\n"
	"  </entry>\n"
	"  <entry xml:base=\"https://other.example.com/x/\">\n"
	"    <title type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">"
	"Second <b>one</b></div></title>\n"
	"    <id>tag:atom.example.net,2024:2</id>\n"
	"    <published>2024-03-01T10:00:00Z</published>\n"
	"    <updated>2024-03-02T10:00:00Z</updated>\n"
	"    <content type=\"html\">&lt;p&gt;Two&lt;/p&gt;</content>\n"
	"    <link rel=\"enclosure\" type=\"audio/mpeg\" href=\"2.mp3\"/>\n"
	"  </entry>\n"
	"  <entry>\n"
	"    <title>No audio</title><id>tag:atom.example.net,2024:3</id>\n"
	"    <link href=\"posts/3.html\"/>\n"
	"  </entry>\n"
	"</feed>\n";

static void test_complete_atom(void **state)
{
	struct feed f;
	parse_ok(complete_atom, &f);
	assert_string_equal(f.title, "Atom <Cast>");
	assert_string_equal(f.description, "<i>Sounds</i>");
	assert_string_equal(f.image_url, "https://atom.example.net/pod/logo.png");
	assert_string_equal(f.link, "https://atom.example.net/");
	assert_int_equal(f.n, 2);
	assert_int_equal(f.skipped, 1);

	const struct feed_episode *e = &f.episodes[0];
	assert_string_equal(e->guid, "tag:atom.example.net,2024:1");
	assert_string_equal(e->title, "First");
	assert_string_equal(e->description, "One");
	assert_int_equal(e->published_at, S(1705300200));
	assert_string_equal(e->enclosure_url, "https://atom.example.net/pod/media/1.ogg");
	assert_int_equal(e->enclosure_size, 4242);
	assert_string_equal(e->enclosure_type, "audio/ogg");
	assert_int_equal(e->duration_us, S(600));

	e = &f.episodes[1];
	assert_string_equal(e->title, "Second one");
	assert_string_equal(e->description, "<p>Two</p>");
	assert_int_equal(e->published_at, S(1709287200));
	assert_string_equal(e->enclosure_url, "https://other.example.com/x/2.mp3");
	assert_int_equal(e->enclosure_size, -1);
	assert_int_equal(e->duration_us, -1);
	feed_release(&f);
}

static void test_dates(void **state)
{
	static const struct {
		const char *text;
		int64_t secs;
	} cases[] = {
		{ "Wed, 02 Oct 2002 13:00:00 GMT", 1033563600 },
		{ "Wed, 02 Oct 2002 13:00:00 UT", 1033563600 },
		{ "Wed, 02 Oct 2002 13:00:00 Z", 1033563600 },
		{ "Wed, 02 Oct 2002 08:00:00 EST", 1033563600 },
		{ "Wed, 02 Oct 2002 09:00:00 EDT", 1033563600 },
		{ "Wed, 02 Oct 2002 06:00:00 PDT", 1033563600 },
		{ "Wed, 02 Oct 2002 15:00:00 +0200", 1033563600 },
		{ "Wed, 02 Oct 2002 15:00:00 +02:00", 1033563600 },
		{ "Wed, 02 Oct 2002 03:30:00 -0930", 1033563600 },
		{ "02 Oct 2002 13:00:00 GMT", 1033563600 },
		{ "Wed, 02 Oct 2002 13:00 GMT", 1033563600 },
		{ "Wed, 2 Oct 02 13:00:00 GMT", 1033563600 },
		{ "wed, 02 oct 2002 13:00:00 gmt", 1033563600 },
		{ "Wednesday, 02 October 2002 13:00:00 GMT", 1033563600 },
		{ "Wed, 02 Oct 2002 13:00:00", 1033563600 },
		{ "Wed, 02 Oct 2002 13:00:00.000 GMT", 1033563600 },
		{ "Wed,02 Oct 2002 13:00:00 GMT", 1033563600 },
		{ "  Wed, 02  Oct 2002   13:00:00 GMT  ", 1033563600 },
		{ "Wed, 02 Oct 2002 13:00:00 GMT (Coordinated)", 1033563600 },
		{ "Wed, 02 Oct 2002 14:00:00 CET", 1033563600 },
		{ "Wed, 02 Oct 2002 13:00:00 XYZ", 1033563600 },
		{ "Wed, 02 Oct 2002 15:00:00 GMT+0200", 1033563600 },
		{ "October 2, 2002 13:00 GMT", 1033563600 },
		{ "02-Oct-2002 13:00:00 GMT", 1033563600 },
		{ "Fri, 31 Dec 99 23:59:00 GMT", 946684740 },
		{ "2002-10-02T13:00:00Z", 1033563600 },
		{ "2002-10-02T15:00:00+02:00", 1033563600 },
		{ "2002-10-02T13:00:00", 1033563600 },
		{ "2002-10-02 13:00:00", 1033563600 },
		{ "2002-10-02", 1033516800 },
		{ "", 0 },
		{ "yesterday", 0 },
		{ "Wed, 31 Feb 2002 13:00:00 GMT", 0 },
		{ "Wed, 02 Oct 2002 25:00:00 GMT", 0 },
		{ "Wed, 02 Foo 2002 13:00:00 GMT", 0 },
		{ "Wed, 02 Oct 2002", 0 },
		{ "13:00:00 GMT", 0 },
		{ "Wed, 02 Oct 2002 13:00:00 +9999", 0 },
		{ "2002-13-02T13:00:00Z", 0 },
		{ "1/2/2003", 0 },
		{ "Wed, 02 Oct 123456 13:00:00 GMT", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = feed_parse_date(cases[i].text);
		if (got != S(cases[i].secs))
			fail_msg("\"%s\": got %lld, want %lld", cases[i].text, (long long)got,
				 (long long)S(cases[i].secs));
	}
	assert_int_equal(feed_parse_date(NULL), 0);
	assert_int_equal(feed_parse_date("2002-10-02T13:00:00.250Z"), S(1033563600) + 250000);

	/* And inside a feed. */
	char *text = rss("<item><pubDate>2 Oct 02 09:00 EDT</pubDate>"
			 "<enclosure url=\"https://a.example/1.mp3\"/></item>"
			 "<item><pubDate>not a date</pubDate>"
			 "<enclosure url=\"https://a.example/2.mp3\"/></item>");
	struct feed f;
	parse_ok(text, &f);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.episodes[0].published_at, S(1033563600));
	assert_int_equal(f.episodes[1].published_at, 0);
	feed_release(&f);
	free(text);
}

static void test_durations(void **state)
{
	assert_int_equal(feed_parse_duration("3725"), S(3725));
	assert_int_equal(feed_parse_duration("62:05"), S(3725));
	assert_int_equal(feed_parse_duration("1:02:05"), S(3725));
	assert_int_equal(feed_parse_duration("01:02:05.5"), S(3725) + 500000);
	assert_int_equal(feed_parse_duration(" 90 "), S(90));
	assert_int_equal(feed_parse_duration("120:00"), S(7200));
	assert_int_equal(feed_parse_duration("0"), -1);
	assert_int_equal(feed_parse_duration(""), -1);
	assert_int_equal(feed_parse_duration("abc"), -1);
	assert_int_equal(feed_parse_duration("1:60"), -1);
	assert_int_equal(feed_parse_duration("-5"), -1);
	assert_int_equal(feed_parse_duration("1:2:3:4"), -1);
	assert_int_equal(feed_parse_duration("1h 2m"), -1);
	assert_int_equal(feed_parse_duration(NULL), -1);
}

static void test_enclosures_and_urls(void **state)
{
	char *text = rss(
		"<item><title>none</title><guid>g0</guid></item>"
		"<item><title>empty</title><enclosure url=\"\"/></item>"
		"<item><title>ftp</title><enclosure url=\"ftp://files.example/a.mp3\"/></item>"
		"<item><title>js</title><enclosure url=\"javascript:alert(1)\"/></item>"
		"<item><title>file</title><enclosure url=\"file:///etc/passwd\"/></item>"
		"<item><title>rel</title><enclosure url=\"../audio/a b.mp3\"/></item>"
		"<item><title>abs path</title><enclosure url=\"/x.mp3\" length=\"abc\"/></item>"
		"<item><title>upper</title><enclosure url=\" HTTP://UP.example/x.mp3 \""
		" length=\" 77 \"/></item>"
		"<item><title>second wins</title><enclosure url=\"mailto:x@y\"/>"
		"<enclosure url=\"http://b.example/ok.mp3\" type=\"audio/mpeg\""
		" length=\"-4\"/></item>"
		"<item><title>media</title><media:content url=\"https://m.example/v.mp4\""
		" type=\"video/mp4\"/><media:group><media:content url=\"https://m.example/a.mp3\""
		" type=\"audio/mpeg\" fileSize=\"999\" duration=\"12\"/></media:group></item>"
		"<item><title>utf8</title>"
		"<enclosure url=\"https://a.example/caf\xc3\xa9.mp3\"/></item>");
	struct feed f;
	parse_ok(text, &f);
	assert_int_equal(f.skipped, 5);
	assert_int_equal(f.n, 6);
	assert_string_equal(f.episodes[0].title, "rel");
	assert_string_equal(f.episodes[0].enclosure_url,
			    "https://pod.example.org/shows/audio/a%20b.mp3");
	assert_null(f.episodes[0].enclosure_type);
	assert_string_equal(f.episodes[1].enclosure_url, "https://pod.example.org/x.mp3");
	assert_int_equal(f.episodes[1].enclosure_size, -1);
	assert_string_equal(f.episodes[2].enclosure_url, "http://UP.example/x.mp3");
	assert_int_equal(f.episodes[2].enclosure_size, 77);
	assert_string_equal(f.episodes[3].title, "second wins");
	assert_string_equal(f.episodes[3].enclosure_url, "http://b.example/ok.mp3");
	assert_int_equal(f.episodes[3].enclosure_size, -1);
	assert_string_equal(f.episodes[4].enclosure_url, "https://m.example/a.mp3");
	assert_string_equal(f.episodes[4].enclosure_type, "audio/mpeg");
	assert_int_equal(f.episodes[4].enclosure_size, 999);
	assert_int_equal(f.episodes[4].duration_us, S(12));
	assert_string_equal(f.episodes[5].enclosure_url, "https://a.example/caf%C3%A9.mp3");
	feed_release(&f);
	free(text);

	/* Without a feed URL relative enclosures cannot be resolved. */
	text = rss("<item><enclosure url=\"a.mp3\"/></item>"
		   "<item><enclosure url=\"https://a.example/b.mp3\"/></item>");
	char err[256];
	assert_int_equal(feed_parse(text, strlen(text), NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.skipped, 1);
	assert_string_equal(f.episodes[0].enclosure_url, "https://a.example/b.mp3");
	feed_release(&f);
	free(text);
}

static void test_guids(void **state)
{
	char *text = rss("<item><guid>same</guid><title>first</title>"
			 "<enclosure url=\"https://a.example/1.mp3\"/></item>"
			 "<item><guid>same</guid><title>second</title>"
			 "<enclosure url=\"https://a.example/2.mp3\"/></item>"
			 "<item><guid>  </guid><title>blank guid</title>"
			 "<enclosure url=\"https://a.example/3.mp3\"/></item>"
			 "<item><title>no guid</title>"
			 "<enclosure url=\"https://a.example/4.mp3\"/></item>"
			 "<item><title>no guid, same audio</title>"
			 "<enclosure url=\"https://a.example/4.mp3\"/></item>"
			 "<item><guid>https://a.example/1.mp3</guid><title>guid = url of 1</title>"
			 "<enclosure url=\"https://a.example/5.mp3\"/></item>");
	struct feed f;
	parse_ok(text, &f);
	assert_int_equal(f.n, 4);
	assert_int_equal(f.skipped, 2);
	assert_string_equal(f.episodes[0].guid, "same");
	assert_string_equal(f.episodes[0].title, "first");
	assert_string_equal(f.episodes[1].guid, "https://a.example/3.mp3");
	assert_string_equal(f.episodes[2].guid, "https://a.example/4.mp3");
	assert_string_equal(f.episodes[2].title, "no guid");
	assert_string_equal(f.episodes[3].guid, "https://a.example/1.mp3");
	feed_release(&f);
	free(text);
}

static void test_huge_description(void **state)
{
	/* 100 000 two-byte characters, plus one so the cut falls inside one. */
	struct buf d;
	buf_init(&d, 1u << 20);
	buf_append_str(&d, "<item><enclosure url=\"https://a.example/1.mp3\"/><description>x");
	for (int i = 0; i < 100000; i++)
		buf_append_str(&d, "\xc3\xa9");
	buf_append_str(&d, "</description><title>");
	for (int i = 0; i < 3000; i++)
		buf_append_str(&d, "\xe2\x82\xac");
	buf_append_str(&d, "</title></item>");
	char *text = rss(d.data);
	buf_release(&d);
	struct feed f;
	parse_ok(text, &f);
	assert_int_equal(f.n, 1);
	size_t dl = strlen(f.episodes[0].description);
	assert_true(dl <= FEED_DESCRIPTION_MAX);
	assert_true(dl >= FEED_DESCRIPTION_MAX - 1);
	assert_true(text_utf8_valid(f.episodes[0].description, dl));
	assert_int_equal(f.episodes[0].description[0], 'x');
	size_t tl = strlen(f.episodes[0].title);
	assert_true(tl <= FEED_TEXT_MAX && tl >= FEED_TEXT_MAX - 2);
	assert_int_equal(tl % 3, 0);
	feed_release(&f);
	free(text);
}

static void test_latin1_and_windows1252(void **state)
{
	const char latin1[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
			      "<rss version=\"2.0\"><channel><title>Caf\xe9 M\xfcller</title>"
			      "<item><title>\xc0 la carte \xa9</title>"
			      "<enclosure url=\"https://a.example/1.mp3\"/></item>"
			      "</channel></rss>";
	struct feed f;
	parse_ok(latin1, &f);
	assert_string_equal(f.title, "Caf\xc3\xa9 M\xc3\xbcller");
	assert_int_equal(f.n, 1);
	assert_string_equal(f.episodes[0].title, "\xc3\x80 la carte \xc2\xa9");
	feed_release(&f);

	const char cp1252[] = "<?xml version='1.0' encoding='windows-1252'?>\n"
			      "<rss version=\"2.0\"><channel><title>\x93Quoted\x94 \x80 5</title>"
			      "<item><title>It\x92s</title>"
			      "<enclosure url=\"https://a.example/1.mp3\"/></item>"
			      "</channel></rss>";
	parse_ok(cp1252, &f);
	assert_string_equal(f.title, "\xe2\x80\x9cQuoted\xe2\x80\x9d \xe2\x82\xac 5");
	assert_string_equal(f.episodes[0].title, "It\xe2\x80\x99s");
	feed_release(&f);

	/* UTF-16 with a byte order mark. */
	const char *ascii = "<rss version=\"2.0\"><channel><title>Wide</title>"
			    "<item><enclosure url=\"https://a.example/w.mp3\"/></item>"
			    "</channel></rss>";
	size_t n = strlen(ascii);
	char *wide = calloc(2 * n + 2, 1);
	wide[0] = (char)0xFF;
	wide[1] = (char)0xFE;
	for (size_t i = 0; i < n; i++)
		wide[2 + 2 * i] = ascii[i];
	char err[256];
	assert_int_equal(feed_parse(wide, 2 * n + 2, FEED_URL, &f, err, sizeof(err)), 0);
	assert_string_equal(f.title, "Wide");
	assert_int_equal(f.n, 1);
	feed_release(&f);
	free(wide);
}

static void test_invalid_utf8_refused(void **state)
{
	const char bad[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			   "<rss version=\"2.0\"><channel><title>Caf\xe9</title></channel></rss>";
	struct feed f;
	char err[256] = "";
	assert_int_equal(feed_parse(bad, strlen(bad), FEED_URL, &f, err, sizeof(err)), -EILSEQ);
	assert_non_null(strstr(err, "UTF-8"));
	assert_non_null(strstr(err, "offset 77"));
	assert_null(f.episodes);
	assert_null(f.title);

	/* No declaration means UTF-8 too; so does a byte order mark. */
	const char undeclared[] = "<rss><channel><title>\xff</title></channel></rss>";
	assert_int_equal(feed_parse(undeclared, strlen(undeclared), FEED_URL, &f, err,
				    sizeof(err)), -EILSEQ);
	const char bom[] = "\xef\xbb\xbf<rss><channel><title>\xc3\x28</title></channel></rss>";
	assert_int_equal(feed_parse(bom, strlen(bom), FEED_URL, &f, err, sizeof(err)), -EILSEQ);
	/* Encoded surrogates and overlong forms are not UTF-8 either. */
	const char sur[] = "<rss><channel><title>\xed\xa0\x80</title></channel></rss>";
	assert_int_equal(feed_parse(sur, strlen(sur), FEED_URL, &f, err, sizeof(err)), -EILSEQ);
	const char overlong[] = "<rss><channel><title>\xc0\xaf</title></channel></rss>";
	assert_int_equal(feed_parse(overlong, strlen(overlong), FEED_URL, &f, err, sizeof(err)),
			 -EILSEQ);
}

static void test_html_and_entities(void **state)
{
	char *text = rss("<item><enclosure url=\"https://a.example/1.mp3\"/>"
			 "<title>  Tom &amp; Jerry&#x2019;s  &lt;live&gt;  </title>"
			 "<description><![CDATA[<p>Hello <b>world</b> & \"you\"</p>]]>"
			 "</description>"
			 "</item>"
			 "<item><enclosure url=\"https://a.example/2.mp3\"/>"
			 "<description>&lt;a href=\"x\"&gt;link&lt;/a&gt;</description></item>");
	struct feed f;
	parse_ok(text, &f);
	assert_string_equal(f.episodes[0].title, "Tom & Jerry\xe2\x80\x99s  <live>");
	assert_string_equal(f.episodes[0].description, "<p>Hello <b>world</b> & \"you\"</p>");
	assert_string_equal(f.episodes[1].description, "<a href=\"x\">link</a>");
	feed_release(&f);
	free(text);
}

/* Entities a feed declares are never expanded: not a billion laughs, not
 * a file of this machine. */
static void test_entities_not_expanded(void **state)
{
	const char laughs[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE rss [\n"
		" <!ENTITY a \"lollollollollollollollollollol\">\n"
		" <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
		" <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
		" <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
		" <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
		" <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
		" <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
		" <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
		" <!ENTITY leak SYSTEM \"file:///etc/passwd\">\n"
		"]>\n"
		"<rss version=\"2.0\"><channel><title>A&h;B&leak;C</title>"
		"<item><title>&h;</title><enclosure url=\"https://a.example/&h;.mp3\"/>"
		"<guid>&leak;x</guid></item>"
		"</channel></rss>";
	struct feed f;
	char err[256] = "";
	int r = feed_parse(laughs, strlen(laughs), FEED_URL, &f, err, sizeof(err));
	if (r == 0) {
		assert_null(strstr(f.title, "lol"));
		assert_null(strstr(f.title, "root:"));
		for (size_t i = 0; i < f.n; i++) {
			assert_null(strstr(f.episodes[i].title, "lol"));
			assert_null(strstr(f.episodes[i].guid, "root:"));
			assert_true(strlen(f.episodes[i].enclosure_url) < 100);
		}
		feed_release(&f);
	} else {
		assert_int_equal(r, -EBADMSG);
	}
}

static void test_recovers_broken_xml(void **state)
{
	/* A bare '&', an HTML entity, a missing end tag: still read. */
	const char broken[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<rss version=\"2.0\"><channel><title>Rock & Roll&nbsp;Radio</title>\n"
		"<item><title>One</title>"
		"<enclosure url=\"https://a.example/1.mp3?a=1&b=2\"/></item>\n"
		"<item><title>Two</title><enclosure url=\"https://a.example/2.mp3\"/>\n"
		"</channel></rss>";
	struct feed f;
	parse_ok(broken, &f);
	assert_string_equal(f.title, "Rock & RollRadio");
	assert_true(f.n >= 1);
	assert_string_equal(f.episodes[0].title, "One");
	assert_string_equal(f.episodes[0].enclosure_url, "https://a.example/1.mp3?a=1&b=2");
	feed_release(&f);
}

static void test_refusals(void **state)
{
	struct feed f;
	char err[256];
	assert_int_equal(feed_parse("", 0, FEED_URL, &f, err, sizeof(err)), -EBADMSG);
	const char *junk = "this is not xml at all";
	assert_int_equal(feed_parse(junk, strlen(junk), FEED_URL, &f, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "not XML"));
	const char *html = "<html><head><title>404</title></head><body>Not found</body></html>";
	assert_int_equal(feed_parse(html, strlen(html), FEED_URL, &f, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "<html>"));
	const char *nochannel = "<rss version=\"2.0\"><item/></rss>";
	assert_int_equal(feed_parse(nochannel, strlen(nochannel), FEED_URL, &f, err,
				    sizeof(err)), -EBADMSG);
	const char *rdf = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>";
	assert_int_equal(feed_parse(rdf, strlen(rdf), FEED_URL, &f, err, sizeof(err)), -EBADMSG);
	/* Over the size limit: refused before anything is read. */
	assert_int_equal(feed_parse(junk, (size_t)FEED_MAX_BYTES + 1, FEED_URL, &f, err,
				    sizeof(err)), -E2BIG);
	assert_int_equal(feed_parse(NULL, 0, FEED_URL, &f, err, sizeof(err)), -EINVAL);
	/* err may be NULL. */
	assert_int_equal(feed_parse(junk, strlen(junk), FEED_URL, &f, NULL, 0), -EBADMSG);

	/* An empty channel is a feed with no episodes. */
	const char *empty = "<rss version=\"2.0\"><channel/></rss>";
	assert_int_equal(feed_parse(empty, strlen(empty), FEED_URL, &f, err, sizeof(err)), 0);
	assert_string_equal(f.title, "");
	assert_string_equal(f.description, "");
	assert_null(f.image_url);
	assert_null(f.link);
	assert_int_equal(f.n, 0);
	feed_release(&f);
	feed_release(&f);	/* safe twice */
}

static void test_episode_cap(void **state)
{
	struct buf b;
	buf_init(&b, 1u << 24);
	for (unsigned i = 0; i < FEED_MAX_EPISODES + 5; i++)
		buf_printf(&b, "<item><enclosure url=\"https://a.example/%u.mp3\"/></item>", i);
	char *text = rss(b.data);
	buf_release(&b);
	struct feed f;
	parse_ok(text, &f);
	assert_int_equal(f.n, FEED_MAX_EPISODES);
	assert_int_equal(f.skipped, 5);
	assert_string_equal(f.episodes[FEED_MAX_EPISODES - 1].guid, "https://a.example/9999.mp3");
	feed_release(&f);
	free(text);
}

static void test_channel_fallbacks(void **state)
{
	/* No itunes:image: the RSS image; no description: itunes:summary. */
	char *text = rss("<itunes:summary>About us</itunes:summary>"
			 "<image><url>/img/logo.png</url></image>"
			 "<link>/</link>");
	struct feed f;
	parse_ok(text, &f);
	assert_string_equal(f.title, "T");
	assert_string_equal(f.description, "About us");
	assert_string_equal(f.image_url, "https://pod.example.org/img/logo.png");
	assert_string_equal(f.link, "https://pod.example.org/");
	feed_release(&f);
	free(text);

	/* An image that is not http(s) is left out. */
	text = rss("<itunes:image href=\"data:image/png;base64,AAAA\"/>");
	parse_ok(text, &f);
	assert_null(f.image_url);
	feed_release(&f);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_rss),
		cmocka_unit_test(test_complete_atom),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_enclosures_and_urls),
		cmocka_unit_test(test_guids),
		cmocka_unit_test(test_huge_description),
		cmocka_unit_test(test_latin1_and_windows1252),
		cmocka_unit_test(test_invalid_utf8_refused),
		cmocka_unit_test(test_html_and_entities),
		cmocka_unit_test(test_entities_not_expanded),
		cmocka_unit_test(test_recovers_broken_xml),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_episode_cap),
		cmocka_unit_test(test_channel_fallbacks),
	};
	return cmocka_run_group_tests_name("feed", tests, NULL, NULL);
}
