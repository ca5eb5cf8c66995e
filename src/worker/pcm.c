#include "worker/pcm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/alloc.h"
#include "worker/dsp.h"

/* A usable copy of src: itself, or the default layout for its channel
 * count when it is unspecified or invalid. */
static void layout_or_default(AVChannelLayout *dst, const AVChannelLayout *src)
{
	if (src->order != AV_CHANNEL_ORDER_UNSPEC && av_channel_layout_check(src) &&
	    av_channel_layout_copy(dst, src) == 0)
		return;
	av_channel_layout_uninit(dst);
	av_channel_layout_default(dst, src->nb_channels);
}

void pcm_init(struct pcm *p, const AVFrame *f)
{
	memset(p, 0, sizeof(*p));
	p->rate = f->sample_rate;
	p->channels = f->ch_layout.nb_channels;
	layout_or_default(&p->layout, &f->ch_layout);
	p->swr_format = AV_SAMPLE_FMT_NONE;
}

void pcm_release(struct pcm *p)
{
	for (int c = 0; c < ANALYZE_MAX_CHANNELS; c++)
		free(p->planes[c]);
	swr_free(&p->swr);
	av_channel_layout_uninit(&p->layout);
	av_channel_layout_uninit(&p->swr_layout);
	memset(p, 0, sizeof(*p));
}

bool pcm_same_format(const struct pcm *p, const AVFrame *f)
{
	return f->sample_rate == p->rate && f->ch_layout.nb_channels == p->channels;
}

static void reserve(struct pcm *p, size_t n)
{
	if (p->cap >= n)
		return;
	for (int c = 0; c < p->channels; c++) {
		free(p->planes[c]);
		p->planes[c] = xmalloc(n * sizeof(float));
	}
	p->cap = n;
}

static bool handled(int format)
{
	switch (format) {
	case AV_SAMPLE_FMT_FLTP:
	case AV_SAMPLE_FMT_FLT:
	case AV_SAMPLE_FMT_S16:
	case AV_SAMPLE_FMT_S16P:
	case AV_SAMPLE_FMT_S32:
	case AV_SAMPLE_FMT_S32P:
	case AV_SAMPLE_FMT_U8:
	case AV_SAMPLE_FMT_U8P:
	case AV_SAMPLE_FMT_DBL:
	case AV_SAMPLE_FMT_DBLP:
		return true;
	default:
		return false;
	}
}

#if defined(__SSE2__)
/* The four low or high 16-bit lanes of v as floats times k. */
static inline __m128 s16_lo(__m128i v, __m128 k)
{
	return _mm_mul_ps(_mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(v, v), 16)), k);
}

static inline __m128 s16_hi(__m128i v, __m128 k)
{
	return _mm_mul_ps(_mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpackhi_epi16(v, v), 16)), k);
}

/* Four 32-bit samples at p as floats times k. */
static inline __m128 s32_4(const int32_t *p, __m128 k)
{
	return _mm_mul_ps(_mm_cvtepi32_ps(_mm_loadu_si128((const __m128i *)(const void *)p)), k);
}
#endif

/* Interleaved 16-bit stereo (16-bit FLAC and WAV) into two float planes. */
static void s16_stereo(const int16_t *src, float *l, float *r, size_t n)
{
	const float k = 1.0f / 32768.0f;
	size_t i = 0;
#if defined(__SSE2__)
	const __m128 kv = _mm_set1_ps(k);
	for (; i + 4 <= n; i += 4) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i));
		__m128 lo = s16_lo(v, kv);
		__m128 hi = s16_hi(v, kv);
		_mm_storeu_ps(l + i, _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)));
		_mm_storeu_ps(r + i, _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)));
	}
#endif
	for (; i < n; i++) {
		l[i] = (float)src[2 * i] * k;
		r[i] = (float)src[2 * i + 1] * k;
	}
}

/* Contiguous 16-bit samples (a plane of S16P, or mono S16) to float. */
static void s16_plane(const int16_t *src, float *dst, size_t n)
{
	const float k = 1.0f / 32768.0f;
	size_t i = 0;
#if defined(__SSE2__)
	const __m128 kv = _mm_set1_ps(k);
	for (; i + 8 <= n; i += 8) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
		__m128 lo = s16_lo(v, kv);
		__m128 hi = s16_hi(v, kv);
		_mm_storeu_ps(dst + i, lo);
		_mm_storeu_ps(dst + i + 4, hi);
	}
#endif
	for (; i < n; i++)
		dst[i] = (float)src[i] * k;
}

/* Interleaved 32-bit stereo (24-bit FLAC, ...) into two float planes. */
static void s32_stereo(const int32_t *src, float *l, float *r, size_t n)
{
	const float k = 1.0f / 2147483648.0f;
	size_t i = 0;
#if defined(__SSE2__)
	const __m128 kv = _mm_set1_ps(k);
	for (; i + 4 <= n; i += 4) {
		__m128 lo = s32_4(src + 2 * i, kv);
		__m128 hi = s32_4(src + 2 * i + 4, kv);
		_mm_storeu_ps(l + i, _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)));
		_mm_storeu_ps(r + i, _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)));
	}
