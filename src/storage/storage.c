/*
 * storage.c - the content-addressed media directory; see storage.h.
 */
#include "storage/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/alloc.h"
#include "common/fsutil.h"
#include "common/timeutil.h"

#define HEX_LEN 64
/* Bytes read from a source per call. */
#define CHUNK (128 * 1024)
/* Offsets in a key: "ab/cd/<hex>.<ext>". */
#define KEY_HEX 6
#define KEY_DOT (KEY_HEX + HEX_LEN)
#define TMP_DIR "tmp"

struct storage {
	char *root;
};

/* A file being written to root/tmp. */
struct put {
	int fd;
	char tmp[PATH_MAX];
	crypto_hash_sha256_state sha;
	int64_t size;
	int64_t max_size;
};

int storage_open(struct storage **out, const char *root)
{
	*out = NULL;
	if (!root || !*root)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", root, TMP_DIR) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int r = fs_mkdir_p(tmp);
	if (r < 0)
		return r;
	struct storage *st = xcalloc(1, sizeof(*st));
	st->root = xstrdup(root);
	size_t n = strlen(st->root);
	while (n > 1 && st->root[n - 1] == '/')
		st->root[--n] = '\0';
	*out = st;
	return 0;
}

void storage_close(struct storage *st)
{
	if (!st)
		return;
	free(st->root);
	free(st);
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_ext_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

bool storage_key_valid(const char *key)
{
	if (!key)
		return false;
	size_t len = strnlen(key, STORAGE_KEY_SIZE);
	if (len < KEY_DOT + 2 || len > KEY_DOT + 1 + STORAGE_EXT_MAX)
		return false;
	for (size_t i = 0; i < HEX_LEN; i++) {
		if (!is_hex(key[KEY_HEX + i]))
			return false;
	}
	if (key[0] != key[KEY_HEX] || key[1] != key[KEY_HEX + 1] || key[2] != '/' ||
	    key[3] != key[KEY_HEX + 2] || key[4] != key[KEY_HEX + 3] || key[5] != '/' ||
	    key[KEY_DOT] != '.')
		return false;
	size_t n = 0;
	for (const char *p = key + KEY_DOT + 1; *p; p++, n++) {
		if (n >= STORAGE_EXT_MAX || !is_ext_char(*p))
			return false;
	}
	return n >= 1;
}

int storage_path(const struct storage *st, const char *key, char *out, size_t size)
{
	if (!st || !storage_key_valid(key))
		return -EINVAL;
	if ((size_t)snprintf(out, size, "%s/%s", st->root, key) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* The extension for a hint: lower-cased when it is [A-Za-z0-9]{1,8}, else
 * "bin". A leading '.' is ignored. */
static void make_ext(const char *hint, char out[STORAGE_EXT_MAX + 1])
{
	if (hint && *hint == '.')
		hint++;
	size_t n = hint ? strlen(hint) : 0;
	bool ok = n >= 1 && n <= STORAGE_EXT_MAX;
	for (size_t i = 0; ok && i < n; i++) {
		char c = hint[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!is_ext_char(c))
			ok = false;
		out[i] = c;
	}
	if (!ok) {
		memcpy(out, "bin", 4);
		return;
	}
	out[n] = '\0';
}

static int put_begin(struct storage *st, int64_t max_size, struct put *p)
{
	p->fd = -1;
	p->size = 0;
	p->max_size = max_size;
	crypto_hash_sha256_init(&p->sha);
	for (int attempt = 0; attempt < 8; attempt++) {
		unsigned char rnd[12];
		char hex[2 * sizeof(rnd) + 1];
		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
		if ((size_t)snprintf(p->tmp, sizeof(p->tmp), "%s/%s/put-%s.part", st->root,
				     TMP_DIR, hex) >= sizeof(p->tmp))
			return -ENAMETOOLONG;
		p->fd = open(p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (p->fd >= 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int put_write(struct put *p, const void *data, size_t len)
{
	if (p->max_size > 0 && (int64_t)len > p->max_size - p->size)
		return -EFBIG;
	int r = fs_write_all(p->fd, data, len);
	if (r < 0)
		return r;
	crypto_hash_sha256_update(&p->sha, data, len);
	p->size += (int64_t)len;
	return 0;
}

static void put_abort(struct put *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	unlink(p->tmp);
}

static void fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Look in dir for "<hex>.<ext>" with any extension the store makes; its
 * key into key_out. 0 when found, -ENOENT otherwise. */
static int find_stored(const char *dir, const char *hex, char key_out[STORAGE_KEY_SIZE])
{
	DIR *d = opendir(dir);
	if (!d)
		return -ENOENT;
	int r = -ENOENT;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, hex, HEX_LEN) != 0)
			continue;
		char key[STORAGE_KEY_SIZE];
		if ((size_t)snprintf(key, sizeof(key), "%.2s/%.2s/%.75s", hex, hex + 2,
				     e->d_name) >= sizeof(key) ||
		    !storage_key_valid(key))
			continue;
		memcpy(key_out, key, sizeof(key));
		r = 0;
		break;
	}
	closedir(d);
	return r;
}

static int mkdir_one(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Make the file permanent under its key (or find the same bytes stored
 * already and drop it). p is finished either way. */
static int put_commit(struct storage *st, struct put *p, const char *ext_hint,
		      char key_out[STORAGE_KEY_SIZE], char hash_out[STORAGE_HASH_SIZE])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[HEX_LEN + 1];
	crypto_hash_sha256_final(&p->sha, digest);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	char ext[STORAGE_EXT_MAX + 1];
	make_ext(ext_hint, ext);

	int r = 0;
	if (fsync(p->fd) < 0)
		r = -errno;
	if (close(p->fd) < 0 && r == 0)
		r = -errno;
	p->fd = -1;
	if (r < 0)
		goto out_abort;

	char dir1[PATH_MAX], dir2[PATH_MAX], final[PATH_MAX];
	if ((size_t)snprintf(dir1, sizeof(dir1), "%s/%.2s", st->root, hex) >= sizeof(dir1) ||
	    (size_t)snprintf(dir2, sizeof(dir2), "%s/%.2s", dir1, hex + 2) >= sizeof(dir2) ||
	    (size_t)snprintf(final, sizeof(final), "%s/%s.%s", dir2, hex, ext) >= sizeof(final)) {
		r = -ENAMETOOLONG;
		goto out_abort;
	}
	char key[STORAGE_KEY_SIZE];
	snprintf(key, sizeof(key), "%.2s/%.2s/%s.%s", hex, hex + 2, hex, ext);

	struct stat sb;
	if (stat(final, &sb) == 0 && S_ISREG(sb.st_mode)) {
		unlink(p->tmp);		/* the same bytes under the same key */
	} else if (find_stored(dir2, hex, key) == 0) {
		unlink(p->tmp);		/* the same bytes with another extension */
	} else {
		if ((r = mkdir_one(dir1)) < 0 || (r = mkdir_one(dir2)) < 0)
			goto out_abort;
		if (rename(p->tmp, final) < 0) {
			r = -errno;
			goto out_abort;
		}
		fsync_dir(dir2);
	}
	memcpy(key_out, key, sizeof(key));
	snprintf(hash_out, STORAGE_HASH_SIZE, "sha256:%s", hex);
	return 0;
out_abort:
	put_abort(p);
	return r;
}

int storage_put_stream(struct storage *st, ssize_t (*read_fn)(void *ctx, void *buf, size_t len),
		       void *ctx, const char *ext_hint, int64_t max_size,
		       char key_out[STORAGE_KEY_SIZE], char hash_out[STORAGE_HASH_SIZE],
		       int64_t *size)
{
	if (!st || !read_fn || max_size < 0 || !key_out || !hash_out)
		return -EINVAL;
	struct put p;
	int r = put_begin(st, max_size, &p);
	if (r < 0)
		return r;
	unsigned char *chunk = xmalloc(CHUNK);
	for (;;) {
		ssize_t n = read_fn(ctx, chunk, CHUNK);
		if (n == 0)
			break;
		if (n < 0 || n > CHUNK) {
			r = n < 0 ? (int)n : -EIO;
			goto out_abort;
		}
		r = put_write(&p, chunk, (size_t)n);
		if (r < 0)
			goto out_abort;
	}
	free(chunk);
	int64_t total = p.size;
	r = put_commit(st, &p, ext_hint, key_out, hash_out);
	if (r == 0 && size)
		*size = total;
	return r;
out_abort:
	free(chunk);
	put_abort(&p);
	return r;
}

struct storage_put {
	struct storage *st;
	struct put p;
};

int storage_put_begin(struct storage *st, int64_t max_size, struct storage_put **out)
{
	*out = NULL;
	if (!st || max_size < 0)
		return -EINVAL;
	struct storage_put *sp = xcalloc(1, sizeof(*sp));
	sp->st = st;
	int r = put_begin(st, max_size, &sp->p);
	if (r < 0) {
		free(sp);
		return r;
	}
	*out = sp;
	return 0;
}

int storage_put_write(struct storage_put *sp, const void *data, size_t len)
{
	if (!sp || sp->p.fd < 0)
		return -EINVAL;
	return put_write(&sp->p, data, len);
}

int64_t storage_put_size(const struct storage_put *sp)
{
	return sp ? sp->p.size : 0;
}

int storage_put_finish(struct storage_put *sp, const char *ext_hint,
		       char key_out[STORAGE_KEY_SIZE], char hash_out[STORAGE_HASH_SIZE])
{
	if (!sp)
		return -EINVAL;
	int r = sp->p.fd < 0 ? -EINVAL : put_commit(sp->st, &sp->p, ext_hint, key_out, hash_out);
	free(sp);
	return r;
}

void storage_put_abort(struct storage_put *sp)
{
	if (!sp)
		return;
	if (sp->p.fd >= 0)
		put_abort(&sp->p);
	free(sp);
}

/* storage_put_stream's source for storage_put_file. */
static ssize_t read_fd(void *ctx, void *buf, size_t len)
{
	int fd = *(int *)ctx;
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

int storage_put_file(struct storage *st, const char *src_path, const char *ext_hint,
		     int64_t max_size, char key_out[STORAGE_KEY_SIZE],
		     char hash_out[STORAGE_HASH_SIZE], int64_t *size)
{
	if (!st || !src_path || max_size < 0)
		return -EINVAL;
	int fd = open(src_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat sb;
	int r = 0;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		goto out_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		r = -EINVAL;
		goto out_close;
	}
	if (max_size > 0 && sb.st_size > max_size) {
		r = -EFBIG;
		goto out_close;
	}
	r = storage_put_stream(st, read_fd, &fd, ext_hint, max_size, key_out, hash_out, size);
out_close:
	close(fd);
	return r;
}

/* storage_put_stream's source for storage_put_bytes. */
struct mem_src {
	const unsigned char *p;
	size_t left;
};

static ssize_t read_mem(void *ctx, void *buf, size_t len)
{
	struct mem_src *m = ctx;
	size_t n = m->left < len ? m->left : len;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

int storage_put_bytes(struct storage *st, const void *data, size_t len, const char *ext_hint,
		      char key_out[STORAGE_KEY_SIZE], char hash_out[STORAGE_HASH_SIZE])
{
	if (!data && len)
		return -EINVAL;
	struct mem_src m = { data, len };
	return storage_put_stream(st, read_mem, &m, ext_hint, 0, key_out, hash_out, NULL);
}

int storage_remove(struct storage *st, const char *key)
{
	char path[PATH_MAX];
	int r = storage_path(st, key, path, sizeof(path));
	if (r < 0)
		return r;
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

int storage_sweep(struct storage *st, int64_t age_us)
{
	if (!st || age_us < 0)
		return -EINVAL;
	char dir[PATH_MAX];
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", st->root, TMP_DIR) >= sizeof(dir))
		return -ENAMETOOLONG;
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int dfd = dirfd(d);
	int64_t limit = time_now_us() - age_us;
	int removed = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat sb;
		if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(sb.st_mode))
			continue;
		int64_t mtime = (int64_t)sb.st_mtim.tv_sec * USEC_PER_SEC +
				sb.st_mtim.tv_nsec / 1000;
		if (mtime > limit)
			continue;
		if (unlinkat(dfd, e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
