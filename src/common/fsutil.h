/*
 * fsutil.h - small file-system helpers.
 */
#ifndef ONAIR_FSUTIL_H
#define ONAIR_FSUTIL_H

#include <stddef.h>

#include "common/buf.h"

/* Write len bytes as dir/name atomically: a temporary file in dir is
 * written, fsync'ed and renamed over name, then dir is fsync'ed. Readers
 * see the old or the new contents, never a mix. 0 or -errno. */
int fs_write_atomic(const char *dir, const char *name, const void *data, size_t len);

/* Write all len bytes of data to fd, again after EINTR and short
 * writes: 0 or -errno. */
int fs_write_all(int fd, const void *data, size_t len);

/* Append the whole file at path to out (its limit applies: -EFBIG when
 * the file is larger). 0 or -errno. */
int fs_read_file(const char *path, struct buf *out);

/* mkdir -p with mode 0755. 0 or -errno. */
int fs_mkdir_p(const char *path);

#include "common/banned.h"
#endif
