#include "worker/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avio.h>
#include <libavutil/error.h>

#include "common/alloc.h"
#include "common/timeutil.h"

static void source_common(struct source *s, bool hash, int64_t deadline_us)
{
	s->pos = 0;
	s->err = 0;
	s->hash = hash;
	s->hash_err = 0;
	s->hashed = 0;
	s->deadline_us = deadline_us;
	s->chunk = xmalloc(SOURCE_CHUNK);
	crypto_hash_sha256_init(&s->sha);
}

int source_open_file(struct source *s, const char *path, bool hash, int64_t deadline_us)
{
	memset(s, 0, sizeof(*s));
	s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (s->fd < 0)
		return -errno;
	struct stat sb;
	int r;
	if (fstat(s->fd, &sb) < 0) {
		r = -errno;
		goto out_close;
	}
	if (S_ISDIR(sb.st_mode)) {
		r = -EISDIR;
		goto out_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		r = -EINVAL;
		goto out_close;
	}
	s->size = sb.st_size;
	source_common(s, hash, deadline_us);
	return 0;

out_close:
	close(s->fd);
	s->fd = -1;
	return r;
}

void source_open_buffer(struct source *s, const void *data, size_t size, bool hash,
			int64_t deadline_us)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->mem = data;
	s->size = (int64_t)size;
	source_common(s, hash, deadline_us);
}

void source_close(struct source *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->chunk);
	s->chunk = NULL;
}

/* Read up to n bytes at off: bytes read, 0 at the end, or -errno. */
static ssize_t read_at(struct source *s, void *buf, size_t n, int64_t off)
{
	if (s->fd < 0) {
		if (off >= s->size)
			return 0;
		size_t left = (size_t)(s->size - off);
		if (n > left)
			n = left;
		memcpy(buf, s->mem + off, n);
		return (ssize_t)n;
	}
	for (;;) {
		ssize_t got = pread(s->fd, buf, n, (off_t)off);
		if (got >= 0)
			return got;
		if (errno != EINTR)
			return -errno;
	}
}

ssize_t source_pread(struct source *s, void *buf, size_t n, int64_t off)
{
	return read_at(s, buf, n, off);
}

/* Extend the hash up to offset upto (or the end of the file, if
 * sooner). 0, -ETIMEDOUT, or a read error. */
static int hash_gap(struct source *s, int64_t upto)
{
	while (s->hashed < upto) {
		if (time_mono_us() > s->deadline_us)
			return -ETIMEDOUT;
		int64_t want = upto - s->hashed;
		size_t n = want < SOURCE_CHUNK ? (size_t)want : SOURCE_CHUNK;
		ssize_t got = read_at(s, s->chunk, n, s->hashed);
		if (got < 0)
			return (int)got;
		if (got == 0)
			break;
		crypto_hash_sha256_update(&s->sha, s->chunk, (unsigned long long)got);
		s->hashed += got;
	}
	return 0;
}

/* buf[0..n-1] was read at offset off: hash what continues the prefix. */
static void hash_feed(struct source *s, const uint8_t *buf, size_t n, int64_t off)
{
	if (!s->hash)
		return;
	if (off > s->hashed) {
		int r = hash_gap(s, off);
		if (r < 0) {
			s->hash = false;	/* given up; source_hash_finish reports it */
			s->hash_err = r;
			return;
		}
	}
	int64_t end = off + (int64_t)n;
	if (off <= s->hashed && end > s->hashed) {
		size_t skip = (size_t)(s->hashed - off);
		crypto_hash_sha256_update(&s->sha, buf + skip, (unsigned long long)(n - skip));
		s->hashed = end;
	}
}

int source_read(void *opaque, uint8_t *buf, int n)
{
	struct source *s = opaque;
	if (n <= 0)
		return 0;
	ssize_t got = read_at(s, buf, (size_t)n, s->pos);
	if (got < 0) {
		if (!s->err)
			s->err = (int)got;
		return AVERROR((int)-got);
	}
	if (got == 0)
		return AVERROR_EOF;
	hash_feed(s, buf, (size_t)got, s->pos);
	s->pos += got;
	return (int)got;
}

int64_t source_seek(void *opaque, int64_t offset, int whence)
{
	struct source *s = opaque;
	int64_t base;
	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return s->size;
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = s->pos;
		break;
	case SEEK_END:
		base = s->size;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0)
		return AVERROR(EINVAL);
	s->pos = base + offset;
	return s->pos;
}

int source_hash_finish(struct source *s, char *out, size_t size)
{
	out[0] = '\0';
	if (!s->hash)
		return s->hash_err ? s->hash_err : -ECANCELED;
	int r = hash_gap(s, INT64_MAX);
	if (r < 0) {
		s->hash = false;
		s->hash_err = r;
		return r;
	}
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&s->sha, digest);
	s->hash = false;
	int n = snprintf(out, size, "sha256:");
	for (size_t i = 0; i < sizeof(digest) && n > 0 && (size_t)n + 2 < size; i++)
		n += snprintf(out + n, size - (size_t)n, "%02x", digest[i]);
	return 0;
}
