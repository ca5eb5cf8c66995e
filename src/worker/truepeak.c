/*
 * truepeak.c - BS.1770-4 Annex 2 true peak, oversampling only where it
 * can matter.
 *
 * The interpolator. Output m of phase p (p = 0..3, the four points
 * between input samples m-6 and m-5) is
 *
 *     y_p[m] = sum_{k=0}^{11} h_p[k] * x[m - k]
 *
 * with the standard's example coefficients below. (Reading the taps in
 * the other order swaps phases 0<->3 and 1<->2, which are mirror images:
 * the set of interpolated points is the same.) The true peak is the
 * largest |y_p[m]| over all m and p, or the largest |x[m]| if that is
 * larger (phase 0 is 0.972 x + ..., not x itself, so the filter alone
 * can read an isolated full-scale sample as -0.25 dB).
 *
 * The bound that lets us skip. By the triangle inequality
 *
 *     |y_p[m]| <= sum_k |h_p[k]| * |x[m - k]| <= G * max_k |x[m - k]|,
 *     G = max_p sum_k |h_p[k]| = 2.0228 (+6.12 dB, phases 1 and 2),
 *
 * so the outputs of a block of input positions [s, s + L) can exceed the
 * running peak R only if G * max|x[s - 11 .. s + L - 1]| > R. Blocks
 * below R / G (6.1 dB under the loudest sample seen so far, counting the
 * 11 samples of filter history) are skipped without any loss: the result
 * is exactly what filtering everything gives. The bound is the worst
 * case (samples alternating in sign with the taps), so it holds for
 * clipped and synthetic signals too, not only for typical music. Blocks
 * are 32 outputs long, so a block's gate looks at 43 samples: in noise
 * or music most 1 ms stretches sit well under the peak and are skipped.
 * G is rounded up by 1e-5 to cover float rounding in the accumulation.
 */
#include "worker/truepeak.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "worker/dsp.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define TAPS 12
#define HIST (TAPS - 1)
#define BLOCK 32

static const float coef[4][TAPS] = {
	{ 0.0017089843750f, 0.0109863281250f, -0.0196533203125f, 0.0332031250000f,
	  -0.0594482421875f, 0.1373291015625f, 0.9721679687500f, -0.1022949218750f,
	  0.0476074218750f, -0.0266113281250f, 0.0148925781250f, -0.0083007812500f },
	{ -0.0291748046875f, 0.0292968750000f, -0.0517578125000f, 0.0891113281250f,
	  -0.1665039062500f, 0.4650878906250f, 0.7797851562500f, -0.2003173828125f,
	  0.1015625000000f, -0.0582275390625f, 0.0330810546875f, -0.0189208984375f },
	{ -0.0189208984375f, 0.0330810546875f, -0.0582275390625f, 0.1015625000000f,
	  -0.2003173828125f, 0.7797851562500f, 0.4650878906250f, -0.1665039062500f,
	  0.0891113281250f, -0.0517578125000f, 0.0292968750000f, -0.0291748046875f },
	{ -0.0083007812500f, 0.0148925781250f, -0.0266113281250f, 0.0476074218750f,
	  -0.1022949218750f, 0.9721679687500f, 0.1373291015625f, -0.0594482421875f,
	  0.0332031250000f, -0.0196533203125f, 0.0109863281250f, 0.0017089843750f },
};

float truepeak_gain_bound(void)
{
	float g = 0;
	for (int p = 0; p < 4; p++) {
		float s = 0;
		for (int k = 0; k < TAPS; k++)
			s += fabsf(coef[p][k]);
		g = s > g ? s : g;
	}
	return g * 1.00001f;
}

/* One output of phase p for the window w[0..11] (w[11] newest). */
static float interp(const float *w, int p)
{
	float acc = 0;
	for (int k = 0; k < TAPS; k++)
		acc += coef[p][k] * w[TAPS - 1 - k];
	return acc;
}

static float kernel_scalar(const float *w, size_t n)
{
	float peak = 0;
	for (size_t m = 0; m < n; m++) {
		for (int p = 0; p < 4; p++) {
			float a = fabsf(interp(w + m, p));
			peak = a > peak ? a : peak;
		}
	}
	return peak;
}

float truepeak_reference(const float *x, size_t n)
{
	return kernel_scalar(x, n);
}

#if defined(HAVE_X86)
/* Four consecutive outputs at a time, all four phases. */
static float kernel_sse(const float *w, size_t n)
{
	const __m128 sign = _mm_set1_ps(-0.0f);
	__m128 peak = _mm_setzero_ps();
	size_t m = 0;
	for (; m + 4 <= n; m += 4) {
		__m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
		for (int k = 0; k < TAPS; k++) {
			__m128 v = _mm_loadu_ps(w + m + TAPS - 1 - k);
			a0 = _mm_add_ps(a0, _mm_mul_ps(_mm_set1_ps(coef[0][k]), v));
			a1 = _mm_add_ps(a1, _mm_mul_ps(_mm_set1_ps(coef[1][k]), v));
			a2 = _mm_add_ps(a2, _mm_mul_ps(_mm_set1_ps(coef[2][k]), v));
			a3 = _mm_add_ps(a3, _mm_mul_ps(_mm_set1_ps(coef[3][k]), v));
		}
		__m128 m01 = _mm_max_ps(_mm_andnot_ps(sign, a0), _mm_andnot_ps(sign, a1));
		__m128 m23 = _mm_max_ps(_mm_andnot_ps(sign, a2), _mm_andnot_ps(sign, a3));
		peak = _mm_max_ps(peak, _mm_max_ps(m01, m23));
	}
	float lanes[4];
	_mm_storeu_ps(lanes, peak);
	float r = lanes[0];
	for (int i = 1; i < 4; i++)
		r = lanes[i] > r ? lanes[i] : r;
	float tail = kernel_scalar(w + m, n - m);
	return tail > r ? tail : r;
}

