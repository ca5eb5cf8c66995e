#include "worker/loudness.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

#define BLOCK_SUBS 4			/* a 400 ms gating block */
#define ABSOLUTE_GATE_LUFS -70.0
#define RELATIVE_GATE_LU -10.0		/* integrated loudness */
#define RANGE_RELATIVE_GATE_LU -20.0	/* loudness range */

static double to_energy(double lufs)
{
	return pow(10.0, (lufs + 0.691) / 10.0);
}

static double to_lufs(double energy)
{
	return energy > 0 ? 10.0 * log10(energy) - 0.691 : -INFINITY;
}

int loudness_init(struct loudness *l, unsigned channels, unsigned long rate, const int *map)
{
	memset(l, 0, sizeof(*l));
	l->st = ebur128_init(channels, rate, EBUR128_MODE_M);
	if (!l->st)
		return -ENOMEM;
	for (unsigned c = 0; c < channels; c++)
		ebur128_set_channel(l->st, c, map[c]);
	l->channels = channels;
	/* The frame count ebur128_loudness_window(st, 100) averages over. */
	l->sub = rate * 100 / 1000;
	return 0;
}

void loudness_release(struct loudness *l)
{
	if (l->st)
		ebur128_destroy(&l->st);
	free(l->blocks);
	free(l->shorts);
	memset(l, 0, sizeof(*l));
}

static void keep(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*v = xreallocarray(*v, *cap, sizeof(double));
	}
	(*v)[(*n)++] = x;
}

/* A sub-block is complete: read its energy and update the blocks. */
static int sub_block_done(struct loudness *l)
{
	double lufs;
	if (ebur128_loudness_window(l->st, 100, &lufs) != EBUR128_SUCCESS)
		return -ENOMEM;
	double e = isfinite(lufs) ? to_energy(lufs) : 0.0;
	l->ring[l->subs % LOUDNESS_SHORT_TERM] = e;
	l->subs++;
	double gate = to_energy(ABSOLUTE_GATE_LUFS);
	if (l->subs >= BLOCK_SUBS) {
		double z = 0;
		for (uint64_t k = l->subs - BLOCK_SUBS; k < l->subs; k++)
			z += l->ring[k % LOUDNESS_SHORT_TERM];
		z /= BLOCK_SUBS;
		if (z >= gate)
			keep(&l->blocks, &l->n_blocks, &l->cap_blocks, z);
	}
	if (l->subs >= LOUDNESS_SHORT_TERM) {
		double s = 0;
		for (int k = 0; k < LOUDNESS_SHORT_TERM; k++)
			s += l->ring[k];
		s /= LOUDNESS_SHORT_TERM;
		if (s >= gate)
			keep(&l->shorts, &l->n_shorts, &l->cap_shorts, s);
	}
	return 0;
}

/* Feed src in pieces that end on sub-block boundaries. */
#define ADD(type, fn)                                                                   \
	int loudness_add_##type(struct loudness *l, const type *src, size_t frames)     \
	{                                                                               \
		while (frames > 0) {                                                    \
			size_t n = l->sub - l->fill;                                    \
			if (n > frames)                                                 \
				n = frames;                                             \
			if (fn(l->st, src, n) != EBUR128_SUCCESS)                       \
				return -ENOMEM;                                         \
			src += n * l->channels;                                         \
			frames -= n;                                                    \
			l->fill += n;                                                   \
			if (l->fill == l->sub) {                                        \
				l->fill = 0;                                            \
				if (sub_block_done(l) < 0)                              \
					return -ENOMEM;                                 \
			}                                                               \
		}                                                                       \
		return 0;                                                               \
	}

ADD(short, ebur128_add_frames_short)
ADD(int, ebur128_add_frames_int)
ADD(float, ebur128_add_frames_float)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void loudness_result(const struct loudness *l, double *integrated, double *range)
{
	*integrated = -INFINITY;
	*range = 0;
	if (l->n_blocks) {
		double mean = 0;
		for (size_t i = 0; i < l->n_blocks; i++)
			mean += l->blocks[i];
		mean /= (double)l->n_blocks;
		double threshold = mean * pow(10.0, RELATIVE_GATE_LU / 10.0);
		double sum = 0;
		size_t n = 0;
		for (size_t i = 0; i < l->n_blocks; i++) {
			if (l->blocks[i] >= threshold) {
				sum += l->blocks[i];
				n++;
			}
		}
		if (n)
			*integrated = to_lufs(sum / (double)n);
	}
	if (l->n_shorts) {
		double mean = 0;
		for (size_t i = 0; i < l->n_shorts; i++)
			mean += l->shorts[i];
		mean /= (double)l->n_shorts;
		double threshold = mean * pow(10.0, RANGE_RELATIVE_GATE_LU / 10.0);
		double *v = xmalloc(l->n_shorts * sizeof(double));
		size_t n = 0;
		for (size_t i = 0; i < l->n_shorts; i++) {
			if (l->shorts[i] >= threshold)
				v[n++] = l->shorts[i];
		}
		if (n) {
			qsort(v, n, sizeof(double), cmp_double);
			double lo = v[(size_t)((double)(n - 1) * 0.10 + 0.5)];
			double hi = v[(size_t)((double)(n - 1) * 0.95 + 0.5)];
			*range = to_lufs(hi) - to_lufs(lo);
		}
		free(v);
	}
}
