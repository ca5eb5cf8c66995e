/*
 * media_cache.c - verified local copies of the media files to play.
 *
 * One download thread works through the want list (sorted by needed_at)
 * and fetches the first missing file whose backoff has expired. What the
 * cache knows about each file lives in a record, keyed by hex hash, in a
 * small chained hash table guarded by one mutex: whether the file is on
 * disk, its retry state, and when it was last handed out (for eviction).
 *
 * Files on disk: "<dir>/<64 hex>" is a whole, verified file; a download
 * in progress is "<dir>/.part-<64 hex>-<random>", renamed into place
 * only after its size and SHA-256 were checked and it was fsync'ed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "playout/media_cache.h"

#define COMPONENT "cache"

#define HASH_PREFIX "sha256:"
#define HASH_PREFIX_LEN 7
#define HEX_LEN 64
#define PART_PREFIX ".part-"
#define PART_PREFIX_LEN 6
#define PART_NAME_MAX 96

#define DEFAULT_TIMEOUT_US (10 * 60 * USEC_PER_SEC)
#define DEFAULT_MAX_FILE_SIZE (INT64_C(2) << 30)
#define DEFAULT_RETRY_MIN_US USEC_PER_SEC
#define RETRY_MAX_US (300 * USEC_PER_SEC)
/* A file that could not be had at all (not found, no connection) and is
 * needed within URGENT_WINDOW_US, or already in play, is tried again at
 * least every URGENT_RETRY_US whatever its backoff: if it appears while
 * its item plays, playout can still join the item at the right offset. */
#define URGENT_WINDOW_US (60 * USEC_PER_SEC)
#define URGENT_RETRY_US (2 * USEC_PER_SEC)
#define CONNECT_TIMEOUT_MS 10000L
/* A transfer slower than this for that long is a stall. */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_TIME_S 60L
#define MAX_REDIRS 5L
#define URL_TEMPLATE_MAX 2048
#define URL_MAX 4096
#define TOKEN_MAX 4096
#define REASON_MAX 256
#define READ_CHUNK 65536
#define INITIAL_BUCKETS 64

enum file_state {
	FILE_UNKNOWN,	/* not looked at yet */
	FILE_MISSING,
	FILE_PRESENT,	/* under its final name, so whole and verified */
};

struct rec {
	struct rec *next;	/* hash chain */
	char hex[HEX_LEN + 1];
	enum file_state state;
	uint64_t want_gen;	/* == cache's want_gen: in the want list */
	int64_t last_used;	/* monotonic us of the last media_cache_path; 0 = never */
	unsigned fails;		/* consecutive failed attempts */
	bool failing;		/* the last attempt failed */
	int64_t next_try;	/* monotonic us: no attempt before this */
	bool busy;		/* being downloaded (the record must stay) */
};

struct want {
	struct rec *rec;
	int64_t id;
	int64_t size;
	int64_t needed_at;
};

struct media_cache {
	char *dir;		/* without trailing '/' */
	int dirfd;
	char *url_template;
	char *auth_header;	/* NULL without a token */
	int64_t timeout_us;
	int64_t max_file_size;
	int64_t retry_min_us;
	void (*on_failure)(void *userdata, int64_t media_id, const char *why);
	void *userdata;
	int64_t started;	/* monotonic us at creation */

	pthread_mutex_t lock;
	pthread_cond_t wake;	/* tells the download thread to look again */
	pthread_cond_t changed;	/* a file became ready, or the want list changed */
	atomic_bool stopping;
	pthread_t thread;

	/* Under lock: */
	struct rec **buckets;
	size_t nbuckets;	/* power of two */
	size_t nrecs;
	struct want *wants;	/* sorted by needed_at, one per hash */
	size_t nwants;
	uint64_t want_gen;
	uint64_t bytes_downloaded;
};

/* One download attempt (owned by the download thread). */
struct job {
	char hex[HEX_LEN + 1];
	int64_t id;
	int64_t size;
	int64_t received;	/* bytes received, kept or not */
};

struct xfer {
	struct media_cache *c;
	int fd;
	crypto_hash_sha256_state sha;
	int64_t expected;
	int64_t received;
	bool too_big;
	int write_errno;
};

/* --- records --------------------------------------------------------- */

