/*
 * analyze.h - analysis of one media file in a single decode pass.
 *
 * analyze_file() opens a file with FFmpeg, decodes its audio once and
 * measures, on the way:
 *   - container, codec, sample rate, channels, average bitrate;
 *   - the exact duration (decoded samples counted, headers not trusted);
 *   - tags (title, artist, ...) as valid UTF-8, and embedded artwork;
 *   - integrated loudness and loudness range (EBU R 128: libebur128's
 *     K-weighting, our gating, loudness.h), true peak (BS.1770-4 Annex 2
 *     4x oversampling, truepeak.h), sample peak and the ReplayGain 2.0
 *     track gain;
 *   - cue in / cue out from leading and trailing silence;
 *   - a waveform summary (min/max per bucket);
 *   - the SHA-256 of the file's bytes;
 * and gives a verdict: ok (playable) or not, with a reason.
 *
 * Hostile input is expected: every file gets a wall-clock time limit, a
 * duration limit and bounded allocations; nothing is allocated by what a
 * header claims. Only audio demuxers are enabled, and a demuxer cannot
 * open other files or URLs.
 *
 * Thread-safety: analyses may run in parallel threads, each with its own
 * struct analysis. FFmpeg's log output is routed into our log (debug
 * level) the first time an analysis starts; that setting is process-wide.
 */
#ifndef ONAIR_WORKER_ANALYZE_H
#define ONAIR_WORKER_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANALYSIS_REASON_MAX 256		/* reason text, with its NUL */
#define ANALYSIS_WARNINGS_MAX 8		/* warnings kept; later ones are dropped */
#define ANALYSIS_WARNING_LEN 192	/* one warning, with its NUL */
#define ANALYSIS_HASH_LEN 72		/* "sha256:" + 64 hex digits + NUL */
#define ANALYZE_MAX_CHANNELS 32		/* more is "absurd channel count" */
#define ANALYZE_MIN_RATE 8000		/* sample rates outside [min, max] are absurd */
#define ANALYZE_MAX_RATE 384000
#define ANALYZE_TAG_MAX 4096		/* longest tag value kept, in bytes */

struct analyze_options {
	/* A sample counts as sound when its magnitude on any channel is above
	 * this level (dBFS). Default -60. */
	double silence_threshold_dbfs;
	/* Leading or trailing silence shorter than this is not cut (cue in
	 * stays 0, cue out stays at the end). Default 20 ms. */
	int64_t silence_min_us;
	/* Waveform buckets to compute (struct analysis.waveform); 0 for
	 * none. Default 1000, at most 100000. */
	size_t waveform_buckets;
	/* Wall-clock limit for the whole analysis, hashing included. Default
	 * 120 s. Past it the file fails with "took longer than ...". */
	int64_t time_limit_us;
	/* Audio longer than this fails (decoding stops there). Default 12 h. */
	int64_t max_duration_us;
	/* Artwork larger than this is left out (with a warning). Default 10 MiB. */
	size_t artwork_max_bytes;
	/* Decoder errors tolerated as warnings: a file with more than
	 * max_decode_errors errors, or with more than one error and errors in
	 * more than 1% of its packets, fails. Default 5. */
	unsigned max_decode_errors;
	/* Compute content_hash. Default true. */
	bool hash;
	/* Polled about every 100 ms; when it returns true the analysis stops
	 * and fails with reason "cancelled". May be NULL. */
	bool (*cancel)(void *opaque);
	void *cancel_opaque;
};

/* Min and max sample value of one waveform bucket, over all channels,
 * as float with full scale at +-1.0 (decoded float audio may exceed it). */
struct analysis_peak {
	float min;
	float max;
};

/* Tag values: NUL-terminated valid UTF-8 (text that was not valid UTF-8
 * is read as Windows-1252), trimmed, at most ANALYZE_TAG_MAX bytes; NULL
 * when the file does not have the tag. Numbers are 0 when unknown. */
struct analysis_tags {
	char *title;
	char *artist;
	char *album;
	char *genre;
	char *date;		/* as written: "2004", "2004-05-01", ... */
	char *composer;
	char *label;		/* label or publisher */
	char *isrc;
	char *comment;
	char *language;
	int year;		/* from date: 1000..2999, or 0 */
	int track_number;
	int track_total;
	int disc_number;
	int disc_total;
	double bpm;		/* 0 < bpm < 1000, or 0 */
};

/*
 * The result of one analysis. The fields that could be measured before a
 * failure keep their values (container and codec of a file that fails
 * to decode, for example); the rest stay at their initial values (0,
 * NULL, "" or -INFINITY). Release with analysis_release().
 */
