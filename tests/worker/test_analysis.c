/*
 * Unit tests of the analysis modules (true peak, loudness gating, levels,
 * text) and of analyze_buffer() on WAV files built in memory: exact
 * durations and cue points, and hostile headers. Needs no ffmpeg.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ebur128.h>

#include "common/alloc.h"
#include "worker/analyze.h"
#include "worker/levels.h"
#include "worker/loudness.h"
#include "worker/tags.h"
#include "worker/truepeak.h"

#define PI 3.14159265358979323846

/* Deterministic noise in [-1, 1). */
static float noise(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return (float)((double)(*state >> 8) / (double)(1u << 23) - 1.0);
}

/* True peak of x[0..n-1] by brute force: every window of the filter over
 * the signal padded with silence, and the samples themselves. */
static float brute_true_peak(const float *x, size_t n)
{
	float *padded = xcalloc(n + 22, sizeof(float));
	memcpy(padded + 11, x, n * sizeof(float));
	float peak = truepeak_reference(padded, n + 11);
	for (size_t i = 0; i < n; i++)
		peak = fabsf(x[i]) > peak ? fabsf(x[i]) : peak;
	free(padded);
	return peak;
}

/* Feed one channel in pieces of varying sizes. */
static float measured_true_peak(const float *x, size_t n, uint32_t seed)
{
	struct truepeak tp;
	truepeak_init(&tp, 1);
	size_t off = 0;
	while (off < n) {
		seed = seed * 1103515245u + 12345u;
		size_t len = 1 + (seed >> 16) % 700;
		if (len > n - off)
			len = n - off;
		const float *ch[1] = { x + off };
		truepeak_add(&tp, ch, len);
		off += len;
	}
	float peak = truepeak_finish(&tp);
	truepeak_release(&tp);
	return peak;
}

static void test_truepeak_matches_brute_force(void **state)
{
	const size_t n = 20000;
	float *x = xmalloc(n * sizeof(float));
	uint32_t s = 1;
	/* Noise, then a quiet tone with a loud burst in the middle: most
	 * blocks are skipped by the gate and the result must not change. */
	for (size_t i = 0; i < n; i++)
		x[i] = 0.3f * noise(&s);
	assert_float_equal(measured_true_peak(x, n, 7), brute_true_peak(x, n), 1e-6);
	for (size_t i = 0; i < n; i++)
		x[i] = 0.05f * (float)sin(2 * PI * 5000.0 * (double)i / 44100.0);
	for (size_t i = 9000; i < 9100; i++)
		x[i] = 0.8f * (float)sin(2 * PI * 11025.0 * (double)i / 44100.0 + PI / 4);
	assert_float_equal(measured_true_peak(x, n, 9), brute_true_peak(x, n), 1e-6);
	free(x);
}

static void test_truepeak_inter_sample_peak(void **state)
{
	/* fs/4 at 45 degrees: every sample at 0.5/sqrt(2), the wave at 0.5. */
	const size_t n = 4410;
	float *x = xmalloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[i] = 0.5f * (float)sin(PI / 2 * (double)i + PI / 4);
	float peak = measured_true_peak(x, n, 3);
	assert_true(fabs(20 * log10(peak) - 20 * log10(0.5)) < 0.1);
	free(x);
}

static void test_truepeak_bound_is_reached(void **state)
{
	/* The worst case of the bound: samples with the signs of the phase
	 * 1 taps. The gate must not skip it after a loud quiet-looking start. */
	static const float signs[12] = { -1, 1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1 };
	float x[2000] = { 0 };
	x[0] = 0.9f;	/* running peak 0.9 before the pattern */
	for (int k = 0; k < 12; k++)
		x[1000 + k] = 0.5f * signs[11 - k];
	float g = truepeak_gain_bound();
	assert_true(g > 2.0228f && g < 2.0230f);
	float peak = measured_true_peak(x, 2000, 5);
	assert_float_equal(peak, brute_true_peak(x, 2000), 1e-6);
	assert_true(peak > 0.5f * 2.02f);
}

