/*
 * storage.h - the media directory (storage.path), content-addressed.
 *
 * Every stored file is named by the SHA-256 of its bytes:
 *
 *   root/<h0h1>/<h2h3>/<64 hex digits>.<ext>     the files
 *   root/tmp/                                    files being written
 *
 * A key is the path relative to root ("9f/86/9f86d0...0a08.mp3"). Keys are
 * made here, from the hash and a lower-cased extension, never from a name
 * a client or a file supplied, and storage_path() accepts nothing but
 * that exact shape: no path from outside reaches the file system.
 *
 * A file is written to root/tmp while it is hashed, fsync'ed, then
 * renamed into place (and its directory fsync'ed), so a key names
 * complete bytes or nothing. The same bytes stored twice are one file:
 * the second put finds the first (whatever extension it was stored with)
 * and returns its key. Temporary files left by a crash are removed by
 * storage_sweep().
 *
 * Thread-safety: a struct storage is not changed after storage_open; any
 * number of threads (and processes) may put, read and remove at once.
 */
#ifndef ONAIR_STORAGE_H
#define ONAIR_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "ab/cd/" + 64 hex + "." + up to 8 extension characters + NUL. */
#define STORAGE_KEY_SIZE 80
/* "sha256:" + 64 hex + NUL. */
#define STORAGE_HASH_SIZE 72
/* Longest extension kept; longer or other characters give "bin". */
#define STORAGE_EXT_MAX 8

struct storage;

/*
 * Open the store at root (an absolute or relative directory path),
 * creating root and root/tmp (mode 0755) when missing. *out is freed with
 * storage_close. 0, -ENOMEM never (allocation failure aborts), or -errno
 * from creating the directories (-EACCES, -ENOTDIR, -ENAMETOOLONG, ...).
 */
int storage_open(struct storage **out, const char *root);

/* Free st (NULL is ignored). Nothing on disk changes. */
void storage_close(struct storage *st);

/*
 * Copy the bytes of the regular file src_path into the store. The file
 * is read once: written to root/tmp while hashed (SHA-256), fsync'ed,
 * then renamed to its key. ext_hint ("MP3", "flac", NULL) is lower-cased
 * and used when it is [a-z0-9]{1,8}, else "bin". On success key_out gets
 * the key, hash_out "sha256:<hex>" and *size (may be NULL) the byte
 * count. When the same bytes are stored already, their key is returned
 * and nothing new is written. max_size: the largest accepted file in
 * bytes, 0 for no limit.
 * Errors (nothing is left behind, not in root/tmp either):
 *   -EFBIG     the file is larger than max_size;
 *   -EINVAL    src_path is not a regular file;
 *   -ENOENT, -EACCES, -EIO, ...   src_path cannot be read;
 *   -ENOSPC, -EIO, ...            the store cannot be written.
 */
int storage_put_file(struct storage *st, const char *src_path, const char *ext_hint,
		     int64_t max_size, char key_out[STORAGE_KEY_SIZE],
		     char hash_out[STORAGE_HASH_SIZE], int64_t *size);

/*
 * As storage_put_file, reading the bytes from read(ctx, buf, len), which
 * returns the number of bytes read (> 0), 0 at the end, or a negative
 * errno. A negative return stops the put and is returned as it is; then,
 * as for every error, nothing stays in the store. -EFBIG as soon as more
 * than max_size bytes (when not 0) have been read. read is called on the
 * calling thread only.
 */
int storage_put_stream(struct storage *st, ssize_t (*read)(void *ctx, void *buf, size_t len),
		       void *ctx, const char *ext_hint, int64_t max_size,
		       char key_out[STORAGE_KEY_SIZE], char hash_out[STORAGE_HASH_SIZE],
		       int64_t *size);

/*
 * The same as storage_put_stream for a source that pushes its bytes (an
 * HTTP upload): storage_put_begin opens a temporary file (*out; -errno
 * when it cannot), storage_put_write adds bytes (-EFBIG past max_size
 * when max_size > 0, -errno on a write error: the put must then be
 * aborted), storage_put_finish makes the bytes permanent under their key
 * (or finds them stored already) and frees the put, storage_put_abort
 * removes what was written and frees it. Every begun put ends with
 * exactly one of finish and abort. One thread at a time per put.
 */
struct storage_put;
int storage_put_begin(struct storage *st, int64_t max_size, struct storage_put **out);
int storage_put_write(struct storage_put *sp, const void *data, size_t len);
/* Bytes written so far. */
int64_t storage_put_size(const struct storage_put *sp);
int storage_put_finish(struct storage_put *sp, const char *ext_hint,
		       char key_out[STORAGE_KEY_SIZE], char hash_out[STORAGE_HASH_SIZE]);
void storage_put_abort(struct storage_put *sp);

/* Store len bytes from data (artwork, waveform JSON) as storage_put_file
 * does, without a size limit. 0 or -errno as above. */
int storage_put_bytes(struct storage *st, const void *data, size_t len, const char *ext_hint,
		      char key_out[STORAGE_KEY_SIZE], char hash_out[STORAGE_HASH_SIZE]);

/* True when key has the exact shape of a key the store makes
 * ("ab/cd/<64 lower-case hex starting abcd>.<[a-z0-9]{1,8}>"). */
bool storage_key_valid(const char *key);

/*
 * The absolute (when root is) path of key into out[0..size-1]. 0;
 * -EINVAL when key is not a key the store makes (storage_key_valid: no
 * "..", no absolute path, no other shape); -ENAMETOOLONG when out is too
 * small. Whether the file exists is not checked.
 */
int storage_path(const struct storage *st, const char *key, char *out, size_t size);

/* Delete the file of key. 0; -ENOENT when there is none; -EINVAL for a
 * key of another shape; -errno from unlink. Empty directories are left
 * (they are reused). */
int storage_remove(struct storage *st, const char *key);

/*
 * Remove the files in root/tmp last modified more than age_us ago: what
 * puts interrupted by a crash left. A put in progress keeps its file
 * fresh, so pass an age well above the longest write (an hour). Returns
 * the number of files removed (>= 0), or -errno when root/tmp cannot be
 * read; a file that cannot be removed is skipped.
 */
int storage_sweep(struct storage *st, int64_t age_us);

#include "common/banned.h"
#endif
