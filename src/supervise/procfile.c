/*
 * procfile.c - parse the supervisor's process list; see procfile.h.
 */
#include "supervise/procfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

/* One line split into words, each NUL-terminated inside buf. */
struct words {
	char buf[PROCFILE_MAX_LINE + 1];
	char *word[PROCFILE_MAX_ARGS + 8];
	size_t n;
};

static int fail(char *err, size_t errlen, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int line, const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "line %d: ", line);
		if (n >= 0 && (size_t)n < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Split line (len bytes, no newline) into w. 0 or -EINVAL with err. */
static int split(struct words *w, const char *line, size_t len, int lineno, char *err,
		 size_t errlen)
{
	size_t i = 0, o = 0;
	w->n = 0;
	if (len > PROCFILE_MAX_LINE)
		return fail(err, errlen, lineno, "longer than %d characters", PROCFILE_MAX_LINE);
	for (;;) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i == len || line[i] == '#')
			return 0;
		if (w->n == sizeof(w->word) / sizeof(w->word[0]))
			return fail(err, errlen, lineno, "more than %d words", PROCFILE_MAX_ARGS);
		w->word[w->n++] = &w->buf[o];
		while (i < len && !is_blank(line[i])) {
			char c = line[i++];
			if (c == '\0')
				return fail(err, errlen, lineno, "a NUL byte");
			if (c != '\'' && c != '"') {
				w->buf[o++] = c;
				continue;
			}
			char q = c;
			for (;;) {
				if (i == len)
					return fail(err, errlen, lineno, "unterminated %c quote", q);
				c = line[i++];
				if (c == q)
					break;
				if (c == '\0')
					return fail(err, errlen, lineno, "a NUL byte");
				if (q == '"' && c == '\\' && i < len &&
				    (line[i] == '"' || line[i] == '\\'))
					c = line[i++];
				w->buf[o++] = c;
			}
		}
		w->buf[o++] = '\0';
	}
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= PROCFILE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int parse_port(const char *s, int *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int add_entry(struct procfile *pf, struct words *w, int lineno, char *err, size_t errlen)
{
	const char *name = w->word[0];
	if (!valid_name(name))
		return fail(err, errlen, lineno,
			    "'%.40s' is not a name (1 to %d of a-z, 0-9, _ and -)", name,
			    PROCFILE_NAME_MAX - 1);
	for (size_t i = 0; i < pf->count; i++) {
		if (strcmp(pf->entries[i].name, name) == 0)
			return fail(err, errlen, lineno, "'%s' is already on line %d", name,
				    pf->entries[i].line);
	}
	if (pf->count == PROCFILE_MAX_ENTRIES)
		return fail(err, errlen, lineno, "more than %d processes", PROCFILE_MAX_ENTRIES);
	struct procfile_entry *e = &pf->entries[pf->count];
	memset(e, 0, sizeof(*e));
	size_t k = 1;
	for (; k < w->n && strcmp(w->word[k], "--") != 0; k++) {
		const char *opt = w->word[k];
		if (strncmp(opt, "ready=tcp:", 10) == 0 && parse_port(opt + 10, &e->ready_port) == 0)
			continue;
		return fail(err, errlen, lineno, "unknown option '%.60s' (ready=tcp:PORT, then --)",
			    opt);
	}
	if (k == w->n)
		return fail(err, errlen, lineno, "no '--' before the command");
	size_t argc = w->n - k - 1;
	if (argc == 0)
		return fail(err, errlen, lineno, "no command after '--'");
	if (argc > PROCFILE_MAX_ARGS)
		return fail(err, errlen, lineno, "more than %d words in the command",
			    PROCFILE_MAX_ARGS);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->line = lineno;
	e->argv = xcalloc(argc + 1, sizeof(*e->argv));
	for (size_t a = 0; a < argc; a++)
		e->argv[a] = xstrdup(w->word[k + 1 + a]);
	pf->count++;
	return 0;
}

int procfile_parse(struct procfile *pf, const char *text, size_t len, char *err, size_t errlen)
{
	static __thread struct words w;
	int r = 0;
	int lineno = 0;
	memset(pf, 0, sizeof(*pf));
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		lineno++;
		r = split(&w, text + pos, end - pos, lineno, err, errlen);
		if (r == 0 && w.n > 0)
			r = add_entry(pf, &w, lineno, err, errlen);
		if (r < 0)
			goto fail;
		pos = nl ? end + 1 : len;
	}
	if (pf->count == 0) {
		if (err && errlen)
			snprintf(err, errlen, "no process listed");
		r = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	procfile_free(pf);
	return r;
}

void procfile_free(struct procfile *pf)
{
	for (size_t i = 0; i < pf->count; i++) {
		for (char **a = pf->entries[i].argv; a && *a; a++)
			free(*a);
		free(pf->entries[i].argv);
	}
	memset(pf, 0, sizeof(*pf));
}
