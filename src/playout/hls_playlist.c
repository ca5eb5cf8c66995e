/*
 * hls_playlist.c - media sequence continuity across Liquidsoap runs; see
 * hls_playlist.h.
 */
#include "playout/hls_playlist.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 4096
#define TAG_SEQ "#EXT-X-MEDIA-SEQUENCE:"
#define TAG_DSEQ "#EXT-X-DISCONTINUITY-SEQUENCE:"
#define TAG_DISC "#EXT-X-DISCONTINUITY"
#define TAG_INF "#EXTINF:"

void hls_seq_init(struct hls_seq *s)
{
	memset(s, 0, sizeof(*s));
	s->disc_at = -1;
}

/* The next line of in[*pos..len) (without its "\n" or "\r\n"). */
static bool next_line(const char *in, size_t len, size_t *pos, const char **line, size_t *n)
{
	if (*pos >= len)
		return false;
	const char *start = in + *pos;
	const char *nl = memchr(start, '\n', len - *pos);
	size_t l = nl ? (size_t)(nl - start) : len - *pos;
	*pos += l + (nl ? 1 : 0);
	if (l > 0 && start[l - 1] == '\r')
		l--;
	*line = start;
	*n = l;
	return true;
}

static bool starts(const char *line, size_t n, const char *tag)
{
	size_t t = strlen(tag);
	return n >= t && memcmp(line, tag, t) == 0;
}

/* A non-negative decimal number after tag: 0 or -EINVAL. */
static int number_after(const char *line, size_t n, const char *tag, int64_t *out)
{
	size_t t = strlen(tag);
	if (n == t || n - t > 18)
		return -EINVAL;
	int64_t v = 0;
	for (size_t i = t; i < n; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -EINVAL;
		v = v * 10 + (line[i] - '0');
	}
	*out = v;
	return 0;
}

struct scan {
	int64_t seq, dseq;
	size_t segments;
	size_t tags;			/* discontinuity tags in the input */
	char run[sizeof(((struct hls_seq *)0)->run)];
};

static int scan(const char *in, size_t len, struct scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	size_t pos = 0, n;
	const char *line;
	bool first = true, inf = false;	/* inf: an #EXTINF waits for its URI */
	while (next_line(in, len, &pos, &line, &n)) {
		if (n > LINE_MAX_LEN)
			return -EINVAL;
		if (first) {
			if (!starts(line, n, "#EXTM3U"))
				return -EINVAL;
			first = false;
			continue;
		}
		if (n == 0)
			continue;
		if (starts(line, n, TAG_SEQ)) {
			if (number_after(line, n, TAG_SEQ, &sc->seq) < 0)
				return -EINVAL;
		} else if (starts(line, n, TAG_DSEQ)) {
			if (number_after(line, n, TAG_DSEQ, &sc->dseq) < 0)
				return -EINVAL;
		} else if (n == strlen(TAG_DISC) && starts(line, n, TAG_DISC)) {
			sc->tags++;
		} else if (starts(line, n, TAG_INF)) {
			inf = true;
		} else if (line[0] != '#' && inf) {
			inf = false;
			if (sc->segments++ == 0) {
				size_t k = n;
				while (k > 0 && line[k - 1] != '_')
					k--;
				k = k > 0 ? k - 1 : n;
				if (k >= sizeof(sc->run))
					k = sizeof(sc->run) - 1;
				/* Kept as a word of safe characters (the state
				 * is saved as text). */
				for (size_t i = 0; i < k; i++) {
					char ch = line[i];
					bool safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
						    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
						    ch == '_';
					sc->run[i] = safe ? ch : '~';
				}
				sc->run[k] = '\0';
			}
		}
	}
	return first ? -EINVAL : 0;
}

int hls_playlist_rewrite(struct hls_seq *s, const char *in, size_t len, struct buf *out)
{
	if (!s || !in || !out || len > HLS_PLAYLIST_MAX)
		return -EINVAL;
	struct scan sc;
	int r = scan(in, len, &sc);
	if (r < 0)
		return r;
	if (sc.segments == 0)
		return buf_append(out, in, len);

	if (strcmp(sc.run, s->run) != 0) {
		if (s->run[0]) {
			/* A new run: continue the numbers, mark the join. Every
			 * segment of the old run, and its tags, left at once. */
			s->offset = s->next - sc.seq;
			s->disc_at = s->next;
			s->dbase = s->last_dseq + s->last_tags;
		}
		snprintf(s->run, sizeof(s->run), "%s", sc.run);
	}
	int64_t first = sc.seq + s->offset;
	bool ours_in = s->disc_at >= first && s->disc_at < first + (int64_t)sc.segments;
	int64_t dseq = sc.dseq + s->dbase + (s->disc_at >= 0 && s->disc_at < first ? 1 : 0);

	size_t pos = 0, n, index = 0;
	const char *line;
	bool after_disc = false, wrote_dseq = false, index_pending = false;
	while (r == 0 && next_line(in, len, &pos, &line, &n)) {
		if (starts(line, n, TAG_SEQ)) {
			r = buf_printf(out, TAG_SEQ "%" PRId64 "\n", first);
			if (r == 0 && !wrote_dseq && dseq > 0) {
				r = buf_printf(out, TAG_DSEQ "%" PRId64 "\n", dseq);
				wrote_dseq = true;
			}
			continue;
		}
		if (starts(line, n, TAG_DSEQ)) {
			if (!wrote_dseq)
				r = buf_printf(out, TAG_DSEQ "%" PRId64 "\n", dseq);
			wrote_dseq = true;
			continue;
		}
		if (starts(line, n, TAG_INF) && ours_in && !after_disc &&
		    first + (int64_t)index == s->disc_at)
			r = buf_append_str(out, TAG_DISC "\n");
		after_disc = n == strlen(TAG_DISC) && starts(line, n, TAG_DISC);
		if (starts(line, n, TAG_INF))
			index_pending = true;
		else if (n > 0 && line[0] != '#' && index_pending) {
			index++;
			index_pending = false;
		}
		if (r == 0)
			r = buf_append(out, line, n);
		if (r == 0)
			r = buf_append_char(out, '\n');
	}
	if (r < 0)
		return r;
	if (first + (int64_t)sc.segments > s->next)
		s->next = first + (int64_t)sc.segments;
	s->last_dseq = dseq;
	s->last_tags = (int64_t)sc.tags + (ours_in ? 1 : 0);
	return 0;
}

int hls_seq_format(const struct hls_seq *s, char *out, size_t size)
{
	int n = snprintf(out, size, "=%s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
			 " %" PRId64 "\n", s->run, s->offset, s->next, s->dbase,
			 s->disc_at, s->last_dseq, s->last_tags);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

int hls_seq_parse(struct hls_seq *s, const char *text)
{
	struct hls_seq t;
	hls_seq_init(&t);
	char run[sizeof(t.run) + 1];
	if (sscanf(text, "%128s %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
		   " %" SCNd64, run, &t.offset, &t.next, &t.dbase, &t.disc_at, &t.last_dseq,
		   &t.last_tags) != 7 || t.next < 0 || t.dbase < 0 || t.last_dseq < 0 ||
	    t.last_tags < 0 || t.disc_at < -1 || run[0] != '=')
		return -EINVAL;
	snprintf(t.run, sizeof(t.run), "%s", run + 1);
	*s = t;
	return 0;
}
