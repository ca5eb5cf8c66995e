/*
 * safety_tone.h - the built-in safety loop: what plays when there is no
 * schedule, no fallback playlist and no live source, so the station is
 * never silent. A soft, steady chord (two sine tones, 330 and 495 Hz,
 * about -24 dBFS, 8 seconds, seamless when looped) written as a WAV file.
 * Stations replace it with playout.safety_file.
 */
#ifndef ONAIR_PLAYOUT_SAFETY_TONE_H
#define ONAIR_PLAYOUT_SAFETY_TONE_H

#define SAFETY_TONE_HZ_LOW 330
#define SAFETY_TONE_HZ_HIGH 495

/* Write the safety loop to path (atomically). 0 or -errno. */
int safety_tone_write(const char *path);

#include "common/banned.h"
#endif
