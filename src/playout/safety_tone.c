#include "playout/safety_tone.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/fsutil.h"

#define RATE 44100
#define SECONDS 8
#define CHANNELS 2

static void put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	put_le16(p, (uint16_t)(v & 0xffff));
	put_le16(p + 2, (uint16_t)(v >> 16));
}

int safety_tone_write(const char *path)
{
	const uint32_t frames = RATE * SECONDS;
	const uint32_t data_bytes = frames * CHANNELS * 2;
	size_t size = 44 + (size_t)data_bytes;
	unsigned char *wav = xmalloc(size);
	memcpy(wav, "RIFF", 4);
	put_le32(wav + 4, (uint32_t)(size - 8));
	memcpy(wav + 8, "WAVEfmt ", 8);
	put_le32(wav + 16, 16);
	put_le16(wav + 20, 1);			/* PCM */
	put_le16(wav + 22, CHANNELS);
	put_le32(wav + 24, RATE);
	put_le32(wav + 28, RATE * CHANNELS * 2);
	put_le16(wav + 32, CHANNELS * 2);
	put_le16(wav + 34, 16);
	memcpy(wav + 36, "data", 4);
	put_le32(wav + 40, data_bytes);
	/* Both frequencies complete whole cycles in 8 s, so the loop is
	 * seamless. Amplitude 0.03 each: about -24 dBFS together. */
	for (uint32_t i = 0; i < frames; i++) {
		double t = (double)i / RATE;
		double v = 0.03 * sin(2 * M_PI * SAFETY_TONE_HZ_LOW * t) +
			   0.03 * sin(2 * M_PI * SAFETY_TONE_HZ_HIGH * t);
		int16_t s = (int16_t)lrint(v * 32767);
		for (int c = 0; c < CHANNELS; c++)
			put_le16(wav + 44 + ((size_t)i * CHANNELS + (size_t)c) * 2, (uint16_t)s);
	}
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	int r;
	if (!slash) {
		r = fs_write_atomic(".", path, wav, size);
	} else {
		*slash = '\0';
		r = fs_write_atomic(*dir ? dir : "/", slash + 1, wav, size);
	}
	free(wav);
	return r;
}