#endif
	for (; i < n; i++) {
		l[i] = (float)src[2 * i] * k;
		r[i] = (float)src[2 * i + 1] * k;
	}
}

/* Contiguous 32-bit samples (a plane of S32P, or mono S32) to float. */
static void s32_plane(const int32_t *src, float *dst, size_t n)
{
	const float k = 1.0f / 2147483648.0f;
	size_t i = 0;
#if defined(__SSE2__)
	const __m128 kv = _mm_set1_ps(k);
	for (; i + 4 <= n; i += 4) {
		_mm_storeu_ps(dst + i, s32_4(src + i, kv));
	}
#endif
	for (; i < n; i++)
		dst[i] = (float)src[i] * k;
}

/* Convert samples [off, off + n) of f (a handled format other than
 * FLTP) into p->planes. */
static void to_float(struct pcm *p, const AVFrame *f, size_t off, size_t n)
{
	const int ch = p->channels;
	if (f->format == AV_SAMPLE_FMT_S16 && ch == 2) {
		s16_stereo((const int16_t *)f->data[0] + off * 2, p->planes[0], p->planes[1], n);
		return;
	}
	if (f->format == AV_SAMPLE_FMT_S16P || (f->format == AV_SAMPLE_FMT_S16 && ch == 1)) {
		for (int c = 0; c < ch; c++)
			s16_plane((const int16_t *)f->extended_data[c] + off, p->planes[c], n);
		return;
	}
	if (f->format == AV_SAMPLE_FMT_S32 && ch == 2) {
		s32_stereo((const int32_t *)f->data[0] + off * 2, p->planes[0], p->planes[1], n);
		return;
	}
	if (f->format == AV_SAMPLE_FMT_S32P || (f->format == AV_SAMPLE_FMT_S32 && ch == 1)) {
		for (int c = 0; c < ch; c++)
			s32_plane((const int32_t *)f->extended_data[c] + off, p->planes[c], n);
		return;
	}
	for (int c = 0; c < ch; c++) {
		float *dst = p->planes[c];
		switch (f->format) {
		case AV_SAMPLE_FMT_FLT: {
			const float *src = (const float *)f->data[0] + off * ch + c;
			for (size_t i = 0; i < n; i++)
				dst[i] = src[i * ch];
			break;
		}
		case AV_SAMPLE_FMT_S16: {
			const int16_t *src = (const int16_t *)f->data[0] + off * ch + c;
			for (size_t i = 0; i < n; i++)
				dst[i] = (float)src[i * ch] * (1.0f / 32768.0f);
			break;
		}
		case AV_SAMPLE_FMT_S16P: {
			const int16_t *src = (const int16_t *)f->extended_data[c] + off;
			for (size_t i = 0; i < n; i++)
				dst[i] = (float)src[i] * (1.0f / 32768.0f);
			break;
		}
		case AV_SAMPLE_FMT_S32: {
			const int32_t *src = (const int32_t *)f->data[0] + off * ch + c;
			for (size_t i = 0; i < n; i++)
				dst[i] = (float)src[i * ch] * (1.0f / 2147483648.0f);
			break;
		}
		case AV_SAMPLE_FMT_S32P: {
			const int32_t *src = (const int32_t *)f->extended_data[c] + off;
			for (size_t i = 0; i < n; i++)
				dst[i] = (float)src[i] * (1.0f / 2147483648.0f);
			break;
		}
		case AV_SAMPLE_FMT_U8: {
			const uint8_t *src = f->data[0] + off * ch + c;
			for (size_t i = 0; i < n; i++)
				dst[i] = (float)((int)src[i * ch] - 128) * (1.0f / 128.0f);
			break;
		}
		case AV_SAMPLE_FMT_U8P: {
			const uint8_t *src = f->extended_data[c] + off;
			for (size_t i = 0; i < n; i++)
				dst[i] = (float)((int)src[i] - 128) * (1.0f / 128.0f);
			break;
		}
		case AV_SAMPLE_FMT_DBL: {
			const double *src = (const double *)f->data[0] + off * ch + c;
			for (size_t i = 0; i < n; i++)
				dst[i] = (float)src[i * ch];
			break;
		}
		case AV_SAMPLE_FMT_DBLP: {
			const double *src = (const double *)f->extended_data[c] + off;
			for (size_t i = 0; i < n; i++)
				dst[i] = (float)src[i];
			break;
		}
		default:
			memset(dst, 0, n * sizeof(float));
			break;
		}
	}
}

/* Zero the non-finite samples of p->planes[*][0..n-1]; how many. */
static size_t sanitize_planes(struct pcm *p, size_t n)
{
	size_t bad = 0;
	for (int c = 0; c < p->channels; c++) {
		if (!dsp_all_finite(p->planes[c], n))
			bad += dsp_zero_nonfinite(p->planes[c], n);
	}
	p->nonfinite += bad;
	return bad;
}