/* Our gating over libebur128's 100 ms energies against libebur128's own
 * EBUR128_MODE_I | EBUR128_MODE_LRA on the same samples. */
static void compare_with_libebur128(const float *x, size_t frames, unsigned rate, double lra_tol)
{
	const unsigned ch = 2;
	struct loudness l;
	int map[2] = { EBUR128_LEFT, EBUR128_RIGHT };
	assert_int_equal(loudness_init(&l, ch, rate, map), 0);
	size_t off = 0, step = 1;
	while (off < frames) {
		size_t n = step < frames - off ? step : frames - off;
		assert_int_equal(loudness_add_float(&l, x + off * ch, n), 0);
		off += n;
		step = step * 3 % 5003 + 1;
	}
	double integrated, range;
	loudness_result(&l, &integrated, &range);
	loudness_release(&l);

	ebur128_state *ref = ebur128_init(ch, rate, EBUR128_MODE_I | EBUR128_MODE_LRA);
	ebur128_add_frames_float(ref, x, frames);
	double ref_i, ref_lra;
	ebur128_loudness_global(ref, &ref_i);
	ebur128_loudness_range(ref, &ref_lra);
	ebur128_destroy(&ref);
	if (fabs(integrated - ref_i) > 0.001 || fabs(range - ref_lra) > lra_tol)
		fail_msg("I %f (libebur128 %f), LRA %f (libebur128 %f)", integrated, ref_i, range,
			 ref_lra);
}

static void test_loudness_matches_libebur128(void **state)
{
	const unsigned rate = 48000;
	const size_t frames = rate * 40;
	float *x = xmalloc(frames * 2 * sizeof(float));
	uint32_t s = 11;
	/* Level steps every 2 s, including near-silence that the gates drop.
	 * libebur128 takes a short-term value every second, we every 100 ms
	 * (as FFmpeg): with steps that changes the range, so only I counts. */
	for (size_t i = 0; i < frames; i++) {
		size_t step = i / (2 * rate);
		double level = step % 3 == 2 ? 0.0005 : step % 2 ? 0.3 : 0.05;
		x[2 * i] = (float)(level * noise(&s));
		x[2 * i + 1] = (float)(level * sin(2 * PI * 997.0 * (double)i / rate));
	}
	compare_with_libebur128(x, frames, rate, 100);
	/* A level that drifts slowly: the ranges are close. (Taking every
	 * tenth of our short-term values gives exactly libebur128's range;
	 * over 40 s that is 38 values against 371, hence the tolerance.) */
	for (size_t i = 0; i < frames; i++) {
		double t = (double)i / rate;
		double level = 0.02 + 0.3 * (0.5 + 0.5 * sin(2 * PI * t / 17.0));
		x[2 * i] = (float)(level * noise(&s));
		x[2 * i + 1] = (float)(level * sin(2 * PI * 440.0 * t));
	}
	compare_with_libebur128(x, frames, rate, 2.0);
	free(x);
}

static void test_loudness_range_two_levels(void **state)
{
	/* 20 s at one level, 20 s 10 dB lower: a range of 10 LU. */
	const unsigned rate = 8000;
	const size_t frames = rate * 40;
	float *x = xmalloc(frames * sizeof(float));
	for (size_t i = 0; i < frames; i++) {
		double a = i < frames / 2 ? 0.5 : 0.5 / sqrt(10.0);
		x[i] = (float)(a * sin(2 * PI * 1000.0 * (double)i / rate));
	}
	struct loudness l;
	int map[1] = { EBUR128_CENTER };
	assert_int_equal(loudness_init(&l, 1, rate, map), 0);
	assert_int_equal(loudness_add_float(&l, x, frames), 0);
	double integrated, range;
	loudness_result(&l, &integrated, &range);
	loudness_release(&l);
	assert_true(fabs(range - 10.0) < 0.2);
	free(x);
}

