/*
 * levels.h - the waveform summary and the silence scan, both fed with
 * planar float samples as they are decoded.
 *
 * The waveform does not know the duration in advance (headers are not
 * trusted), so it keeps between 4 and 8 "fine" buckets per requested
 * bucket: when the fine array fills up, neighbours are merged in pairs
 * and a fine bucket covers twice as many samples. Memory is fixed at
 * init; the result is resampled to the requested count at the end, each
 * bucket's edges accurate to a quarter of a bucket.
 *
 * Not thread-safe per struct; the caller owns it.
 */
#ifndef ONAIR_WORKER_LEVELS_H
#define ONAIR_WORKER_LEVELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/analyze.h"

struct waveform {
	struct analysis_peak *fine;	/* cap fine buckets */
	size_t cap;
	size_t count;		/* complete fine buckets */
	uint64_t per;		/* samples per fine bucket */
	uint64_t fill;		/* samples in the open bucket */
	struct analysis_peak open;	/* the open bucket's min/max */
	uint64_t total;		/* samples added */
};

/* Prepare for a summary of up to buckets (>= 1) buckets. */
void waveform_init(struct waveform *w, size_t buckets);

/* Free the buffers. */
void waveform_release(struct waveform *w);

/* Add n samples per channel, ch[c][0..n-1] for c < channels, finite. */
void waveform_add(struct waveform *w, const float *const *ch, int channels, size_t n);

/* Largest |sample| added so far (0 when none). */
float waveform_absmax(const struct waveform *w);

/* Write the summary as buckets (>= 1) buckets to out[0..buckets-1].
 * Nothing is written when no sample was added; returns false then. */
bool waveform_finish(struct waveform *w, size_t buckets, struct analysis_peak *out);

struct silence {
	float threshold;	/* linear */
	uint64_t pos;		/* samples seen */
	int64_t first;		/* index of the first sample above threshold, or -1 */
	int64_t last;		/* index of the last one, or -1 */
};

/* Start a scan with threshold_dbfs as the level of sound. */
void silence_init(struct silence *s, double threshold_dbfs);

/* Scan n more samples per channel (ch[c][0..n-1], c < channels) whose
 * largest magnitude on any channel is peak (as truepeak_add returns). */
void silence_add(struct silence *s, const float *const *ch, int channels, size_t n, float peak);

#include "common/banned.h"
#endif
