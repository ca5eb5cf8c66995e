/*
 * metrics.c - Prometheus metrics registry and exposition; see metrics.h.
 */
#include "metrics/metrics.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"

#define NAME_SIZE 96
#define HELP_SIZE 200
#define LABEL_SIZE 48
#define VALUE_SIZE 160

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct series {
	char values[METRIC_LABELS_MAX][VALUE_SIZE];
	double value;			/* counter, gauge */
	double sum;			/* histogram */
	uint64_t count;
	uint64_t buckets[METRIC_BUCKETS_MAX];	/* not cumulative */
};

struct metric {
	struct metrics *reg;
	char name[NAME_SIZE];
	char help[HELP_SIZE];
	enum metric_type type;
	size_t nlabels;
	char labels[METRIC_LABELS_MAX][LABEL_SIZE];
	double bounds[METRIC_BUCKETS_MAX];
	size_t nbounds;
	struct series *series;
	size_t nseries, cap;
	struct metric *next;
};

struct metrics {
	pthread_mutex_t lock;
	struct metric *first, *last;
	struct metric *dropped;
	void (*collect)(struct metrics *, void *);
	void *collect_ud;
};

static bool valid_name(const char *s, bool label)
{
	if (!s || !*s || strlen(s) >= (label ? LABEL_SIZE : NAME_SIZE))
		return false;
	for (const char *c = s; *c; c++) {
		bool alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
			     (!label && *c == ':');
		if (!alpha && !(c > s && *c >= '0' && *c <= '9'))
			return false;
	}
	return true;
}

static struct metric *add_family(struct metrics *m, const char *name, const char *help,
				 enum metric_type type, const char *labels)
{
	if (!m || !valid_name(name, false))
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (struct metric *f = m->first; f; f = f->next) {
		if (strcmp(f->name, name) == 0) {
			pthread_mutex_unlock(&m->lock);
			return f;
		}
	}
	pthread_mutex_unlock(&m->lock);
	struct metric *f = xcalloc(1, sizeof(*f));
	f->reg = m;
	f->type = type;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->help, sizeof(f->help), "%s", help ? help : "");
	for (const char *p = labels; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (f->nlabels == METRIC_LABELS_MAX || len == 0 || len >= LABEL_SIZE) {
			free(f);
			return NULL;
		}
		memcpy(f->labels[f->nlabels], p, len);
		f->labels[f->nlabels][len] = '\0';
		if (!valid_name(f->labels[f->nlabels], true)) {
			free(f);
			return NULL;
		}
		f->nlabels++;
		p = end ? end + 1 : p + len;
	}
	pthread_mutex_lock(&m->lock);
	if (m->last)
		m->last->next = f;
	else
		m->first = f;
	m->last = f;
	pthread_mutex_unlock(&m->lock);
	return f;
}

struct metrics *metrics_new(const char *role)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	const char *r[] = { role, ONAIR_VERSION };
	metric_set(metrics_gauge(m, "onair_build_info", "the version of this process",
				 "role,version"), 1, r);
	metric_set(metrics_gauge(m, "onair_up", "1 while the process runs", "role"), 1, r);
	metric_set(metrics_gauge(m, "onair_process_start_time_seconds",
				 "when the process started (Unix time); a change is a restart",
				 "role"),
		   (double)time_now_us() / USEC_PER_SEC, r);
	m->dropped = metrics_counter(m, "onair_metrics_series_dropped_total",
				     "label sets not kept (a family had too many)", NULL);
	metric_add(m->dropped, 0, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	struct metric *f = m->first;
	while (f) {
		struct metric *next = f->next;
		free(f->series);
		free(f);
		f = next;
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

struct metric *metrics_counter(struct metrics *m, const char *name, const char *help,
			       const char *labels)
{
	return add_family(m, name, help, METRIC_COUNTER, labels);
}

struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help,
			     const char *labels)
{
	return add_family(m, name, help, METRIC_GAUGE, labels);
}

struct metric *metrics_histogram(struct metrics *m, const char *name, const char *help,
				 const char *labels, const double *bounds, size_t n)
{
	if (n == 0 || n > METRIC_BUCKETS_MAX)
		return NULL;
	for (size_t i = 1; i < n; i++)
		if (!(bounds[i] > bounds[i - 1]))
			return NULL;
	struct metric *f = add_family(m, name, help, METRIC_HISTOGRAM, labels);
	if (f && f->nbounds == 0) {
		memcpy(f->bounds, bounds, n * sizeof(*bounds));
		f->nbounds = n;
	}
	return f;
}

/* The series of f with these label values, created if need be; NULL when
 * the family is full (f->reg->lock held). */
static struct series *find(struct metric *f, const char *const *values)
{
	for (size_t i = 0; i < f->nseries; i++) {
		size_t k = 0;
		while (k < f->nlabels &&
		       strncmp(f->series[i].values[k], values[k] ? values[k] : "", VALUE_SIZE - 1) == 0)
			k++;
		if (k == f->nlabels)
			return &f->series[i];
	}
	if (f->nseries == METRIC_SERIES_MAX)
		return NULL;
	if (f->nseries == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4;
		f->series = xreallocarray(f->series, f->cap, sizeof(*f->series));
	}
	struct series *s = &f->series[f->nseries++];
	memset(s, 0, sizeof(*s));
	for (size_t k = 0; k < f->nlabels; k++)
		snprintf(s->values[k], VALUE_SIZE, "%s", values[k] ? values[k] : "");
	return s;
}

static void update(struct metric *f, double v, const char *const *values, int how)
{
	if (!f || !isfinite(v) || (f->nlabels && !values))
		return;
	struct metrics *m = f->reg;
	pthread_mutex_lock(&m->lock);
	struct series *s = find(f, values);
	if (!s) {
		if (m->dropped && m->dropped->nseries)
			m->dropped->series[0].value += 1;
	} else if (how == 0) {
		s->value += v;
	} else if (how == 1) {
		s->value = v;
	} else {
		s->sum += v;
		s->count++;
		size_t b = 0;
		while (b < f->nbounds && v > f->bounds[b])
			b++;
		if (b < f->nbounds)
			s->buckets[b]++;
	}
	pthread_mutex_unlock(&m->lock);
}

void metric_add(struct metric *f, double v, const char *const *values)
{
	if (f && f->type == METRIC_COUNTER && v < 0)
		return;
	if (f && f->type != METRIC_HISTOGRAM)
		update(f, v, values, 0);
}

void metric_set(struct metric *f, double v, const char *const *values)
{
	if (f && f->type == METRIC_GAUGE)
		update(f, v, values, 1);
}

void metric_observe(struct metric *f, double v, const char *const *values)
{
	if (f && f->type == METRIC_HISTOGRAM)
		update(f, v, values, 2);
}

void metric_clear(struct metric *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->reg->lock);
	f->nseries = 0;
	pthread_mutex_unlock(&f->reg->lock);
}