static size_t bucket_of(const struct media_cache *c, const char *hex)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < HEX_LEN; i++) {
		h ^= (unsigned char)hex[i];
		h *= UINT64_C(1099511628211);
	}
	return (size_t)(h & (c->nbuckets - 1));
}

static struct rec *rec_find(const struct media_cache *c, const char *hex)
{
	for (struct rec *r = c->buckets[bucket_of(c, hex)]; r; r = r->next)
		if (memcmp(r->hex, hex, HEX_LEN) == 0)
			return r;
	return NULL;
}

static void rec_grow(struct media_cache *c)
{
	struct rec **old = c->buckets;
	size_t old_n = c->nbuckets;
	c->nbuckets = old_n * 2;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	for (size_t i = 0; i < old_n; i++) {
		struct rec *r = old[i];
		while (r) {
			struct rec *next = r->next;
			size_t b = bucket_of(c, r->hex);
			r->next = c->buckets[b];
			c->buckets[b] = r;
			r = next;
		}
	}
	free(old);
}

/* The record for hex, created (state unknown) if needed. */
static struct rec *rec_get(struct media_cache *c, const char *hex)
{
	struct rec *r = rec_find(c, hex);
	if (r)
		return r;
	if (c->nrecs >= c->nbuckets)
		rec_grow(c);
	r = xcalloc(1, sizeof(*r));
	memcpy(r->hex, hex, HEX_LEN);
	r->hex[HEX_LEN] = '\0';
	r->state = FILE_UNKNOWN;
	size_t b = bucket_of(c, hex);
	r->next = c->buckets[b];
	c->buckets[b] = r;
	c->nrecs++;
	return r;
}

static bool rec_wanted(const struct media_cache *c, const struct rec *r)
{
	return r->want_gen == c->want_gen;
}

/* Drop records that hold nothing worth keeping: not wanted, never
 * handed out, not being downloaded. */
static void rec_prune(struct media_cache *c)
{
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct rec **pp = &c->buckets[i];
		while (*pp) {
			struct rec *r = *pp;
			if (!rec_wanted(c, r) && r->last_used == 0 && !r->busy) {
				*pp = r->next;
				free(r);
				c->nrecs--;
			} else {
				pp = &r->next;
			}
		}
	}
}

static void rec_remove(struct media_cache *c, struct rec *r)
{
	for (struct rec **pp = &c->buckets[bucket_of(c, r->hex)]; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			free(r);
			c->nrecs--;
			return;
		}
	}
}

/* Look at the disk for a record whose state is unknown. Under lock. */
static void rec_refresh(struct media_cache *c, struct rec *r)
{
	if (r->state != FILE_UNKNOWN)
		return;
	struct stat st;
	if (fstatat(c->dirfd, r->hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		r->state = FILE_PRESENT;
	else
		r->state = FILE_MISSING;
}

/* --- small helpers --------------------------------------------------- */

static bool is_hex_name(const char *s)
{
	for (size_t i = 0; i < HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[HEX_LEN] == '\0';
}

/* "sha256:<64 hex>" to lowercase hex. 0 or -EINVAL. */
static int parse_hash(const char *hash, char hex[HEX_LEN + 1])
{
	if (!hash || strncmp(hash, HASH_PREFIX, HASH_PREFIX_LEN) != 0)
		return -EINVAL;
	const char *h = hash + HASH_PREFIX_LEN;
	for (size_t i = 0; i < HEX_LEN; i++) {
		char ch = h[i];
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return -EINVAL;
		hex[i] = ch;
	}
	if (h[HEX_LEN] != '\0')
		return -EINVAL;
	hex[HEX_LEN] = '\0';
	return 0;
}

static void cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t mono_us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(mono_us / USEC_PER_SEC),
		.tv_nsec = (long)(mono_us % USEC_PER_SEC) * 1000,
	};
	pthread_cond_timedwait(cond, lock, &ts);
}

static int64_t add_sat(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t backoff_us(const struct media_cache *c, unsigned fails)
{
	int64_t d = c->retry_min_us;
	for (unsigned i = 1; i < fails && d < RETRY_MAX_US; i++)
		d *= 2;
	return d < RETRY_MAX_US ? d : RETRY_MAX_US;
}

static bool template_scheme_ok(const char *t)
{
	return strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0 ||
	       strncasecmp(t, "file://", 7) == 0;
}

/* Substitute {id} and {hash} (digits and hex: nothing to escape). */
static int build_url(const struct media_cache *c, const struct job *job, struct buf *url)
{
	for (const char *p = c->url_template; *p;) {
		int r;
		if (strncmp(p, "{id}", 4) == 0) {
			r = buf_printf(url, "%" PRId64, job->id);
			p += 4;
		} else if (strncmp(p, "{hash}", 6) == 0) {
			r = buf_append(url, job->hex, HEX_LEN);
			p += 6;
		} else {
			r = buf_append_char(url, *p);
			p++;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Remove every "<dir>/.part-*" (left by a crash). Returns the count. */
static int remove_stale_parts(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, PART_PREFIX, PART_PREFIX_LEN) != 0)
			continue;
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			n++;
		else
			log_warn(COMPONENT, "cannot remove %s: %s", e->d_name, strerror(errno));
	}
	closedir(d);
	return n;
}

/* --- one download ---------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	if ((uint64_t)n > (uint64_t)(x->expected - x->received)) {
		x->too_big = true;
		return 0;	/* != n: curl stops with CURLE_WRITE_ERROR */
	}
	int r = write_all(x->fd, ptr, n);
	if (r < 0) {
		x->write_errno = -r;
		return 0;
	}
	crypto_hash_sha256_update(&x->sha, (const unsigned char *)ptr, n);
	x->received += (int64_t)n;
	return n;
}

