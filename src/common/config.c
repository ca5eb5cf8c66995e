#include "common/error.h"
#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"

void config_init(struct config *c, const struct config_key *keys, size_t nkeys)
{
	c->values = xcalloc(nkeys, sizeof(*c->values));
	c->count = nkeys;
	for (size_t i = 0; i < nkeys; i++) {
		c->values[i].key = &keys[i];
		c->values[i].value = keys[i].def ? xstrdup(keys[i].def) : NULL;
		c->values[i].origin = CONFIG_DEFAULT;
	}
}

void config_release(struct config *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->values[i].value);
	free(c->values);
	c->values = NULL;
	c->count = 0;
}

static struct config_value *find_value(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->values[i].key->name, name) == 0)
			return &c->values[i];
	return NULL;
}

static void set_value(struct config_value *v, const char *value, enum config_origin origin)
{
	free(v->value);
	v->value = value ? xstrdup(value) : NULL;
	v->origin = origin;
}

int config_set(struct config *c, const char *name, const char *value)
{
	struct config_value *v = find_value(c, name);
	if (!v)
		return -ENOENT;
	set_value(v, value, CONFIG_SET);
	return 0;
}

const char *config_get(const struct config *c, const char *name)
{
	struct config_value *v = find_value(c, name);
	if (!v) {
		fprintf(stderr, "FATAL [config] unknown setting '%s' requested\n", name);
		abort();
	}
	return v->value;
}

int config_get_int(const struct config *c, const char *name, int64_t min, int64_t max,
		   int64_t *out)
{
	const char *s = config_get(c, name);
	if (!s || !*s)
		return -ENODATA;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int config_get_bool(const struct config *c, const char *name, bool *out)
{
	const char *s = config_get(c, name);
	if (!s || !*s)
		return -ENODATA;
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

void config_env_name(const char *key, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "ONAIR_");
	for (const char *p = key; *p && n + 1 < size; p++)
		out[n++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
	out[n < size ? n : size - 1] = '\0';
}

void config_load_env(struct config *c, char *const *envp)
{
	char name[128];
	for (size_t i = 0; i < c->count; i++) {
		config_env_name(c->values[i].key->name, name, sizeof(name));
		size_t nlen = strlen(name);
		for (char *const *e = envp; e && *e; e++) {
			if (strncmp(*e, name, nlen) == 0 && (*e)[nlen] == '=')
				set_value(&c->values[i], *e + nlen + 1, CONFIG_ENV);
		}
	}
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Unquote a "..." value in place; false on a bad quote. */
static bool unquote(char *v)
{
	size_t len = strlen(v);
	if (len == 0 || v[0] != '"')
		return true;
	if (len < 2 || v[len - 1] != '"')
		return false;
	char *w = v;
	for (char *r = v + 1; r < v + len - 1; r++) {
		if (*r == '\\') {
			r++;
			if (r >= v + len - 1 || (*r != '"' && *r != '\\'))
				return false;
		} else if (*r == '"') {
			return false;
		}
		*w++ = *r;
	}
	*w = '\0';
	return true;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		(void)error_set(err, errlen, 0, "%s: %s", path, strerror(e));
		return -e;
	}
	char line[CONFIG_LINE_MAX + 2];
	char section[128] = "";
	unsigned lineno = 0;
	int ret = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			(void)error_set(err, errlen, 0, "%s:%u: line longer than %d bytes", path, lineno,
				CONFIG_LINE_MAX);
			ret = -EINVAL;
			goto out_close;
		}
		char *s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || end[1] != '\0' || end - s - 1 >= (long)sizeof(section) ||
			    end == s + 1) {
				(void)error_set(err, errlen, 0, "%s:%u: bad section header", path, lineno);
				ret = -EINVAL;
				goto out_close;
			}
			*end = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			(void)error_set(err, errlen, 0, "%s:%u: expected 'key = value'", path, lineno);
			ret = -EINVAL;
			goto out_close;
		}
		*eq = '\0';
		char *key = trim(s);
		char *value = trim(eq + 1);
		if (!unquote(value)) {
			(void)error_set(err, errlen, 0, "%s:%u: bad quoting in value of '%s'", path, lineno,
				key);
			ret = -EINVAL;
			goto out_close;
		}
		char name[256];
		if (!*section) {
			(void)error_set(err, errlen, 0, "%s:%u: '%s' is outside any [section]", path, lineno,
				key);
			ret = -EINVAL;
			goto out_close;
		}
		snprintf(name, sizeof(name), "%s.%s", section, key);
		struct config_value *v = find_value(c, name);
		if (!v) {
			(void)error_set(err, errlen, 0, "%s:%u: unknown setting '%s'", path, lineno, name);
			ret = -EINVAL;
			goto out_close;
		}
		set_value(v, value, CONFIG_FILE);
	}
	if (ferror(f)) {
		(void)error_set(err, errlen, 0, "%s: read error", path);
		ret = -EIO;
	}
out_close:
	fclose(f);
	return ret;
}

void config_dump(const struct config *c, FILE *out)
{
	static const char *const origins[] = { "default", "file", "environment", "set" };
	const char *prev_section = NULL;
	size_t prev_len = 0;
	for (size_t i = 0; i < c->count; i++) {
		const struct config_value *v = &c->values[i];
		const char *name = v->key->name;
		const char *dot = strchr(name, '.');
		size_t slen = dot ? (size_t)(dot - name) : 0;
		if (!prev_section || slen != prev_len || strncmp(prev_section, name, slen) != 0) {
			fprintf(out, "%s[%.*s]\n", prev_section ? "\n" : "", (int)slen, name);
			prev_section = name;
			prev_len = slen;
		}
		char env[128];
		config_env_name(name, env, sizeof(env));
		fprintf(out, "# %s (%s; %s)\n", v->key->help, env, origins[v->origin]);
		fprintf(out, "%s%s = %s\n", v->value ? "" : "# ", dot ? dot + 1 : name,
			v->value ? v->value : "");
	}
}
