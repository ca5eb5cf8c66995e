#include "onair/analyze_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/cli.h"
#include "common/runtime.h"
#include "common/timeutil.h"
#include "worker/analyze.h"
#include "worker/tags.h"

static const char usage_text[] =
	"Usage: onair analyze [OPTIONS] FILE...\n"
	"\n"
	"Analyse media files in one decode pass each and print one JSON object\n"
	"per file per line (see docs/analysis.md). Exit code 1 when any file\n"
	"is not playable.\n"
	"\n"
	"Options:\n"
	"  --waveform[=N]             include a waveform of N buckets (default 1000)\n"
	"  --silence-threshold=DBFS   level of sound for cue points (default -60)\n"
	"  --silence-min=SECONDS      shortest silence cut at either end (default 0.02)\n"
	"  --time-limit=SECONDS       wall-clock limit per file (default 120)\n"
	"  --max-duration=SECONDS     longest audio accepted (default 43200)\n"
	"  --no-hash                  do not compute the SHA-256 content hash\n"
	"  -h, --help                 show this help\n";

static bool stop_requested;

/* analyze_options.cancel: a pending SIGINT or SIGTERM (blocked by main). */
static bool cancel_on_signal(void *opaque)
{
	if (!stop_requested && runtime_wait_signal(0) > 0)
		stop_requested = true;
	return stop_requested;
}

/* A JSON string of s; bytes that are not valid UTF-8 become '?'. */
static json_t *text(const char *s)
{
	size_t n = strlen(s);
	if (text_utf8_valid(s, n))
		return json_stringn(s, n);
	char *copy = xstrdup(s);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)copy[i];
		size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (len <= n - i && text_utf8_valid(copy + i, len)) {
			i += len;
			continue;
		}
		copy[i++] = '?';
	}
	json_t *j = json_stringn(copy, n);
	free(copy);
	return j;
}

/* A number rounded to step, or null when not finite. */
static json_t *number(double v, double step)
{
	if (!isfinite(v))
		return json_null();
	return json_real(round(v / step) * step);
}

static json_t *seconds(int64_t us)
{
	return json_real((double)us / USEC_PER_SEC);
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

static json_t *tags_json(const struct analysis_tags *t)
{
	json_t *o = json_object();
	const struct {
		const char *key;
		const char *value;
	} strings[] = {
		{ "title", t->title },	     { "artist", t->artist }, { "album", t->album },
		{ "genre", t->genre },	     { "date", t->date },     { "composer", t->composer },
		{ "label", t->label },	     { "isrc", t->isrc },     { "comment", t->comment },
		{ "language", t->language },
	};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if (strings[i].value)
			set(o, strings[i].key, text(strings[i].value));
	}
	const struct {
		const char *key;
		int value;
	} ints[] = {
		{ "year", t->year },		   { "track_number", t->track_number },
		{ "track_total", t->track_total }, { "disc_number", t->disc_number },
		{ "disc_total", t->disc_total },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (ints[i].value > 0)
			set(o, ints[i].key, json_integer(ints[i].value));
	}
	if (t->bpm > 0)
		set(o, "bpm", number(t->bpm, 0.01));
	return o;
}