/* Called often by curl, even when no data flows: stop promptly. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = arg;
	return atomic_load(&x->c->stopping) ? 1 : 0;
}

static int setup_curl(struct media_cache *c, CURL *curl, const char *url, struct xfer *x,
		      struct curl_slist *headers, char *errbuf)
{
	long timeout_ms = (long)(c->timeout_us / USEC_PER_MSEC);
	if (timeout_ms < 1)
		timeout_ms = 1;
	long connect_ms = timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS;
	CURLcode e = CURLE_OK;

	curl_easy_reset(curl);
#define SET(opt, val) do { if (e == CURLE_OK) e = curl_easy_setopt(curl, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, x);
	SET(CURLOPT_TIMEOUT_MS, timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	SET(CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
	SET(CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, MAX_REDIRS);
	SET(CURLOPT_PROTOCOLS_STR, "http,https,file");
	/* A server must not redirect us to a local file. */
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FAILONERROR, 1L);
	SET(CURLOPT_USERAGENT, "onair-playout/" ONAIR_VERSION);
	if (headers)
		SET(CURLOPT_HTTPHEADER, headers);
#undef SET
	return e == CURLE_OK ? 0 : -EINVAL;
}

/* Why a finished transfer failed, or "" if it did not. */
static void describe_result(CURL *curl, CURLcode res, const struct xfer *x, const char *errbuf,
			    char *why, size_t why_size)
{
	curl_off_t clen = -1;
	long code = 0;

	why[0] = '\0';
	switch (res) {
	case CURLE_OK:
		if (x->received != x->expected)
			snprintf(why, why_size, "size %" PRId64 " != expected %" PRId64,
				 x->received, x->expected);
		return;
	case CURLE_HTTP_RETURNED_ERROR:
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		snprintf(why, why_size, "HTTP %ld", code);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(why, why_size, "timeout (%s)", errbuf[0] ? errbuf : "no detail");
		return;
	case CURLE_WRITE_ERROR:
		if (x->write_errno) {
			snprintf(why, why_size, "write: %s", strerror(x->write_errno));
			return;
		}
		curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
		if (clen >= 0)
			snprintf(why, why_size, "size %" PRId64 " != expected %" PRId64,
				 (int64_t)clen, x->expected);
		else
			snprintf(why, why_size, "size > expected %" PRId64, x->expected);
		return;
	default:
		snprintf(why, why_size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(res));
		return;
	}
}

/* Make the part file the final file: fsync, rename, fsync the directory. */
static int commit_part(struct media_cache *c, int fd, const char *part, const char *hex)
{
	if (fsync(fd) < 0)
		return -errno;
	if (renameat(c->dirfd, part, c->dirfd, hex) < 0)
		return -errno;
	if (fsync(c->dirfd) < 0)
		return -errno;
	return 0;
}

/*
 * Download, verify and store one file. 0; -ECANCELED when stopped (no
 * failure to report); another -errno with why filled on failure. *curl
 * is created on first use and reused (it keeps connections open).
 */
