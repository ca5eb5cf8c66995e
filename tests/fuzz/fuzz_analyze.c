/*
 * fuzz_analyze.c - libFuzzer target for the media analysis.
 *
 * The input is a media file. analyze_buffer() reads it through a custom
 * AVIOContext (read and seek callbacks over the buffer, no temporary
 * file), with small limits so one input cannot take long. Whatever the
 * bytes, the analysis must end with a verdict, and a result must hold
 * together; anything else is a bug and aborts.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/analyze.h"
#include "worker/tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const struct analysis *a)
{
	fprintf(stderr, "invariant broken: %s (ok=%d reason='%s')\n", what, a->ok, a->reason);
	abort();
}

static void check_text(const char *s, const struct analysis *a)
{
	if (s && (!text_utf8_valid(s, strlen(s)) || strlen(s) > ANALYZE_TAG_MAX))
		die("tag is not valid UTF-8 or too long", a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct analyze_options o;
	analyze_options_init(&o);
	o.time_limit_us = 3 * 1000000;
	o.max_duration_us = 600 * 1000000LL;
	o.waveform_buckets = 64;
	o.artwork_max_bytes = 1 << 20;
	struct analysis a;
	int r = analyze_buffer(data, size, NULL, &o, &a);
	if ((r == 0) != a.ok)
		die("return code and ok disagree", &a);
	if (!a.ok && !a.reason[0])
		die("failure without a reason", &a);
	if (a.ok) {
		if (a.samples <= 0 || a.sample_rate_hz < ANALYZE_MIN_RATE ||
		    a.sample_rate_hz > ANALYZE_MAX_RATE || a.channels < 1 ||
		    a.channels > ANALYZE_MAX_CHANNELS)
			die("ok without sane audio", &a);
		if (a.cue_in_us < 0 || a.cue_in_us > a.cue_out_us || a.cue_out_us > a.duration_us)
			die("cue points out of order", &a);
		if (!a.waveform || a.waveform_buckets != 64)
			die("no waveform", &a);
		if (isnan(a.true_peak_dbtp) || a.true_peak_dbtp < a.sample_peak_dbfs - 0.001)
			die("true peak below sample peak", &a);
		if (strncmp(a.content_hash, "sha256:", 7) != 0)
			die("no content hash", &a);
	}
	const struct analysis_tags *t = &a.tags;
	const char *texts[] = { t->title, t->artist, t->album, t->genre, t->date,
				t->composer, t->label, t->isrc, t->comment, t->language };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		check_text(texts[i], &a);
	if ((a.artwork == NULL) != (a.artwork_bytes == 0) || a.artwork_bytes > o.artwork_max_bytes)
		die("artwork inconsistent", &a);
	analysis_release(&a);
	return 0;
}
