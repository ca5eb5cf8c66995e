/*
 * tone_segments - tell which test tone is heard when.
 *
 * Reads signed 16-bit little-endian mono PCM from stdin (make it with
 * `ffmpeg ... -f s16le -ac 1 -ar 8000 -`), cuts it into windows of
 * --window ms, finds in each the strongest of the candidate frequencies
 * (Goertzel filter) and prints one line per run of windows with the same
 * dominant tone:
 *
 *     <start seconds> <end seconds> <frequency Hz or 0 for none/silence> <level dBFS>
 *
 * A window counts as a tone when that frequency holds most of the
 * window's energy (--purity, default 0.6); otherwise it is 0. Runs
 * shorter than --min ms are merged into their neighbour. Tests use it to
 * check that the stream played the right tone at the right time.
 *
 * With --levels it prints instead one line per window with the level of
 * the whole window and of each candidate frequency, so that tests can
 * follow fades and mixes of several tones:
 *
 *     <start seconds> <window level dBFS> <level of FREQ1 dBFS> ...
 *
 * A frequency's level is that of the sine which would give the same
 * Goertzel power (Hann-windowed, so a tone 100 Hz away hardly leaks in):
 * a full-scale sine is -3 dBFS, like the window level of that sine.
 *
 * Usage: tone_segments [--rate HZ] [--window MS] [--min MS] [--purity P]
 *                      [--levels] FREQ...
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FREQS 32

struct run {
	double start, end;
	double freq;
	double level_sum;
	int windows;
};

static double goertzel_power(const double *x, int n, double freq, double rate)
{
	double k = 2.0 * cos(2.0 * M_PI * freq / rate);
	double s1 = 0, s2 = 0;
	for (int i = 0; i < n; i++) {
		double s0 = x[i] + k * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double p = s1 * s1 + s2 * s2 - k * s1 * s2;
	return p > 0 ? p : 0;
}

/* Level in dBFS of the sine at freq in x, Hann-windowed: a sine of
 * amplitude A gives a Goertzel magnitude of about A n / 4, so its mean
 * square A^2 / 2 is 8 p / n^2. */
static double hann_tone_level(const double *x, double *tmp, int n, double freq, double rate)
{
	for (int i = 0; i < n; i++)
		tmp[i] = x[i] * (0.5 - 0.5 * cos(2.0 * M_PI * i / (n - 1)));
	double p = goertzel_power(tmp, n, freq, rate);
	double ms = 8.0 * p / ((double)n * (double)n);
	return ms > 1e-12 ? 10 * log10(ms) : -120;
}

static void print_run(const struct run *r)
{
	double level = r->windows ? r->level_sum / r->windows : -120;
	printf("%.3f %.3f %.0f %.1f\n", r->start, r->end, r->freq, level);
}

int main(int argc, char **argv)
{
	double rate = 8000, window_ms = 50, min_ms = 150, purity = 0.6;
	int levels = 0;
	double freqs[MAX_FREQS];
	int nfreq = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = atof(argv[++i]);
		else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc)
			window_ms = atof(argv[++i]);
		else if (strcmp(argv[i], "--min") == 0 && i + 1 < argc)
			min_ms = atof(argv[++i]);
		else if (strcmp(argv[i], "--purity") == 0 && i + 1 < argc)
			purity = atof(argv[++i]);
		else if (strcmp(argv[i], "--levels") == 0)
			levels = 1;
		else if (nfreq < MAX_FREQS && atof(argv[i]) > 0)
			freqs[nfreq++] = atof(argv[i]);
		else {
			fprintf(stderr, "usage: %s [--rate HZ] [--window MS] [--min MS] "
					"[--purity P] [--levels] FREQ...\n", argv[0]);
			return 2;
		}
	}
	if (nfreq == 0 || rate <= 0 || window_ms <= 0) {
		fprintf(stderr, "%s: need at least one frequency\n", argv[0]);
		return 2;
	}
	int n = (int)(rate * window_ms / 1000.0);
	if (n < 16) {
		fprintf(stderr, "%s: window too short\n", argv[0]);
		return 2;
	}
	short *pcm = malloc(sizeof(short) * (size_t)n);
	double *x = malloc(sizeof(double) * (size_t)n);
	double *tmp = malloc(sizeof(double) * (size_t)n);
	if (!pcm || !x || !tmp)
		return 1;
	struct run cur = { 0 }, prev = { 0 };
	int have_prev = 0, have_cur = 0;
	long w = 0;
	for (;; w++) {
		size_t got = fread(pcm, sizeof(short), (size_t)n, stdin);
		if (got < (size_t)n)
			break;
		double energy = 0;
		for (int i = 0; i < n; i++) {
			x[i] = pcm[i] / 32768.0;
			energy += x[i] * x[i];
		}
		double level = energy > 0 ? 10 * log10(energy / n) : -120;
		if (levels) {
			printf("%.3f %.1f", w * window_ms / 1000.0, level);
			for (int f = 0; f < nfreq; f++)
				printf(" %.1f", hann_tone_level(x, tmp, n, freqs[f], rate));
			putchar('\n');
			continue;
		}
		double best = 0, best_p = 0;
		for (int f = 0; f < nfreq; f++) {
			double p = goertzel_power(x, n, freqs[f], rate);
			if (p > best_p) {
				best_p = p;
				best = freqs[f];
			}
		}
		/* Goertzel power of a pure tone of amplitude A over n samples is
		 * about (A n / 2)^2; the window's energy is A^2 n / 2. */
		double share = energy > 0 ? best_p * 2.0 / ((double)n * energy) : 0;
		double freq = (share >= purity && level > -60) ? best : 0;
		double t0 = w * window_ms / 1000.0, t1 = (w + 1) * window_ms / 1000.0;
		if (have_cur && cur.freq == freq) {
			cur.end = t1;
			cur.level_sum += level;
			cur.windows++;
			continue;
		}
		if (have_cur) {
			/* Close the current run; a short run joins its predecessor. */
			if (have_prev && (cur.end - cur.start) * 1000 < min_ms) {
				prev.end = cur.end;
			} else if (have_prev && prev.freq == cur.freq) {
				prev.end = cur.end;
				prev.level_sum += cur.level_sum;
				prev.windows += cur.windows;
			} else {
				if (have_prev)
					print_run(&prev);
				prev = cur;
				have_prev = 1;
			}
		}
		cur = (struct run){ t0, t1, freq, level, 1 };
		have_cur = 1;
	}
	if (have_cur) {
		if (have_prev && (cur.end - cur.start) * 1000 < min_ms) {
			prev.end = cur.end;
		} else if (have_prev && prev.freq == cur.freq) {
			prev.end = cur.end;
		} else {
			if (have_prev)
				print_run(&prev);
			prev = cur;
			have_prev = 1;
		}
	}
	if (have_prev)
		print_run(&prev);
	free(pcm);
	free(x);
	free(tmp);
	return 0;
}