struct analysis {
	bool ok;		/* playable: decoded cleanly within the limits */
	char reason[ANALYSIS_REASON_MAX];	/* why not ok; "" when ok */
	/* Problems that do not make the file unplayable ("2 decoder errors,
	 * first at 12.3 s: ...", "silent", ...). */
	char warnings[ANALYSIS_WARNINGS_MAX][ANALYSIS_WARNING_LEN];
	size_t n_warnings;

	char container[32];	/* FFmpeg demuxer name: "mp3", "ogg", "mov,mp4,m4a,3gp,3g2,mj2" */
	char codec[32];		/* FFmpeg codec name: "mp3", "vorbis", "aac" */
	char channel_layout[64];	/* "stereo", "5.1", ... */
	int sample_rate_hz;
	int channels;
	/* Average bitrate of the audio stream: its packet bytes over the
	 * decoded duration (not the header's figure). */
	int64_t bitrate_bps;
	int64_t samples;	/* decoded sample frames (per channel) */
	int64_t duration_us;	/* samples / sample_rate_hz */
	/* Duration the container declares, or -1 when it declares none worth
	 * trusting (a bitrate estimate). */
	int64_t declared_duration_us;

	/* Levels. The peaks are -INFINITY for digital silence; the loudness
	 * is -INFINITY when no 400 ms block passes the -70 LUFS gate (silence,
	 * or less than 400 ms of audio), and the gain is then NaN. */
	double loudness_lufs;		/* integrated loudness, BS.1770-4 / EBU R 128 */
	double loudness_range_lu;	/* EBU Tech 3342; 0 with less than 3 s of sound */
	double true_peak_dbtp;		/* BS.1770-4 Annex 2, 4x; never below the sample peak */
	double sample_peak_dbfs;
	double replaygain_track_gain_db;	/* ReplayGain 2.0: -18 LUFS - loudness */

	/* Cue points from silence (analyze_options.silence_threshold_dbfs):
	 * cue_in_us is the first instant a sample is above the threshold,
	 * cue_out_us the instant just after the last such sample. A silent
	 * file has 0 and duration_us, and the warning "silent". */
	int64_t cue_in_us;
	int64_t cue_out_us;
	bool silent;

	/* waveform[0..waveform_buckets-1]: bucket i covers the samples from
	 * i * samples / n to (i + 1) * samples / n. Owned; NULL when not
	 * asked for or nothing was decoded. */
	struct analysis_peak *waveform;
	size_t waveform_buckets;

	struct analysis_tags tags;

	/* Embedded cover art: the attached picture's bytes (owned) and MIME
	 * type ("image/jpeg", "image/png", ...); NULL and "" when none. */
	uint8_t *artwork;
	size_t artwork_bytes;
	char artwork_mime[32];

	/* "sha256:<64 hex digits>" of the file's bytes; "" when hashing was
	 * off or the file could not be read to its end. */
	char content_hash[ANALYSIS_HASH_LEN];
};

/* Fill o with the defaults above. */
void analyze_options_init(struct analyze_options *o);

/* Set a to the empty result (no allocation). */
void analysis_init(struct analysis *a);

/* Free what a owns and set it to the empty result. */
void analysis_release(struct analysis *a);

/*
 * Analyse the file at path with options opt (NULL for the defaults) into
 * a, which is initialised first (any previous contents are not freed).
 * Returns 0 when the file is playable (a->ok), otherwise a negative errno
 * that classifies the failure, a->reason saying what it was:
 *   -ENOENT, -EACCES, -EISDIR, -EIO, ...  the file cannot be read (-EINVAL
 *                                         for something not a regular file);
 *   -ETIMEDOUT   the time limit passed;
 *   -EFBIG       the audio is longer than max_duration_us;
 *   -ECANCELED   opt->cancel asked to stop;
 *   -EBADMSG     not playable media: empty, not an audio file, no audio stream,
 *                unsupported codec, absurd parameters, decoder errors,
 *                truncated, nothing decoded.
 *   -ENOMEM      FFmpeg or libebur128 could not allocate.
 * Either way the caller must analysis_release(a). Thread-safe.
 */
int analyze_file(const char *path, const struct analyze_options *opt, struct analysis *a);

/*
 * As analyze_file, for a file held in memory (data[0..size-1], read
 * through a custom FFmpeg I/O context; not copied, must stay valid
 * during the call). name is only a hint for format probing and may be
 * NULL. Read errors cannot happen; the other returns are as above.
 */
int analyze_buffer(const void *data, size_t size, const char *name,
		   const struct analyze_options *opt, struct analysis *a);

#include "common/banned.h"
#endif
