/*
 * hls_playlist.h - one continuous HLS playlist across Liquidsoap restarts.
 *
 * Each Liquidsoap run writes its media playlist from media sequence 0,
 * with segment names "<stream>_r<run>_<n>.<ext>" (the run token is set in
 * the script, liq_script.h), so a restart would send players back in the
 * sequence. Playout serves every media playlist through this rewrite: it
 * keeps, per playlist, an offset added to Liquidsoap's
 * #EXT-X-MEDIA-SEQUENCE so that numbers only grow; when the run changes
 * (the segments' names before their last '_' differ from last time) the
 * offset continues from the last segment served, the first segment of the
 * new run gets an #EXT-X-DISCONTINUITY, and #EXT-X-DISCONTINUITY-SEQUENCE
 * grows by one for each discontinuity that has left the playlist, as RFC
 * 8216 asks. A playlist without segments (a master playlist) is served
 * as it is.
 */
#ifndef ONAIR_PLAYOUT_HLS_PLAYLIST_H
#define ONAIR_PLAYOUT_HLS_PLAYLIST_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Largest playlist rewritten, bytes. */
#define HLS_PLAYLIST_MAX (256u * 1024)

struct hls_seq {
	char run[128];		/* the segments' names before their last '_'; "" none yet */
	int64_t offset;		/* added to Liquidsoap's media sequence */
	int64_t next;		/* one past the last segment served (output numbering) */
	int64_t dbase;		/* added to Liquidsoap's discontinuity sequence */
	int64_t disc_at;	/* output sequence of the run's first segment; -1 none */
	int64_t last_dseq;	/* discontinuity sequence last served */
	int64_t last_tags;	/* discontinuity tags in the playlist last served */
};

/* A fresh state (no run seen). */
void hls_seq_init(struct hls_seq *s);

/*
 * Rewrite the media playlist in[0..len) into out (appended), updating s.
 * 0; -EINVAL when in is not a playlist (no "#EXTM3U" first line, a number
 * that does not parse, a line over 4 KiB) or is larger than
 * HLS_PLAYLIST_MAX: out is then untouched; -ENOSPC when out is full.
 */
int hls_playlist_rewrite(struct hls_seq *s, const char *in, size_t len, struct buf *out);

/* The state as one line of text (for a file that survives a playout
 * restart), and back: 0 or -EINVAL. */
int hls_seq_format(const struct hls_seq *s, char *out, size_t size);
int hls_seq_parse(struct hls_seq *s, const char *text);

#include "common/banned.h"
#endif
