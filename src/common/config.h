/*
 * config.h - settings from defaults, an INI file and the environment.
 *
 * Each program declares the settings it knows as a table of struct
 * config_key ("section.key" names with defaults). Values are resolved in
 * this order, later winning:
 *   1. the default in the table,
 *   2. the INI file given with -c/--config,
 *   3. the environment: ONAIR_<SECTION>_<KEY>, upper-cased, '.' and '-'
 *      as '_' (nats.url -> ONAIR_NATS_URL).
 * An unknown section or key in the file is an error, so typos are caught.
 *
 * INI syntax: "[section]", "key = value", comments from '#' or ';' at the
 * start of a line; a value may be in double quotes (then \" and \\ are
 * escapes). Lines may be up to CONFIG_LINE_MAX bytes; longer is an error.
 */
#ifndef ONAIR_CONFIG_H
#define ONAIR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_LINE_MAX 4096

struct config_key {
	const char *name;	/* "section.key" */
	const char *def;	/* default value, or NULL for unset */
	const char *help;	/* one line for `config` listings */
};

enum config_origin { CONFIG_DEFAULT, CONFIG_FILE, CONFIG_ENV, CONFIG_SET };

struct config_value {
	const struct config_key *key;
	char *value;		/* owned; NULL when unset */
	enum config_origin origin;
};

struct config {
	struct config_value *values;
	size_t count;
};

/* Fill c with the defaults of keys[0..nkeys-1] (the table must outlive c). */
void config_init(struct config *c, const struct config_key *keys, size_t nkeys);
/* Free the values; c may be config_init'ed again. */
void config_release(struct config *c);

/*
 * Read an INI file over the current values. Returns 0, -errno when the
 * file cannot be read, or -EINVAL for a syntax error or unknown key, with
 * a message ("FILE:LINE: what") in err.
 */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/* Apply ONAIR_* variables from envp (NULL-terminated, like environ) over
 * the current values. Variables with the prefix that name no key are
 * ignored. */
void config_load_env(struct config *c, char *const *envp);

/* Set one value by name: 0, or -ENOENT for an unknown name. */
int config_set(struct config *c, const char *name, const char *value);

/* Value of name, or NULL when unset. An unknown name is a programming
 * error and aborts. */
const char *config_get(const struct config *c, const char *name);

/* Integer value: 0, -ENODATA when unset, -EINVAL when not an integer in
 * [min, max]. */
int config_get_int(const struct config *c, const char *name, int64_t min, int64_t max,
		   int64_t *out);

/* Boolean value (true/false/yes/no/on/off/1/0): 0, -ENODATA, -EINVAL. */
int config_get_bool(const struct config *c, const char *name, bool *out);

/* Write every setting as INI text with its origin, for operators. */
void config_dump(const struct config *c, FILE *out);

/* The environment variable name for a key ("nats.url" -> "ONAIR_NATS_URL"). */
void config_env_name(const char *key, char *out, size_t size);

#include "common/banned.h"
#endif
