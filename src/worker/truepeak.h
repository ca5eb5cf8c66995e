/*
 * truepeak.h - true-peak level of planar float audio, ITU-R BS.1770-4
 * Annex 2: 4x oversampling with the standard's 48-tap polyphase FIR
 * interpolator (4 phases of 12 taps), the peak being the largest
 * magnitude of the oversampled signal or of the samples themselves.
 *
 * Only the parts of the signal that can raise the running peak are
 * oversampled (see truepeak.c for the bound), so quiet passages cost one
 * pass of sample-peak scanning. The kernel uses AVX2+FMA when the CPU
 * has them, SSE2 otherwise.
 *
 * Not thread-safe per struct; the caller owns it.
 */
#ifndef ONAIR_WORKER_TRUEPEAK_H
#define ONAIR_WORKER_TRUEPEAK_H

#include <stddef.h>
#include <stdint.h>

struct truepeak {
	int channels;
	float *hist;		/* channels * 11 previous samples, oldest first */
	float *buf;		/* scratch: 11 history samples + one call's samples */
	size_t buf_cap;		/* floats in buf */
	float peak;		/* largest magnitude so far (linear, 1.0 = 0 dBFS) */
	uint64_t blocks;	/* blocks seen, for statistics */
	uint64_t blocks_filtered;	/* blocks that had to be oversampled */
};

/* Start a measurement of channels (>= 1) channels: history is silence. */
void truepeak_init(struct truepeak *tp, int channels);

/* Free the buffers; tp may be truepeak_init'ed again. */
void truepeak_release(struct truepeak *tp);

/* Add n samples per channel: ch[c][0..n-1] for c < channels, finite
 * values. Returns their sample peak (largest magnitude on any channel),
 * which the caller may reuse. */
float truepeak_add(struct truepeak *tp, const float *const *ch, size_t n);

/* Run the filter's tail past the last sample (call once at the end) and
 * return the true peak, linear (0 for silence). */
float truepeak_finish(struct truepeak *tp);

/* The bound G used to skip blocks: no interpolated value exceeds G times
 * the largest input magnitude under the filter. For tests. */
float truepeak_gain_bound(void);

/* Largest interpolated magnitude of the outputs for windows
 * x[m..m+11], m in [0, n), computed without skipping. For tests: the
 * portable reference the vector kernels must agree with. */
float truepeak_reference(const float *x, size_t n);

#include "common/banned.h"
#endif
