/*
 * safety_feed.h - keep Icecast listeners through a Liquidsoap restart.
 *
 * Icecast moves the listeners of a mount whose source goes away to the
 * mount's <fallback-mount>, and back when the source returns
 * (<fallback-override>). A safety feed is that fallback's source: a
 * thread of playout (not of Liquidsoap, so it lives on when Liquidsoap
 * dies) that sends the safety audio, encoded once like the output (same
 * format and bitrate, so players do not notice the move), in a loop and
 * in real time to "<mount>.safety" on the same Icecast server. It
 * reconnects (every second at most) when Icecast goes or refuses it.
 *
 * Only constant-bitrate frame formats can be looped and paced by their
 * byte rate: MP3 and AAC (ADTS). Ogg outputs get no feed.
 */
#ifndef ONAIR_PLAYOUT_SAFETY_FEED_H
#define ONAIR_PLAYOUT_SAFETY_FEED_H

#include <stdbool.h>

#include "protocol/protocol.h"

#define SAFETY_FEED_SUFFIX ".safety"

struct safety_feed;

struct safety_feed_options {
	const char *host;	/* Icecast server */
	int port;
	const char *password;	/* source password (user "source") */
	const char *mount;	/* the output's mount; the feed's is mount + SAFETY_FEED_SUFFIX */
	const char *file;	/* the encoded safety audio */
	/* When set, file is first made from this audio (any format FFmpeg
	 * reads) with safety_feed_encode by ffmpeg (default "ffmpeg"), if it
	 * is missing or older, in the feed's thread. */
	const char *source;
	const char *ffmpeg;
	enum proto_format format;
	int bitrate;		/* kbit/s of file */
};

/* Can a feed loop this format? */
bool safety_feed_supported(enum proto_format format);

/*
 * Encode the audio file in (any format FFmpeg reads) to out as format at
 * kbps, 44.1 kHz stereo, without tags, with the program ffmpeg ("ffmpeg"
 * or a path). Written to a temporary name, then renamed. 0 or -errno
 * (-EINVAL for an unsupported format, -EIO when ffmpeg fails).
 */
int safety_feed_encode(const char *ffmpeg, const char *in, const char *out,
		       enum proto_format format, int kbps);

/* Start feeding (the options are copied). 0 or -errno. */
int safety_feed_start(struct safety_feed **out, const struct safety_feed_options *o);
/* Stop and free; safe on NULL. It waits for the thread, which looks at
 * the request every 0.1 s (longer only while it encodes the audio). */
void safety_feed_stop(struct safety_feed *f);

#include "common/banned.h"
#endif