static int convert_direct(struct pcm *p, const AVFrame *f, pcm_sink sink, void *opaque)
{
	const size_t total = (size_t)f->nb_samples;
	const int ch = p->channels;
	for (size_t off = 0; off < total; off += PCM_SLICE) {
		size_t n = total - off < PCM_SLICE ? total - off : PCM_SLICE;
		struct pcm_slice s = {
			.planes = p->view, .n = n, .raw_format = AV_SAMPLE_FMT_NONE
		};
		if (f->format == AV_SAMPLE_FMT_FLTP) {
			bool finite = true;
			for (int c = 0; c < ch; c++) {
				p->view[c] = (const float *)f->extended_data[c] + off;
				if (!dsp_all_finite(p->view[c], n))
					finite = false;
			}
			if (!finite) {
				/* The decoder's buffers are not ours to change: copy. */
				reserve(p, n);
				for (int c = 0; c < ch; c++) {
					memcpy(p->planes[c], p->view[c], n * sizeof(float));
					p->view[c] = p->planes[c];
				}
				sanitize_planes(p, n);
			}
		} else {
			reserve(p, n);
			to_float(p, f, off, n);
			for (int c = 0; c < ch; c++)
				p->view[c] = p->planes[c];
			bool floats = f->format == AV_SAMPLE_FMT_FLT ||
				      f->format == AV_SAMPLE_FMT_DBL ||
				      f->format == AV_SAMPLE_FMT_DBLP;
			size_t bad = floats ? sanitize_planes(p, n) : 0;
			if (f->format == AV_SAMPLE_FMT_S16 || f->format == AV_SAMPLE_FMT_S32 ||
			    (f->format == AV_SAMPLE_FMT_FLT && bad == 0)) {
				int bps = av_get_bytes_per_sample(f->format);
				s.raw = f->data[0] + off * (size_t)ch * (size_t)bps;
				s.raw_format = f->format;
			}
		}
		int r = sink(opaque, &s);
		if (r < 0)
			return r;
	}
	return 0;
}

static int convert_swr(struct pcm *p, const AVFrame *f, pcm_sink sink, void *opaque)
{
	AVChannelLayout in = { 0 };
	layout_or_default(&in, &f->ch_layout);
	int r = 0;
	if (!p->swr || p->swr_rate != f->sample_rate || p->swr_format != f->format ||
	    av_channel_layout_compare(&p->swr_layout, &in) != 0) {
		swr_free(&p->swr);
		r = swr_alloc_set_opts2(&p->swr, &p->layout, AV_SAMPLE_FMT_FLTP, p->rate, &in,
					f->format, f->sample_rate, 0, NULL);
		if (r >= 0)
			r = swr_init(p->swr);
		if (r < 0) {
			swr_free(&p->swr);
			goto out_uninit_in;
		}
		p->swr_rate = f->sample_rate;
		p->swr_format = f->format;
		av_channel_layout_uninit(&p->swr_layout);
		av_channel_layout_copy(&p->swr_layout, &in);
	}
	int bps = av_get_bytes_per_sample(f->format);
	int in_ch = f->ch_layout.nb_channels;
	if (bps <= 0 || in_ch < 1 || in_ch > ANALYZE_MAX_CHANNELS) {
		r = AVERROR(EINVAL);
		goto out_uninit_in;
	}
	bool planar = av_sample_fmt_is_planar(f->format);
	const size_t total = (size_t)f->nb_samples;
	for (size_t off = 0; off < total; off += PCM_SLICE) {
		size_t n = total - off < PCM_SLICE ? total - off : PCM_SLICE;
		const uint8_t *in_ptrs[ANALYZE_MAX_CHANNELS];
		if (planar) {
			for (int c = 0; c < in_ch; c++)
				in_ptrs[c] = f->extended_data[c] + off * (size_t)bps;
		} else {
			in_ptrs[0] = f->data[0] + off * (size_t)bps * (size_t)in_ch;
		}
		int room = swr_get_out_samples(p->swr, (int)n);
		if (room < 0) {
			r = room;
			goto out_uninit_in;
		}
		reserve(p, (size_t)room + 1);
		uint8_t *out_ptrs[ANALYZE_MAX_CHANNELS];
		for (int c = 0; c < p->channels; c++)
			out_ptrs[c] = (uint8_t *)p->planes[c];
		int got = swr_convert(p->swr, out_ptrs, room + 1, in_ptrs, (int)n);
		if (got < 0) {
			r = got;
			goto out_uninit_in;
		}
		if (got == 0)
			continue;
		sanitize_planes(p, (size_t)got);
		for (int c = 0; c < p->channels; c++)
			p->view[c] = p->planes[c];
		struct pcm_slice s = { .planes = p->view, .n = (size_t)got,
				       .raw_format = AV_SAMPLE_FMT_NONE };
		r = sink(opaque, &s);
		if (r < 0)
			goto out_uninit_in;
	}
	r = 0;
out_uninit_in:
	av_channel_layout_uninit(&in);
	return r;
}

int pcm_convert(struct pcm *p, const AVFrame *f, pcm_sink sink, void *opaque)
{
	if (f->nb_samples <= 0)
		return 0;
	if (pcm_same_format(p, f) && handled(f->format))
		return convert_direct(p, f, sink, opaque);
	return convert_swr(p, f, sink, opaque);
}
