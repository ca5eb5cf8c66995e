/*
 * fuzz_hls_playlist.c - the HLS playlist renumbering on arbitrary bytes,
 * twice in a row with one state (a run change on the second): it must
 * refuse or write a playlist whose media sequence never goes back, and
 * the state must survive its own text form.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "playout/hls_playlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hls_seq s;
	hls_seq_init(&s);
	/* Two playlists: the input split at its first NUL, or twice itself. */
	const char *a = (const char *)data;
	const uint8_t *nul = memchr(data, 0, size);
	size_t alen = nul ? (size_t)(nul - data) : size;
	const char *b = nul ? (const char *)nul + 1 : a;
	size_t blen = nul ? size - alen - 1 : size;
	struct buf out;
	buf_init(&out, HLS_PLAYLIST_MAX + 4096);
	int64_t next = 0;
	for (int i = 0; i < 2; i++) {
		buf_reset(&out);
		int r = hls_playlist_rewrite(&s, i ? b : a, i ? blen : alen, &out);
		if (r < 0 && out.len != 0 && r != -ENOSPC)
			__builtin_trap();
		if (s.next < next)
			__builtin_trap();
		next = s.next;
		char text[512];
		struct hls_seq back;
		if (hls_seq_format(&s, text, sizeof(text)) == 0 &&
		    (hls_seq_parse(&back, text) < 0 || back.next != s.next ||
		     back.offset != s.offset))
			__builtin_trap();
	}
	buf_release(&out);
	return 0;
}
