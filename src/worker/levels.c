#include "worker/levels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "worker/dsp.h"

#define FINE_PER_BUCKET 8

static void merge(struct analysis_peak *into, struct analysis_peak p)
{
	if (p.min < into->min)
		into->min = p.min;
	if (p.max > into->max)
		into->max = p.max;
}

void waveform_init(struct waveform *w, size_t buckets)
{
	memset(w, 0, sizeof(*w));
	w->cap = (buckets ? buckets : 1) * FINE_PER_BUCKET;
	w->fine = xcalloc(w->cap, sizeof(*w->fine));
	w->per = 1;
}

void waveform_release(struct waveform *w)
{
	free(w->fine);
	memset(w, 0, sizeof(*w));
}

/* Close the open bucket; halve the resolution when the array is full. */
static void push(struct waveform *w)
{
	w->fine[w->count++] = w->open;
	w->fill = 0;
	if (w->count < w->cap)
		return;
	for (size_t i = 0; i < w->cap / 2; i++) {
		struct analysis_peak p = w->fine[2 * i];
		merge(&p, w->fine[2 * i + 1]);
		w->fine[i] = p;
	}
	w->count = w->cap / 2;
	w->per *= 2;
}

void waveform_add(struct waveform *w, const float *const *ch, int channels, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint64_t room = w->per - w->fill;
		size_t m = n - i < room ? n - i : (size_t)room;
		for (int c = 0; c < channels; c++) {
			struct analysis_peak p;
			dsp_minmax(ch[c] + i, m, &p.min, &p.max);
			if (w->fill == 0 && c == 0)
				w->open = p;
			else
				merge(&w->open, p);
		}
		w->fill += m;
		w->total += m;
		i += m;
		if (w->fill == w->per)
			push(w);
	}
}

static float absmax_of(struct analysis_peak p)
{
	float lo = fabsf(p.min), hi = fabsf(p.max);
	return lo > hi ? lo : hi;
}

float waveform_absmax(const struct waveform *w)
{
	float r = 0;
	for (size_t i = 0; i < w->count; i++) {
		float a = absmax_of(w->fine[i]);
		r = a > r ? a : r;
	}
	if (w->fill) {
		float a = absmax_of(w->open);
		r = a > r ? a : r;
	}
	return r;
}

bool waveform_finish(struct waveform *w, size_t buckets, struct analysis_peak *out)
{
	if (w->total == 0 || buckets == 0)
		return false;
	if (w->fill) {
		/* A partial last bucket: at most one push, which may halve. */
		push(w);
	}
	uint64_t total = w->total;
	for (size_t j = 0; j < buckets; j++) {
		uint64_t a = total * j / buckets;
		uint64_t b = total * (j + 1) / buckets;
		if (b <= a)
			b = a + 1;
		size_t k0 = (size_t)(a / w->per);
		size_t k1 = (size_t)((b - 1) / w->per);
		if (k1 >= w->count)
			k1 = w->count - 1;
		if (k0 > k1)
			k0 = k1;
		struct analysis_peak p = w->fine[k0];
		for (size_t k = k0 + 1; k <= k1; k++)
			merge(&p, w->fine[k]);
		out[j] = p;
	}
	return true;
}

void silence_init(struct silence *s, double threshold_dbfs)
{
	s->threshold = (float)pow(10.0, threshold_dbfs / 20.0);
	s->pos = 0;
	s->first = -1;
	s->last = -1;
}

static bool loud_at(const struct silence *s, const float *const *ch, int channels, size_t i)
{
	for (int c = 0; c < channels; c++) {
		if (fabsf(ch[c][i]) > s->threshold)
			return true;
	}
	return false;
}

void silence_add(struct silence *s, const float *const *ch, int channels, size_t n, float peak)
{
	if (peak > s->threshold) {
		if (s->first < 0) {
			size_t i = 0;
			while (i < n && !loud_at(s, ch, channels, i))
				i++;
			s->first = (int64_t)(s->pos + i);
		}
		size_t j = n;
		while (j > 0 && !loud_at(s, ch, channels, j - 1))
			j--;
		s->last = (int64_t)(s->pos + j - 1);
	}
	s->pos += n;
}