static void test_loudness_silence(void **state)
{
	float x[8000] = { 0 };
	struct loudness l;
	int map[1] = { EBUR128_CENTER };
	assert_int_equal(loudness_init(&l, 1, 8000, map), 0);
	assert_int_equal(loudness_add_float(&l, x, 8000), 0);
	double integrated, range;
	loudness_result(&l, &integrated, &range);
	loudness_release(&l);
	assert_true(isinf(integrated) && integrated < 0);
	assert_true(range == 0);
}

static void test_waveform_buckets(void **state)
{
	/* A ramp from -1 to 1: bucket j of 10 spans [-1 + 0.2 j, -0.8 + 0.2 j]. */
	const size_t n = 100003;
	float *x = xmalloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[i] = -1.0f + 2.0f * (float)i / (float)n;
	struct waveform w;
	waveform_init(&w, 10);
	for (size_t off = 0; off < n; off += 1000) {
		const float *ch[1] = { x + off };
		waveform_add(&w, ch, 1, n - off < 1000 ? n - off : 1000);
	}
	struct analysis_peak out[10];
	assert_true(waveform_finish(&w, 10, out));
	for (int j = 0; j < 10; j++) {
		/* Edges accurate to a quarter bucket (0.05 here). */
		assert_true(fabsf(out[j].min - (-1.0f + 0.2f * (float)j)) <= 0.05f);
		assert_true(fabsf(out[j].max - (-0.8f + 0.2f * (float)j)) <= 0.05f);
	}
	assert_float_equal(waveform_absmax(&w), 1.0f, 1e-4);
	waveform_release(&w);
	free(x);
}

static void test_silence_scan(void **state)
{
	float a[1000] = { 0 }, b[1000] = { 0 };
	b[10] = 0.01f;	/* -40 dBFS: sound at a -60 threshold */
	b[20] = -0.5f;
	b[500] = 0.0005f;	/* -66 dBFS: silence */
	struct silence s;
	silence_init(&s, -60);
	const float *ch[2] = { a, b };
	silence_add(&s, ch, 2, 1000, 0.5f);
	assert_int_equal(s.first, 10);
	assert_int_equal(s.last, 20);
	silence_add(&s, ch, 1, 1000, 0.0f);	/* silent: only a */
	assert_int_equal(s.last, 20);
}

