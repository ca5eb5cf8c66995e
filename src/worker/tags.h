/*
 * tags.h - tags from FFmpeg metadata as valid UTF-8, and the text
 * helpers behind them.
 */
#ifndef ONAIR_WORKER_TAGS_H
#define ONAIR_WORKER_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include <libavutil/dict.h>

#include "worker/analyze.h"

/*
 * Fill t from the container's metadata, then the audio stream's (the
 * first that has a key wins; FFmpeg's generic names first, then the raw
 * ID3v2 / Vorbis comment / MP4 names it leaves unconverted). Either may
 * be NULL. t must be empty (zeroed); its strings are owned by t.
 */
void tags_read(struct analysis_tags *t, const AVDictionary *container,
	       const AVDictionary *stream);

/* Free t's strings and zero it. */
void tags_release(struct analysis_tags *t);

/* True when s[0..n-1] is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool text_utf8_valid(const char *s, size_t n);

/*
 * A copy of s as valid UTF-8: s itself when it is valid, otherwise s
 * read as Windows-1252 (Latin-1 with the 0x80-0x9F printable
 * characters). Leading and trailing white space is trimmed and the
 * result cut (at a character boundary) to at most max bytes. NULL when
 * nothing is left. Free with free().
 */
char *text_to_utf8(const char *s, size_t max);

#include "common/banned.h"
#endif