/* Eight consecutive outputs at a time with fused multiply-adds. */
__attribute__((target("avx2,fma"))) static float kernel_avx2(const float *w, size_t n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 peak = _mm256_setzero_ps();
	size_t m = 0;
	for (; m + 8 <= n; m += 8) {
		__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
		for (int k = 0; k < TAPS; k++) {
			__m256 v = _mm256_loadu_ps(w + m + TAPS - 1 - k);
			a0 = _mm256_fmadd_ps(_mm256_set1_ps(coef[0][k]), v, a0);
			a1 = _mm256_fmadd_ps(_mm256_set1_ps(coef[1][k]), v, a1);
			a2 = _mm256_fmadd_ps(_mm256_set1_ps(coef[2][k]), v, a2);
			a3 = _mm256_fmadd_ps(_mm256_set1_ps(coef[3][k]), v, a3);
		}
		__m256 m01 = _mm256_max_ps(_mm256_andnot_ps(sign, a0), _mm256_andnot_ps(sign, a1));
		__m256 m23 = _mm256_max_ps(_mm256_andnot_ps(sign, a2), _mm256_andnot_ps(sign, a3));
		peak = _mm256_max_ps(peak, _mm256_max_ps(m01, m23));
	}
	float lanes[8];
	_mm256_storeu_ps(lanes, peak);
	/* Leave the upper halves clean: legacy SSE code run afterwards (ours,
	 * FFmpeg's) would otherwise pay for a false dependency on them with
	 * every instruction, and the compiler does not add this by itself
	 * in a function with a target attribute. */
	_mm256_zeroupper();
	float r = lanes[0];
	for (int i = 1; i < 8; i++)
		r = lanes[i] > r ? lanes[i] : r;
	float tail = kernel_scalar(w + m, n - m);
	return tail > r ? tail : r;
}

typedef float (*kernel_fn)(const float *w, size_t n);

static kernel_fn chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose_kernel(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		chosen = kernel_avx2;
	else
		chosen = kernel_sse;
}

static kernel_fn pick_kernel(void)
{
	pthread_once(&chosen_once, choose_kernel);
	return chosen;
}
#else
typedef float (*kernel_fn)(const float *w, size_t n);

static kernel_fn pick_kernel(void)
{
	return kernel_scalar;
}
#endif

void truepeak_init(struct truepeak *tp, int channels)
{
	memset(tp, 0, sizeof(*tp));
	tp->channels = channels;
	tp->hist = xcalloc((size_t)channels * HIST, sizeof(float));
}

void truepeak_release(struct truepeak *tp)
{
	free(tp->hist);
	free(tp->buf);
	memset(tp, 0, sizeof(*tp));
}

/* Filter one channel: w[0..HIST-1] is its history, w[HIST..HIST+n-1]
 * the new samples. Returns the largest |sample| of the new ones.
 *
 * The gate of a block needs the largest magnitude under the filter: the
 * block's own samples and the HIST before them. For the first block
 * those are the history; for the others they lie inside the previous
 * block (BLOCK >= HIST), whose own maximum bounds them from above. */
static float add_channel(struct truepeak *tp, const float *w, size_t n, kernel_fn kernel,
			 float bound)
{
	float before = dsp_absmax(w, HIST);
	float all = 0;
	for (size_t s = 0; s < n; s += BLOCK) {
		size_t len = n - s < BLOCK ? n - s : BLOCK;
		float own = dsp_absmax(w + s + HIST, len);
		if (own > all)
			all = own;
		if (own > tp->peak)
			tp->peak = own;
		float local = before > own ? before : own;
		before = own;
		tp->blocks++;
		if (local * bound <= tp->peak)
			continue;
		tp->blocks_filtered++;
		float p = kernel(w + s, len);
		if (p > tp->peak)
			tp->peak = p;
	}
	return all;
}

float truepeak_add(struct truepeak *tp, const float *const *ch, size_t n)
{
	if (n == 0)
		return 0;
	if (tp->buf_cap < n + HIST) {
		tp->buf_cap = n + HIST;
		free(tp->buf);
		tp->buf = xmalloc(tp->buf_cap * sizeof(float));
	}
	kernel_fn kernel = pick_kernel();
	float bound = truepeak_gain_bound();
	float peak = 0;
	for (int c = 0; c < tp->channels; c++) {
		float *hist = tp->hist + (size_t)c * HIST;
		memcpy(tp->buf, hist, HIST * sizeof(float));
		memcpy(tp->buf + HIST, ch[c], n * sizeof(float));
		float p = add_channel(tp, tp->buf, n, kernel, bound);
		if (p > peak)
			peak = p;
		memcpy(hist, tp->buf + n, HIST * sizeof(float));
	}
	return peak;
}

float truepeak_finish(struct truepeak *tp)
{
	float zeros[HIST] = { 0 };
	const float *ch[1] = { zeros };
	int channels = tp->channels;
	float *hist = tp->hist;
	/* Feed each channel's history through with silence after it. */
	for (int c = 0; c < channels; c++) {
		tp->channels = 1;
		tp->hist = hist + (size_t)c * HIST;
		truepeak_add(tp, ch, HIST);
	}
	tp->channels = channels;
	tp->hist = hist;
	return tp->peak;
}
