/*
 * source.h - the bytes under an analysis: a regular file or a memory
 * buffer, read through FFmpeg's custom I/O callbacks, and hashed
 * (SHA-256) on the way so the file is read once.
 *
 * The hash covers the bytes in file order: data read by the demuxer
 * extends it when it continues the hashed prefix; a read past the prefix
 * (a demuxer seeking ahead, an MP3 reader looking for the ID3v1 tag at
 * the end) first hashes the gap; source_hash_finish() hashes what the
 * demuxer never read. Every byte is hashed exactly once.
 *
 * Not thread-safe per struct; the caller owns it.
 */
#ifndef ONAIR_WORKER_SOURCE_H
#define ONAIR_WORKER_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sodium.h>

#define SOURCE_CHUNK (64 * 1024)	/* FFmpeg I/O buffer and gap reads */

struct source {
	int fd;			/* -1 for a memory source */
	const uint8_t *mem;
	int64_t size;		/* at open (fstat); the file may grow */
	int64_t pos;		/* next byte FFmpeg reads */
	int err;		/* first read error, -errno; 0 if none */
	bool hash;		/* hashing wanted and still possible */
	int hash_err;		/* why hashing stopped early, -errno; 0 if it did not */
	int64_t hashed;		/* bytes [0, hashed) are in sha */
	int64_t deadline_us;	/* time_mono_us() after which gap hashing gives up */
	crypto_hash_sha256_state sha;
	uint8_t *chunk;		/* gap-read buffer, SOURCE_CHUNK bytes */
};

/* Open path read-only: 0, -errno from open/fstat, or -EINVAL when it is
 * not a regular file (a FIFO or device would never end). */
int source_open_file(struct source *s, const char *path, bool hash, int64_t deadline_us);

/* Use data[0..size-1] (not copied; must outlive s). */
void source_open_buffer(struct source *s, const void *data, size_t size, bool hash,
			int64_t deadline_us);

/* Close the file and free the buffer. */
void source_close(struct source *s);

/* Read up to n bytes at offset off without moving FFmpeg's position or
 * hashing: bytes read, 0 at the end, or -errno. */
ssize_t source_pread(struct source *s, void *buf, size_t n, int64_t off);

/* AVIOContext read_packet callback (opaque is the struct source): bytes
 * read, AVERROR_EOF at the end, or an AVERROR on a read error. */
int source_read(void *opaque, uint8_t *buf, int n);

/* AVIOContext seek callback: SEEK_SET/CUR/END and AVSEEK_SIZE. */
int64_t source_seek(void *opaque, int64_t offset, int whence);

/*
 * Hash the rest of the source and write "sha256:<hex>" to out
 * (ANALYSIS_HASH_LEN bytes). 0; -ETIMEDOUT when the deadline passed;
 * -EIO (or the read's -errno) when the file could not be read to its
 * end; -ECANCELED when hashing was off. out is "" on error.
 */
int source_hash_finish(struct source *s, char *out, size_t size);

#include "common/banned.h"
#endif
