/*
 * icecast_status.c - Icecast's status document; see icecast_status.h.
 */
#include "protocol/icecast_status.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

/* "http://host:port/mount" -> "icecast:host:port/mount"; false when the
 * URL has no host or mount, or the name does not fit. */
static bool output_name(const char *url, char out[ICECAST_OUTPUT_SIZE])
{
	const char *rest;
	if (strncmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		rest = url + 8;
	else
		return false;
	const char *slash = strchr(rest, '/');
	if (!slash || slash == rest || slash[1] == '\0')
		return false;
	for (const char *c = rest; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	int n = snprintf(out, ICECAST_OUTPUT_SIZE, "icecast:%s", rest);
	return n > 0 && (size_t)n < ICECAST_OUTPUT_SIZE;
}

static size_t read_source(json_t *src, struct icecast_source *out, size_t n, size_t max)
{
	if (n >= max || !json_is_object(src))
		return n;
	json_t *url = json_object_get(src, "listenurl");
	json_t *count = json_object_get(src, "listeners");
	if (!json_is_string(url) || !json_is_integer(count) || json_integer_value(count) < 0)
		return n;
	if (!output_name(json_string_value(url), out[n].output))
		return n;
	out[n].listeners = (int64_t)json_integer_value(count);
	return n + 1;
}

int icecast_status_parse(const char *json, size_t len, struct icecast_source *out,
			 size_t max)
{
	if (len > ICECAST_STATUS_MAX)
		return -EINVAL;
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return -EINVAL;
	json_t *stats = json_object_get(root, "icestats");
	if (!json_is_object(stats)) {
		json_decref(root);
		return -EINVAL;
	}
	if (max > ICECAST_MOUNTS_MAX)
		max = ICECAST_MOUNTS_MAX;
	size_t n = 0;
	json_t *sources = json_object_get(stats, "source");
	if (json_is_array(sources)) {
		size_t i;
		json_t *src;
		json_array_foreach(sources, i, src)
			n = read_source(src, out, n, max);
	} else {
		n = read_source(sources, out, n, max);
	}
	json_decref(root);
	return (int)n;
}

