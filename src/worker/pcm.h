/*
 * pcm.h - decoded frames as planar float in one reference format.
 *
 * The reference (sample rate, channel layout) is the first frame's. A
 * frame already in planar float at that rate and channel count is used
 * in place; interleaved float, 8/16/32-bit integer and double are
 * converted by hand; anything else, and any frame whose rate or channel
 * count differs from the reference, goes through libswresample.
 *
 * Not thread-safe per struct; the caller owns it.
 */
#ifndef ONAIR_WORKER_PCM_H
#define ONAIR_WORKER_PCM_H

#include <stdbool.h>
#include <stddef.h>

#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>

#include "worker/analyze.h"

#define PCM_SLICE 4096	/* input samples converted at a time */

/* One piece of a frame in the reference format. */
struct pcm_slice {
	const float *const *planes;	/* channels planes of n finite samples */
	size_t n;
	/* The same samples as the decoder gave them, interleaved, when that
	 * is S16, S32 or FLT (libebur128 takes those directly); else NULL. */
	const void *raw;
	enum AVSampleFormat raw_format;
};

/* Called for each slice; a negative return stops pcm_convert with it. */
typedef int (*pcm_sink)(void *opaque, const struct pcm_slice *s);

struct pcm {
	int rate;			/* reference sample rate */
	int channels;			/* reference channel count (<= ANALYZE_MAX_CHANNELS) */
	AVChannelLayout layout;		/* reference layout */
	float *planes[ANALYZE_MAX_CHANNELS];	/* converted samples */
	size_t cap;			/* floats per plane */
	const float *view[ANALYZE_MAX_CHANNELS];
	uint64_t nonfinite;		/* NaN or infinite samples replaced with 0 */
	SwrContext *swr;		/* for the current foreign input, or NULL */
	int swr_rate;			/* input of swr */
	int swr_format;
	AVChannelLayout swr_layout;
};

/* Set the reference format from frame f (channel count in 1..
 * ANALYZE_MAX_CHANNELS and a positive rate, checked by the caller). */
void pcm_init(struct pcm *p, const AVFrame *f);

/* Free everything. */
void pcm_release(struct pcm *p);

/* True when f has the reference rate and channel count. */
bool pcm_same_format(const struct pcm *p, const AVFrame *f);

/*
 * Convert frame f to the reference format and hand it to sink in slices
 * of at most PCM_SLICE input samples (so memory does not grow with frame
 * size). Non-finite samples are replaced with 0 and counted. Returns 0,
 * the sink's negative return, or a negative AVERROR from libswresample
 * (which also handles frames in other sample formats, rates or layouts;
 * f's rate must be positive and its channel count in range).
 */
int pcm_convert(struct pcm *p, const AVFrame *f, pcm_sink sink, void *opaque);

#include "common/banned.h"
#endif