static json_t *to_json(const char *path, const struct analysis *a, bool with_waveform)
{
	json_t *o = json_object();
	set(o, "file", text(path));
	set(o, "ok", json_boolean(a->ok));
	set(o, "reason", a->ok ? json_null() : text(a->reason));
	json_t *w = json_array();
	for (size_t i = 0; i < a->n_warnings; i++)
		json_array_append_new(w, text(a->warnings[i]));
	set(o, "warnings", w);
	set(o, "container", a->container[0] ? text(a->container) : json_null());
	set(o, "codec", a->codec[0] ? text(a->codec) : json_null());
	bool decoded = a->samples > 0;
	set(o, "sample_rate_hz", decoded ? json_integer(a->sample_rate_hz) : json_null());
	set(o, "channels", decoded ? json_integer(a->channels) : json_null());
	set(o, "channel_layout", decoded && a->channel_layout[0] ? text(a->channel_layout)
							      : json_null());
	set(o, "bitrate_bps", decoded ? json_integer(a->bitrate_bps) : json_null());
	set(o, "samples", json_integer(a->samples));
	set(o, "duration_s", decoded ? seconds(a->duration_us) : json_null());
	set(o, "declared_duration_s",
	    a->declared_duration_us >= 0 ? seconds(a->declared_duration_us) : json_null());
	set(o, "loudness_lufs", decoded ? number(a->loudness_lufs, 0.01) : json_null());
	set(o, "loudness_range_lu", decoded ? number(a->loudness_range_lu, 0.01) : json_null());
	set(o, "true_peak_dbtp", decoded ? number(a->true_peak_dbtp, 0.01) : json_null());
	set(o, "sample_peak_dbfs", decoded ? number(a->sample_peak_dbfs, 0.01) : json_null());
	set(o, "replaygain_track_gain_db",
	    decoded ? number(a->replaygain_track_gain_db, 0.01) : json_null());
	set(o, "cue_in_s", decoded ? seconds(a->cue_in_us) : json_null());
	set(o, "cue_out_s", decoded ? seconds(a->cue_out_us) : json_null());
	set(o, "silent", decoded ? json_boolean(a->silent) : json_null());
	set(o, "tags", tags_json(&a->tags));
	if (a->artwork) {
		json_t *art = json_object();
		set(art, "mime", text(a->artwork_mime));
		set(art, "bytes", json_integer((json_int_t)a->artwork_bytes));
		set(o, "artwork", art);
	} else {
		set(o, "artwork", json_null());
	}
	set(o, "content_hash", a->content_hash[0] ? text(a->content_hash) : json_null());
	if (with_waveform) {
		if (a->waveform) {
			json_t *wf = json_object();
			json_t *mins = json_array(), *maxs = json_array();
			for (size_t i = 0; i < a->waveform_buckets; i++) {
				json_array_append_new(mins, number(a->waveform[i].min, 0.0001));
				json_array_append_new(maxs, number(a->waveform[i].max, 0.0001));
			}
			set(wf, "buckets", json_integer((json_int_t)a->waveform_buckets));
			set(wf, "min", mins);
			set(wf, "max", maxs);
			set(o, "waveform", wf);
		} else {
			set(o, "waveform", json_null());
		}
	}
	return o;
}

/* Parse a number option: 0, or -EINVAL (reported). */
static int parse_double(const char *name, const char *arg, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v > max) {
		fprintf(stderr, "onair analyze: invalid %s '%s'\n", name, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

enum {
	OPT_WAVEFORM = 256,
	OPT_THRESHOLD,
	OPT_SILENCE_MIN,
	OPT_TIME_LIMIT,
	OPT_MAX_DURATION,
	OPT_NO_HASH,
};

int analyze_command(const struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "waveform", optional_argument, NULL, OPT_WAVEFORM },
		{ "silence-threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "silence-min", required_argument, NULL, OPT_SILENCE_MIN },
		{ "time-limit", required_argument, NULL, OPT_TIME_LIMIT },
		{ "max-duration", required_argument, NULL, OPT_MAX_DURATION },
		{ "no-hash", no_argument, NULL, OPT_NO_HASH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct analyze_options ao;
	analyze_options_init(&ao);
	bool with_waveform = false;
	double v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_WAVEFORM:
			with_waveform = true;
			if (optarg) {
				if (parse_double("--waveform", optarg, 1, 100000, &v) < 0)
					return EXIT_USAGE;
				ao.waveform_buckets = (size_t)v;
			}
			break;
		case OPT_THRESHOLD:
			if (parse_double("--silence-threshold", optarg, -200, 0, &v) < 0)
				return EXIT_USAGE;
			ao.silence_threshold_dbfs = v;
			break;
		case OPT_SILENCE_MIN:
			if (parse_double("--silence-min", optarg, 0, 3600, &v) < 0)
				return EXIT_USAGE;
			ao.silence_min_us = (int64_t)(v * USEC_PER_SEC);
			break;
		case OPT_TIME_LIMIT:
			if (parse_double("--time-limit", optarg, 0.001, 86400, &v) < 0)
				return EXIT_USAGE;
			ao.time_limit_us = (int64_t)(v * USEC_PER_SEC);
			break;
		case OPT_MAX_DURATION:
			if (parse_double("--max-duration", optarg, 0.001, 7 * 86400, &v) < 0)
				return EXIT_USAGE;
			ao.max_duration_us = (int64_t)(v * USEC_PER_SEC);
			break;
		case OPT_NO_HASH:
			ao.hash = false;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_SUCCESS;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "onair analyze: no file given\n%s", usage_text);
		return EXIT_USAGE;
	}
	if (!with_waveform)
		ao.waveform_buckets = 0;
	ao.cancel = cancel_on_signal;

	int code = EXIT_SUCCESS;
	for (int i = optind; i < argc && !stop_requested; i++) {
		struct analysis a;
		analyze_file(argv[i], &ao, &a);
		json_t *o = to_json(argv[i], &a, with_waveform);
		json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(12));
		fputc('\n', stdout);
		fflush(stdout);
		json_decref(o);
		if (!a.ok) {
			fprintf(stderr, "onair analyze: %s: %s\n", argv[i], a.reason);
			code = EXIT_FAILURE;
		}
		analysis_release(&a);
	}
	return code;
}
