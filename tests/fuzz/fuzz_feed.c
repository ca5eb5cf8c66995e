/*
 * fuzz_feed.c - libFuzzer target for the podcast feed parser
 * (worker/feed.h).
 *
 * The input is a feed document. When it parses, what comes out must keep
 * the parser's promises: every string valid UTF-8 within its bound,
 * every enclosure an absolute http(s) URL, no more episodes than the cap,
 * guids unique, sizes and durations positive or -1. A short input is
 * also read as a date and as a duration. Anything else aborts; ASan/LSan
 * catch stray accesses and leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/feed.h"
#include "worker/tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "invariant broken: %s\n", what);
	abort();
}

static void check_text(const char *s, size_t max, bool nullable, const char *what)
{
	if (!s) {
		if (!nullable)
			die(what);
		return;
	}
	size_t n = strlen(s);
	if (n > max || !text_utf8_valid(s, n))
		die(what);
}

static void check_url(const char *s, bool nullable, const char *what)
{
	check_text(s, FEED_URL_MAX, nullable, what);
	if (s && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		die(what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f;
	char err[256];
	int r = feed_parse((const char *)data, size, "https://fuzz.example/a/feed.xml", &f, err,
			   sizeof(err));
	if (r == 0) {
		check_text(f.title, FEED_TEXT_MAX, false, "feed title");
		check_text(f.description, FEED_DESCRIPTION_MAX, false, "feed description");
		check_url(f.image_url, true, "feed image");
		check_url(f.link, true, "feed link");
		if (f.n > FEED_MAX_EPISODES)
			die("too many episodes");
		for (size_t i = 0; i < f.n; i++) {
			const struct feed_episode *e = &f.episodes[i];
			check_text(e->guid, FEED_URL_MAX, false, "guid");
			check_text(e->title, FEED_TEXT_MAX, false, "episode title");
			check_text(e->description, FEED_DESCRIPTION_MAX, false, "description");
			check_text(e->enclosure_type, FEED_TEXT_MAX, true, "enclosure type");
			check_url(e->enclosure_url, false, "enclosure url");
			if (e->enclosure_size == 0 || e->enclosure_size < -1)
				die("enclosure size");
			if (e->duration_us == 0 || e->duration_us < -1)
				die("duration");
			/* Guids are unique (checked for small feeds: quadratic). */
			for (size_t j = 0; j < i && f.n <= 200; j++)
				if (strcmp(f.episodes[j].guid, e->guid) == 0)
					die("duplicate guid");
		}
		feed_release(&f);
	} else if (f.episodes || f.title || f.n) {
		die("failed parse left a half-filled feed");
	}

	if (size < 200) {
		char s[200];
		memcpy(s, data, size);
		s[size] = '\0';
		feed_parse_date(s);
		int64_t d = feed_parse_duration(s);
		if (d == 0 || d < -1)
			die("duration of a string");
	}
	return 0;
}
