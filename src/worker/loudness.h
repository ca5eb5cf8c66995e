/*
 * loudness.h - integrated loudness (ITU-R BS.1770-4) and loudness range
 * (EBU Tech 3342) over a whole file.
 *
 * libebur128 does the measuring proper: channel weighting, K-weighting
 * filter and the mean square of each 100 ms sub-block (read with
 * ebur128_loudness_window() at every sub-block boundary). The gating is
 * done here from those sub-block energies:
 *   - integrated: 400 ms blocks every 100 ms (the mean of 4 sub-blocks),
 *     absolute gate -70 LUFS, relative gate -10 LU;
 *   - range: 3 s short-term values every 100 ms (the mean of 30
 *     sub-blocks), absolute gate -70 LUFS, relative gate -20 LU, the
 *     difference of the 95th and 10th percentiles.
 * Why not libebur128's EBUR128_MODE_I | EBUR128_MODE_LRA: for every 100 ms
 * it adds up the last 400 ms again, and for every second the last 3 s,
 * one serial double addition at a time; that costs more than decoding
 * the audio. Summing each sample once gives the same blocks.
 *
 * Memory: one double per 100 ms kept for each gate (about 3.5 MB per
 * 12 hours each), bounded by the caller's duration limit.
 * Not thread-safe per struct; the caller owns it.
 */
#ifndef ONAIR_WORKER_LOUDNESS_H
#define ONAIR_WORKER_LOUDNESS_H

#include <stddef.h>
#include <stdint.h>

#include <ebur128.h>

#define LOUDNESS_SHORT_TERM 30	/* sub-blocks in a short-term window (3 s) */

struct loudness {
	ebur128_state *st;
	unsigned channels;
	size_t sub;		/* frames per 100 ms sub-block */
	size_t fill;		/* frames of the current sub-block fed */
	double ring[LOUDNESS_SHORT_TERM];	/* energies of the last sub-blocks */
	uint64_t subs;		/* complete sub-blocks */
	double *blocks;		/* 400 ms block energies above the absolute gate */
	size_t n_blocks, cap_blocks;
	double *shorts;		/* short-term energies above the absolute gate */
	size_t n_shorts, cap_shorts;
};

/* Start a measurement of channels channels at rate Hz; map[c] is the
 * libebur128 channel type of channel c (EBUR128_LEFT, ..., EBUR128_UNUSED).
 * 0, or -ENOMEM when libebur128 cannot start. */
int loudness_init(struct loudness *l, unsigned channels, unsigned long rate, const int *map);

/* Free everything. */
void loudness_release(struct loudness *l);

/* Add frames interleaved frames of 16-bit, 32-bit or float samples
 * (full scale 1.0). 0 or -ENOMEM. */
int loudness_add_short(struct loudness *l, const short *src, size_t frames);
int loudness_add_int(struct loudness *l, const int *src, size_t frames);
int loudness_add_float(struct loudness *l, const float *src, size_t frames);

/* Integrated loudness in LUFS (-INFINITY when no block passes the
 * gates: silence, or less than 400 ms of audio) and loudness range in LU
 * (0 with fewer than 3 s above the gates). */
void loudness_result(const struct loudness *l, double *integrated, double *range);

#include "common/banned.h"
#endif
