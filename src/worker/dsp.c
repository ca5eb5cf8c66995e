#include "worker/dsp.h"

#include <math.h>

#if defined(__SSE2__)
#include <emmintrin.h>

void dsp_minmax(const float *x, size_t n, float *min, float *max)
{
	size_t i = 0;
	float lo = x[0], hi = x[0];
	if (n >= 8) {
		__m128 lo0 = _mm_loadu_ps(x), lo1 = _mm_loadu_ps(x + 4);
		__m128 hi0 = lo0, hi1 = lo1;
		for (i = 8; i + 8 <= n; i += 8) {
			__m128 a = _mm_loadu_ps(x + i), b = _mm_loadu_ps(x + i + 4);
			lo0 = _mm_min_ps(lo0, a);
			lo1 = _mm_min_ps(lo1, b);
			hi0 = _mm_max_ps(hi0, a);
			hi1 = _mm_max_ps(hi1, b);
		}
		float l[4], h[4];
		_mm_storeu_ps(l, _mm_min_ps(lo0, lo1));
		_mm_storeu_ps(h, _mm_max_ps(hi0, hi1));
		lo = l[0];
		hi = h[0];
		for (int k = 1; k < 4; k++) {
			lo = l[k] < lo ? l[k] : lo;
			hi = h[k] > hi ? h[k] : hi;
		}
	}
	for (; i < n; i++) {
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	*min = lo;
	*max = hi;
}

bool dsp_all_finite(const float *x, size_t n)
{
	/* x * 0 is 0 for finite x and NaN for NaN or infinity. */
	const __m128 zero = _mm_setzero_ps();
	__m128 bad = _mm_setzero_ps();
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		__m128 z = _mm_mul_ps(_mm_loadu_ps(x + i), zero);
		bad = _mm_or_ps(bad, _mm_cmpunord_ps(z, z));
	}
	if (_mm_movemask_ps(bad))
		return false;
	for (; i < n; i++) {
		if (!isfinite(x[i]))
			return false;
	}
	return true;
}

#else

void dsp_minmax(const float *x, size_t n, float *min, float *max)
{
	float lo = x[0], hi = x[0];
	for (size_t i = 1; i < n; i++) {
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	*min = lo;
	*max = hi;
}

bool dsp_all_finite(const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]))
			return false;
	}
	return true;
}

#endif

size_t dsp_zero_nonfinite(float *x, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i])) {
			x[i] = 0;
			count++;
		}
	}
	return count;
}
