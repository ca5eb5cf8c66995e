/*
 * dsp.h - small vectorised loops over float samples, shared by the
 * analysis modules (SSE2 where the compiler targets it, plain C
 * elsewhere). All functions are pure and thread-safe.
 */
#ifndef ONAIR_WORKER_DSP_H
#define ONAIR_WORKER_DSP_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Smallest and largest of x[0..n-1]; n > 0 and every x[i] finite. */
void dsp_minmax(const float *x, size_t n, float *min, float *max);

/* Largest |x[i]| of x[0..n-1] (finite values); 0 when n == 0. Inline:
 * the true-peak gate calls it for every 32 samples. */
static inline float dsp_absmax(const float *x, size_t n)
{
	size_t i = 0;
	float r = 0;
#if defined(__SSE2__)
	if (n >= 8) {
		const __m128 sign = _mm_set1_ps(-0.0f);
		__m128 m0 = _mm_setzero_ps(), m1 = _mm_setzero_ps();
		for (; i + 8 <= n; i += 8) {
			m0 = _mm_max_ps(m0, _mm_andnot_ps(sign, _mm_loadu_ps(x + i)));
			m1 = _mm_max_ps(m1, _mm_andnot_ps(sign, _mm_loadu_ps(x + i + 4)));
		}
		m0 = _mm_max_ps(m0, m1);
		m0 = _mm_max_ps(m0, _mm_movehl_ps(m0, m0));
		m0 = _mm_max_ss(m0, _mm_shuffle_ps(m0, m0, 1));
		r = _mm_cvtss_f32(m0);
	}
#endif
	for (; i < n; i++) {
		float a = x[i] < 0 ? -x[i] : x[i];
		r = a > r ? a : r;
	}
	return r;
}

/* True when no x[i] of x[0..n-1] is a NaN or an infinity. */
bool dsp_all_finite(const float *x, size_t n);

/* Replace NaNs and infinities in x[0..n-1] with 0; returns how many. */
size_t dsp_zero_nonfinite(float *x, size_t n);

#include "common/banned.h"
#endif
