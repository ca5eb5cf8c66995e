/*
 * metrics.h - a registry of Prometheus metrics and their text
 * exposition (format 0.0.4), for the /metrics endpoint of every role.
 *
 * A family is a counter, a gauge or a histogram with up to
 * METRIC_LABELS_MAX label names; each distinct set of label values is a
 * series (at most METRIC_SERIES_MAX per family: further ones are dropped
 * and counted in onair_metrics_series_dropped_total). Label values are
 * given as an array of the family's label count (NULL for none). Every
 * call is thread-safe.
 */
#ifndef ONAIR_METRICS_H
#define ONAIR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define METRIC_LABELS_MAX 3
#define METRIC_SERIES_MAX 512
#define METRIC_BUCKETS_MAX 16

struct metrics;
struct metric;

/* A new registry holding the standard families of role `role`
 * (onair_build_info, onair_up, onair_process_start_time_seconds). */
struct metrics *metrics_new(const char *role);
/* Free m and every family; NULL is ignored. */
void metrics_free(struct metrics *m);

/* Add a family. name: [a-zA-Z_:][a-zA-Z0-9_:]*; labels: comma-separated
 * label names ("route,status") or NULL. The same name twice gives the
 * first family back. NULL when a name is invalid or there are too many
 * labels (a programming error). */
struct metric *metrics_counter(struct metrics *m, const char *name, const char *help,
			       const char *labels);
struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help,
			     const char *labels);
/* bounds: n (1..METRIC_BUCKETS_MAX) increasing upper bounds; +Inf is
 * added. */
struct metric *metrics_histogram(struct metrics *m, const char *name, const char *help,
				 const char *labels, const double *bounds, size_t n);

/* Counter: add v (>= 0). Gauge: add v (any sign). NULL f is ignored. */
void metric_add(struct metric *f, double v, const char *const *values);
/* Gauge: set to v. */
void metric_set(struct metric *f, double v, const char *const *values);
/* Histogram: observe v. */
void metric_observe(struct metric *f, double v, const char *const *values);
/* Drop every series of f (gauges whose label sets come and go). */
void metric_clear(struct metric *f);

/* fn(m, userdata) is called at the start of every metrics_render, to set
 * gauges read from elsewhere. One callback per registry. */
void metrics_on_collect(struct metrics *m, void (*fn)(struct metrics *, void *),
			void *userdata);

/* Append the exposition of every family to out. 0 or -ENOSPC. */
int metrics_render(struct metrics *m, struct buf *out);

/* The Content-Type of the exposition. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#include "common/banned.h"
#endif