static int download(struct media_cache *c, CURL **curl, struct job *job, char *why,
		    size_t why_size)
{
	int r;

	if (job->size > c->max_file_size) {
		snprintf(why, why_size, "size %" PRId64 " > max_file_size %" PRId64,
			 job->size, c->max_file_size);
		return -EFBIG;
	}
	if (!*curl)
		*curl = curl_easy_init();
	if (!*curl) {
		snprintf(why, why_size, "cannot create a curl handle");
		return -ENOMEM;
	}

	struct buf url;
	buf_init(&url, URL_MAX);
	r = build_url(c, job, &url);
	if (r < 0) {
		snprintf(why, why_size, "URL too long");
		goto out_release_url;
	}

	unsigned char rnd[8];
	char rnd_hex[sizeof(rnd) * 2 + 1];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(rnd_hex, sizeof(rnd_hex), rnd, sizeof(rnd));
	char part[PART_NAME_MAX];
	snprintf(part, sizeof(part), PART_PREFIX "%s-%s", job->hex, rnd_hex);

	struct xfer x = { .c = c, .expected = job->size };
	x.fd = openat(c->dirfd, part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (x.fd < 0) {
		r = -errno;
		snprintf(why, why_size, "create %s: %s", part, strerror(-r));
		goto out_release_url;
	}
	crypto_hash_sha256_init(&x.sha);

	struct curl_slist *headers = NULL;
	if (c->auth_header) {
		headers = curl_slist_append(NULL, c->auth_header);
		if (!headers) {
			r = -ENOMEM;
			snprintf(why, why_size, "out of memory");
			goto out_unlink_part;
		}
	}
	char errbuf[CURL_ERROR_SIZE] = "";
	r = setup_curl(c, *curl, url.data, &x, headers, errbuf);
	if (r < 0) {
		snprintf(why, why_size, "curl does not accept the options");
		goto out_free_headers;
	}

	int64_t t0 = time_mono_us();
	CURLcode res = curl_easy_perform(*curl);
	int64_t elapsed = time_mono_us() - t0;
	job->received = x.received;
	if (res == CURLE_ABORTED_BY_CALLBACK && atomic_load(&c->stopping)) {
		r = -ECANCELED;
		goto out_free_headers;
	}
	describe_result(*curl, res, &x, errbuf, why, why_size);
	if (why[0]) {
		r = -EIO;
		goto out_free_headers;
	}

	unsigned char digest[crypto_hash_sha256_BYTES];
	char got[HEX_LEN + 1];
	crypto_hash_sha256_final(&x.sha, digest);
	sodium_bin2hex(got, sizeof(got), digest, sizeof(digest));
	if (memcmp(got, job->hex, HEX_LEN) != 0) {
		snprintf(why, why_size, "sha256 mismatch");
		r = -EBADMSG;
		goto out_free_headers;
	}
	r = commit_part(c, x.fd, part, job->hex);
	if (r < 0) {
		snprintf(why, why_size, "store: %s", strerror(-r));
		goto out_free_headers;
	}
	curl_slist_free_all(headers);
	close(x.fd);
	buf_release(&url);

	double secs = (double)elapsed / (double)USEC_PER_SEC;
	double rate = secs > 0 ? (double)x.received / 1024.0 / secs : 0;
	log_info(COMPONENT, "downloaded media %" PRId64 " (%.12s): %" PRId64
		 " bytes in %.2f s (%.0f KiB/s)", job->id, job->hex, x.received, secs, rate);
	return 0;

out_free_headers:
	curl_slist_free_all(headers);
out_unlink_part:
	close(x.fd);
	unlinkat(c->dirfd, part, 0);
out_release_url:
	buf_release(&url);
	return r;
}

/* --- the download thread --------------------------------------------- */

/* The nearest wanted file that is missing and may be tried now, or NULL;
 * *wake_at is lowered to when a backed-off one may be tried. Under lock. */
static struct want *pick(struct media_cache *c, int64_t now, int64_t *wake_at)
{
	for (size_t i = 0; i < c->nwants; i++) {
		struct want *w = &c->wants[i];
		rec_refresh(c, w->rec);
		if (w->rec->state == FILE_PRESENT)
			continue;
		if (w->rec->next_try <= now)
			return w;
		if (w->rec->next_try < *wake_at)
			*wake_at = w->rec->next_try;
	}
	return NULL;
}

static void *download_main(void *arg)
{
	struct media_cache *c = arg;
	CURL *curl = NULL;

	pthread_mutex_lock(&c->lock);
	while (!atomic_load(&c->stopping)) {
		int64_t wake_at = INT64_MAX;
		struct want *w = pick(c, time_mono_us(), &wake_at);
		if (!w) {
			if (wake_at == INT64_MAX)
				pthread_cond_wait(&c->wake, &c->lock);
			else
				cond_wait_until(&c->wake, &c->lock, wake_at);
			continue;
		}
		struct rec *rec = w->rec;
		struct job job = { .id = w->id, .size = w->size };
		int64_t needed_at = w->needed_at;	/* w may be gone after unlock */
		memcpy(job.hex, rec->hex, sizeof(job.hex));
		rec->busy = true;
		pthread_mutex_unlock(&c->lock);

		char why[REASON_MAX] = "";
		int r = download(c, &curl, &job, why, sizeof(why));

		pthread_mutex_lock(&c->lock);
		rec->busy = false;
		c->bytes_downloaded += (uint64_t)job.received;
		if (r == 0) {
			rec->state = FILE_PRESENT;
			rec->fails = 0;
			rec->failing = false;
			rec->next_try = 0;
			pthread_cond_broadcast(&c->changed);
			continue;
		}
		if (r == -ECANCELED)
			continue;
		if (rec->fails < 64)
			rec->fails++;
		rec->failing = true;
		rec->state = FILE_MISSING;
		int64_t delay = backoff_us(c, rec->fails);
		if (job.received == 0 && delay > URGENT_RETRY_US &&
		    needed_at - time_now_us() < URGENT_WINDOW_US)
			delay = c->retry_min_us > URGENT_RETRY_US ? c->retry_min_us : URGENT_RETRY_US;
		rec->next_try = add_sat(time_mono_us(), delay);
		pthread_mutex_unlock(&c->lock);

		log_warn(COMPONENT, "media %" PRId64 " (%.12s) failed: %s; retry in %.1f s",
			 job.id, job.hex, why, (double)delay / (double)USEC_PER_SEC);
		if (c->on_failure)
			c->on_failure(c->userdata, job.id, why);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

/* --- public API ------------------------------------------------------ */

static int check_options(const struct media_cache_options *o)
{
	if (!o->dir || !o->dir[0] || !o->url_template)
		return -EINVAL;
	if (strlen(o->url_template) > URL_TEMPLATE_MAX || !template_scheme_ok(o->url_template))
		return -EINVAL;
	if (o->timeout_us < 0 || o->max_file_size < 0 || o->retry_min_us < 0)
		return -EINVAL;
	if (o->bearer_token && (!o->bearer_token[0] || strlen(o->bearer_token) > TOKEN_MAX ||
				strpbrk(o->bearer_token, "\r\n")))
		return -EINVAL;
	return 0;
}

static void init_cond_mono(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

int media_cache_new(struct media_cache **out, const struct media_cache_options *opts)
{
	if (!out || !opts)
		return -EINVAL;
	*out = NULL;
	int r = check_options(opts);
	if (r < 0)
		return r;
	if (sodium_init() < 0)
		return -EIO;
	r = fs_mkdir_p(opts->dir);
	if (r < 0)
		return r;
	int dirfd = open(opts->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	if (access(opts->dir, R_OK | W_OK | X_OK) < 0) {
		r = -errno;
		goto out_close_dirfd;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		r = -EIO;
		goto out_close_dirfd;
	}
	r = remove_stale_parts(dirfd);
	if (r < 0)
		goto out_global_cleanup;
	if (r > 0)
		log_info(COMPONENT, "removed %d unfinished download(s) in %s", r, opts->dir);

	struct media_cache *c = xcalloc(1, sizeof(*c));
	c->dir = xstrdup(opts->dir);
	for (size_t len = strlen(c->dir); len > 1 && c->dir[len - 1] == '/'; len--)
		c->dir[len - 1] = '\0';
	c->dirfd = dirfd;
	c->url_template = xstrdup(opts->url_template);
	if (opts->bearer_token) {
		struct buf h;
		buf_init(&h, TOKEN_MAX + 64);
		buf_printf(&h, "Authorization: Bearer %s", opts->bearer_token);
		c->auth_header = buf_detach(&h, NULL);
	}
	c->timeout_us = opts->timeout_us ? opts->timeout_us : DEFAULT_TIMEOUT_US;
	c->max_file_size = opts->max_file_size ? opts->max_file_size : DEFAULT_MAX_FILE_SIZE;
	c->retry_min_us = opts->retry_min_us ? opts->retry_min_us : DEFAULT_RETRY_MIN_US;
	c->on_failure = opts->on_failure;
	c->userdata = opts->userdata;
	c->started = time_mono_us();
	pthread_mutex_init(&c->lock, NULL);
	init_cond_mono(&c->wake);
	init_cond_mono(&c->changed);
	atomic_init(&c->stopping, false);
	c->nbuckets = INITIAL_BUCKETS;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	/* Records start at generation 0, so nothing is wanted yet. */
	c->want_gen = 1;

	r = -pthread_create(&c->thread, NULL, download_main, c);
	if (r < 0)
		goto out_free_cache;
	log_info(COMPONENT, "media cache in %s", c->dir);
	*out = c;
	return 0;

out_free_cache:
	pthread_cond_destroy(&c->changed);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c->auth_header);
	free(c->url_template);
	free(c->dir);
	free(c);
out_global_cleanup:
	curl_global_cleanup();
out_close_dirfd:
	close(dirfd);
	return r;
}

void media_cache_free(struct media_cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	atomic_store(&c->stopping, true);
	pthread_cond_signal(&c->wake);
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct rec *r = c->buckets[i];
		while (r) {
			struct rec *next = r->next;
			free(r);
			r = next;
		}
	}
	free(c->buckets);
	free(c->wants);
	pthread_cond_destroy(&c->changed);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->auth_header);
	free(c->url_template);
	free(c->dir);
	close(c->dirfd);
	free(c);
	curl_global_cleanup();
}

struct sort_want {
	char hex[HEX_LEN + 1];
	int64_t id;
	int64_t size;
	int64_t needed_at;
	size_t index;	/* position given: ties keep it */
};

static int compare_wants(const void *pa, const void *pb)
{
	const struct sort_want *a = pa, *b = pb;
	if (a->needed_at != b->needed_at)
		return a->needed_at < b->needed_at ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

int media_cache_want(struct media_cache *c, const struct media_cache_want *wants, size_t n)
{
	if (n > 0 && !wants)
		return -EINVAL;
	struct sort_want *sorted = xcalloc(n ? n : 1, sizeof(*sorted));
	for (size_t i = 0; i < n; i++) {
		const struct proto_media *m = wants[i].media;
		if (!m || m->size <= 0 || parse_hash(m->hash, sorted[i].hex) < 0) {
			free(sorted);
			return -EINVAL;
		}
		sorted[i].id = m->id;
		sorted[i].size = m->size;
		sorted[i].needed_at = wants[i].needed_at;
		sorted[i].index = i;
	}
	qsort(sorted, n, sizeof(*sorted), compare_wants);

	struct want *list = xcalloc(n ? n : 1, sizeof(*list));
	size_t count = 0;
	pthread_mutex_lock(&c->lock);
	c->want_gen++;
	for (size_t i = 0; i < n; i++) {
		struct rec *r = rec_get(c, sorted[i].hex);
		if (rec_wanted(c, r))
			continue;	/* the same file again, later */
		r->want_gen = c->want_gen;
		list[count++] = (struct want){
			.rec = r,
			.id = sorted[i].id,
			.size = sorted[i].size,
			.needed_at = sorted[i].needed_at,
		};
	}
	free(c->wants);
	c->wants = list;
	c->nwants = count;
	rec_prune(c);
	pthread_cond_signal(&c->wake);
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->lock);
	free(sorted);
	return 0;
}

int media_cache_path(struct media_cache *c, const char *hash, char *out, size_t size)
{
	char hex[HEX_LEN + 1];
	if (parse_hash(hash, hex) < 0)
		return -EINVAL;

	struct stat st;
	bool present = fstatat(c->dirfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		       S_ISREG(st.st_mode);
	pthread_mutex_lock(&c->lock);
	if (!present) {
		struct rec *r = rec_find(c, hex);
		if (r && r->state == FILE_PRESENT) {
			/* Removed behind our back: fetch it again if wanted. */
			r->state = FILE_MISSING;
			if (rec_wanted(c, r))
				pthread_cond_signal(&c->wake);
		}
		pthread_mutex_unlock(&c->lock);
		return -ENOENT;
	}
	struct rec *r = rec_get(c, hex);
	r->state = FILE_PRESENT;
	r->last_used = time_mono_us();
	pthread_mutex_unlock(&c->lock);

	int n = snprintf(out, size, "%s/%s", c->dir, hex);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return 0;
}

int media_cache_verify(struct media_cache *c, const char *hash)
{
	char hex[HEX_LEN + 1];
	if (parse_hash(hash, hex) < 0)
		return -EINVAL;

	int fd = openat(c->dirfd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : -errno;
	crypto_hash_sha256_state sha;
	crypto_hash_sha256_init(&sha);
	unsigned char *chunk = xmalloc(READ_CHUNK);
	int r = 0;
	for (;;) {
		ssize_t got = read(fd, chunk, READ_CHUNK);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		crypto_hash_sha256_update(&sha, chunk, (unsigned long long)got);
	}
	free(chunk);
	close(fd);
	if (r < 0)
		return r;

	unsigned char digest[crypto_hash_sha256_BYTES];
	char got_hex[HEX_LEN + 1];
	crypto_hash_sha256_final(&sha, digest);
	sodium_bin2hex(got_hex, sizeof(got_hex), digest, sizeof(digest));
	if (memcmp(got_hex, hex, HEX_LEN) == 0)
		return 0;

	pthread_mutex_lock(&c->lock);
	if (unlinkat(c->dirfd, hex, 0) < 0 && errno != ENOENT)
		r = -errno;
	struct rec *rec = rec_find(c, hex);
	if (rec) {
		rec->state = FILE_MISSING;
		if (rec_wanted(c, rec))
			pthread_cond_signal(&c->wake);
	}
	pthread_mutex_unlock(&c->lock);
	log_warn(COMPONENT, "cached file %s was corrupt (sha256 %.12s...): removed", hex,
		 got_hex);
	return r < 0 ? r : -EBADMSG;
}

int media_cache_evict(struct media_cache *c, int64_t keep_us)
{
	int fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}

	int deleted = 0, err = 0;
	pthread_mutex_lock(&c->lock);
	int64_t now = time_mono_us();
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_hex_name(e->d_name))
			continue;
		struct rec *r = rec_find(c, e->d_name);
		if (r && (rec_wanted(c, r) || r->busy))
			continue;
		int64_t last = r && r->last_used ? r->last_used : c->started;
		if (now - last < keep_us)
			continue;
		if (unlinkat(c->dirfd, e->d_name, 0) < 0) {
			if (errno != ENOENT) {
				err = -errno;
				log_warn(COMPONENT, "cannot evict %s: %s", e->d_name,
					 strerror(errno));
			}
			continue;
		}
		deleted++;
		if (r)
			rec_remove(c, r);
	}
	pthread_mutex_unlock(&c->lock);
	closedir(d);
	if (deleted > 0)
		log_info(COMPONENT, "evicted %d file(s) not needed any more", deleted);
	return err < 0 ? err : deleted;
}

void media_cache_get_stats(struct media_cache *c, struct media_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nwants; i++) {
		struct rec *r = c->wants[i].rec;
		rec_refresh(c, r);
		out->wanted++;
		if (r->state == FILE_PRESENT) {
			out->ready++;
		} else {
			out->missing++;
			if (r->failing)
				out->failing++;
		}
	}
	out->bytes_downloaded = c->bytes_downloaded;
	pthread_mutex_unlock(&c->lock);
}

/* Every wanted file needed before deadline is present. Under lock. */
static bool ready_before(struct media_cache *c, int64_t deadline)
{
	for (size_t i = 0; i < c->nwants; i++) {
		struct want *w = &c->wants[i];
		if (w->needed_at >= deadline)
			break;	/* sorted */
		rec_refresh(c, w->rec);
		if (w->rec->state != FILE_PRESENT)
			return false;
	}
	return true;
}

int media_cache_wait_ready(struct media_cache *c, int64_t deadline, int64_t timeout_us)
{
	int64_t end = add_sat(time_mono_us(), timeout_us > 0 ? timeout_us : 0);
	int r = 0;
	pthread_mutex_lock(&c->lock);
	while (!ready_before(c, deadline)) {
		if (time_mono_us() >= end || atomic_load(&c->stopping)) {
			r = -ETIMEDOUT;
			break;
		}
		cond_wait_until(&c->changed, &c->lock, end);
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}