static void test_text_to_utf8(void **state)
{
	char *t = text_to_utf8("  Caf\xc3\xa9  ", 100);
	assert_string_equal(t, "Caf\xc3\xa9");
	free(t);
	/* Latin-1 / Windows-1252 bytes: e-acute, euro sign, right quote. */
	t = text_to_utf8("Caf\xe9 \x80 \x92", 100);
	assert_string_equal(t, "Caf\xc3\xa9 \xe2\x82\xac \xe2\x80\x99");
	free(t);
	assert_null(text_to_utf8("   ", 100));
	/* Cut on a character boundary. */
	t = text_to_utf8("ab\xc3\xa9", 3);
	assert_string_equal(t, "ab");
	free(t);
	assert_false(text_utf8_valid("\xc0\xaf", 2));		/* overlong */
	assert_false(text_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(text_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_true(text_utf8_valid("\xf0\x9f\x8e\xb5", 4));
}

/* A 16-bit PCM WAV in memory: header claiming size data bytes (or the
 * real size when size < 0). */
static uint8_t *wav(unsigned rate, unsigned channels, const int16_t *pcm, size_t frames,
		    int64_t size, size_t *len)
{
	size_t data = frames * channels * 2;
	uint32_t claim = size < 0 ? (uint32_t)data : (uint32_t)size;
	*len = 44 + data;
	uint8_t *b = xmalloc(*len);
	uint32_t ba = channels * 2;
	uint32_t v32;
	uint16_t v16;
	memcpy(b, "RIFF", 4);
	v32 = 36 + claim;
	memcpy(b + 4, &v32, 4);
	memcpy(b + 8, "WAVEfmt ", 8);
	v32 = 16;
	memcpy(b + 16, &v32, 4);
	v16 = 1;
	memcpy(b + 20, &v16, 2);
	v16 = (uint16_t)channels;
	memcpy(b + 22, &v16, 2);
	memcpy(b + 24, &rate, 4);
	v32 = rate * ba;
	memcpy(b + 28, &v32, 4);
	v16 = (uint16_t)ba;
	memcpy(b + 32, &v16, 2);
	v16 = 16;
	memcpy(b + 34, &v16, 2);
	memcpy(b + 36, "data", 4);
	memcpy(b + 40, &claim, 4);
	if (data)
		memcpy(b + 44, pcm, data);
	return b;
}

/* 1 s silence, 2 s of 1 kHz at -12 dBFS, 0.5 s silence; stereo. */
static int16_t *tone_with_silence(unsigned rate, size_t *frames)
{
	*frames = rate * 7 / 2;
	int16_t *pcm = xcalloc(*frames * 2, sizeof(int16_t));
	for (size_t i = rate; i < 3 * (size_t)rate; i++) {
		double v = 0.25 * sin(2 * PI * 1000.0 * (double)(i - rate) / rate + PI / 2);
		pcm[2 * i] = pcm[2 * i + 1] = (int16_t)lrint(v * 32767);
	}
	return pcm;
}

static void test_buffer_exact(void **state)
{
	size_t frames, len;
	int16_t *pcm = tone_with_silence(44100, &frames);
	uint8_t *file = wav(44100, 2, pcm, frames, -1, &len);
	struct analyze_options o;
	analyze_options_init(&o);
	o.waveform_buckets = 35;
	struct analysis a;
	assert_int_equal(analyze_buffer(file, len, "tone.wav", &o, &a), 0);
	assert_true(a.ok);
	assert_string_equal(a.container, "wav");
	assert_string_equal(a.codec, "pcm_s16le");
	assert_int_equal(a.sample_rate_hz, 44100);
	assert_int_equal(a.channels, 2);
	assert_int_equal(a.samples, (int64_t)frames);
	assert_int_equal(a.duration_us, 3500000);
	/* The tone starts at a peak (cosine), exactly at 1 s, and ends at 3 s. */
	assert_int_equal(a.cue_in_us, 1000000);
	assert_int_equal(a.cue_out_us, 3000000);
	assert_true(fabs(a.sample_peak_dbfs - (-12.04)) < 0.01);
	/* The tone starts on a crest: the step overshoots between samples. */
	assert_true(a.true_peak_dbtp >= a.sample_peak_dbfs);
	assert_true(a.true_peak_dbtp < a.sample_peak_dbfs + 1.5);
	assert_true(fabs(a.replaygain_track_gain_db - (-18.0 - a.loudness_lufs)) < 1e-9);
	assert_int_equal(a.waveform_buckets, 35);
	assert_true(a.waveform[0].max == 0 && a.waveform[0].min == 0);	/* 0-0.1 s */
	assert_true(fabsf(a.waveform[15].max - 0.25f) < 0.01f);	/* 1.5-1.6 s */
	assert_true(fabsf(a.waveform[15].min + 0.25f) < 0.01f);
	assert_int_equal(strncmp(a.content_hash, "sha256:", 7), 0);
	assert_int_equal(strlen(a.content_hash), 71);
	analysis_release(&a);
	free(file);
	free(pcm);
}

static void expect_failure(const void *data, size_t len, const char *name,
			   const struct analyze_options *o, int err, const char *reason)
{
	struct analysis a;
	int r = analyze_buffer(data, len, name, o, &a);
	if (r != err || a.ok || !strstr(a.reason, reason))
		fail_msg("%s: got %d '%s', want %d '%s'", name, r, a.reason, err, reason);
	analysis_release(&a);
}

static void test_buffer_hostile(void **state)
{
	size_t frames, len;
	int16_t *pcm = tone_with_silence(8000, &frames);
	uint8_t *file;

	expect_failure("", 0, "empty.mp3", NULL, -EBADMSG, "empty file");
	const char *text = "This is not audio at all, just some text in a file.\n";
	expect_failure(text, strlen(text), "text.mp3", NULL, -EBADMSG,
		       "not a supported audio file");

	file = wav(1, 2, pcm, frames, -1, &len);
	expect_failure(file, len, "rate1.wav", NULL, -EBADMSG, "absurd sample rate 1 Hz");
	free(file);
	file = wav(10000000, 2, pcm, frames, -1, &len);
	expect_failure(file, len, "rate10M.wav", NULL, -EBADMSG, "absurd sample rate");
	free(file);
	file = wav(8000, 2, pcm, frames, -1, &len);
	/* Truncated in the header: only the first bytes of a WAV. */
	expect_failure(file, 30, "cut.wav", NULL, -EBADMSG, "");
	struct analyze_options o;
	analyze_options_init(&o);
	o.max_duration_us = 2 * 1000000;
	expect_failure(file, len, "long.wav", &o, -EFBIG, "longer than the limit");
	analyze_options_init(&o);
	o.time_limit_us = 1;
	expect_failure(file, len, "slow.wav", &o, -ETIMEDOUT, "took longer than");
	free(file);

	/* A header claiming 10 hours over 3.5 s of data reads as 3.5 s, with
	 * a warning; nothing is allocated by the claim. */
	file = wav(8000, 2, pcm, frames, 8000 * 4 * 36000, &len);
	struct analysis a;
	assert_int_equal(analyze_buffer(file, len, "claims10h.wav", NULL, &a), 0);
	assert_int_equal(a.samples, (int64_t)frames);
	assert_int_equal(a.declared_duration_us, 36000 * INT64_C(1000000));
	assert_true(a.n_warnings == 1 && strstr(a.warnings[0], "truncated?"));
	analysis_release(&a);
	free(file);
	free(pcm);
}

static bool cancel_now(void *opaque)
{
	return true;
}

static void test_buffer_cancel_and_silence(void **state)
{
	size_t len;
	int16_t *pcm = xcalloc(8000 * 2, sizeof(int16_t));
	uint8_t *file = wav(8000, 2, pcm, 8000, -1, &len);
	struct analyze_options o;
	analyze_options_init(&o);
	o.cancel = cancel_now;
	expect_failure(file, len, "cancel.wav", &o, -ECANCELED, "cancelled");
	struct analysis a;
	assert_int_equal(analyze_buffer(file, len, "silence.wav", NULL, &a), 0);
	assert_true(a.ok && a.silent);
	assert_int_equal(a.cue_in_us, 0);
	assert_int_equal(a.cue_out_us, 1000000);
	assert_true(isinf(a.loudness_lufs) && isinf(a.true_peak_dbtp));
	assert_true(a.n_warnings == 1 && strstr(a.warnings[0], "silent"));
	analysis_release(&a);
	free(file);
	free(pcm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truepeak_matches_brute_force),
		cmocka_unit_test(test_truepeak_inter_sample_peak),
		cmocka_unit_test(test_truepeak_bound_is_reached),
		cmocka_unit_test(test_loudness_matches_libebur128),
		cmocka_unit_test(test_loudness_range_two_levels),
		cmocka_unit_test(test_loudness_silence),
		cmocka_unit_test(test_waveform_buckets),
		cmocka_unit_test(test_silence_scan),
		cmocka_unit_test(test_text_to_utf8),
		cmocka_unit_test(test_buffer_exact),
		cmocka_unit_test(test_buffer_hostile),
		cmocka_unit_test(test_buffer_cancel_and_silence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