void metrics_on_collect(struct metrics *m, void (*fn)(struct metrics *, void *),
			void *userdata)
{
	pthread_mutex_lock(&m->lock);
	m->collect = fn;
	m->collect_ud = userdata;
	pthread_mutex_unlock(&m->lock);
}

static int put_escaped(struct buf *out, const char *s, bool quote)
{
	int r = 0;
	for (; *s && r == 0; s++) {
		if (*s == '\\')
			r = buf_append_str(out, "\\\\");
		else if (*s == '\n')
			r = buf_append_str(out, "\\n");
		else if (quote && *s == '"')
			r = buf_append_str(out, "\\\"");
		else
			r = buf_append_char(out, *s);
	}
	return r;
}

/* name{labels[,le="x"]} value */
static int put_sample(struct buf *out, const struct metric *f, const struct series *s,
		      const char *suffix, const char *le, double v)
{
	int r = buf_printf(out, "%s%s", f->name, suffix);
	bool any = f->nlabels || le;
	if (r == 0 && any)
		r = buf_append_char(out, '{');
	for (size_t k = 0; k < f->nlabels && r == 0; k++) {
		r = buf_printf(out, "%s%s=\"", k ? "," : "", f->labels[k]);
		if (r == 0) r = put_escaped(out, s->values[k], true);
		if (r == 0) r = buf_append_char(out, '"');
	}
	if (r == 0 && le)
		r = buf_printf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
	if (r == 0 && any)
		r = buf_append_char(out, '}');
	if (r == 0)
		r = buf_printf(out, " %.17g\n", v);
	return r;
}

static int render_family(struct buf *out, const struct metric *f)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	int r = buf_printf(out, "# HELP %s ", f->name);
	if (r == 0) r = put_escaped(out, f->help, false);
	if (r == 0) r = buf_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
	for (size_t i = 0; i < f->nseries && r == 0; i++) {
		const struct series *s = &f->series[i];
		if (f->type != METRIC_HISTOGRAM) {
			r = put_sample(out, f, s, "", NULL, s->value);
			continue;
		}
		uint64_t cum = 0;
		for (size_t b = 0; b < f->nbounds && r == 0; b++) {
			char le[32];
			snprintf(le, sizeof(le), "%.17g", f->bounds[b]);
			cum += s->buckets[b];
			r = put_sample(out, f, s, "_bucket", le, (double)cum);
		}
		if (r == 0) r = put_sample(out, f, s, "_bucket", "+Inf", (double)s->count);
		if (r == 0) r = put_sample(out, f, s, "_sum", NULL, s->sum);
		if (r == 0) r = put_sample(out, f, s, "_count", NULL, (double)s->count);
	}
	return r;
}

int metrics_render(struct metrics *m, struct buf *out)
{
	pthread_mutex_lock(&m->lock);
	void (*fn)(struct metrics *, void *) = m->collect;
	void *ud = m->collect_ud;
	pthread_mutex_unlock(&m->lock);
	if (fn)
		fn(m, ud);
	pthread_mutex_lock(&m->lock);
	int r = 0;
	for (const struct metric *f = m->first; f && r == 0; f = f->next)
		r = render_family(out, f);
	pthread_mutex_unlock(&m->lock);
	return r;
}
