/*
 * playout_metrics.c - playout's Prometheus metrics; see playout_metrics.h.
 */
#include "playout/playout_metrics.h"

#include <stdio.h>
#include <string.h>

#include "common/timeutil.h"
#include "playout/playout_internal.h"

/* Gauges read at scrape time, under the play loop's lock. */
static void collect(struct metrics *reg, void *userdata)
{
	struct playout *p = userdata;
	(void)reg;
	pthread_mutex_lock(&p->lock);
	struct playout_metrics *pm = &p->metrics;
	int64_t mono = time_mono_us();
	if (p->have_snap) {
		metric_set(pm->snapshot_age, (double)(mono - p->snap_taken_at) / USEC_PER_SEC, NULL);
		metric_set(pm->snapshot_revision, (double)p->snap.revision, NULL);
	}
	struct proto_snapshot def;
	const struct proto_snapshot *s = played_snapshot(p, &def);
	metric_clear(pm->outputs_up);
	for (size_t i = 0; i < s->n_outputs && i < PROTO_OUTPUTS_MAX; i++) {
		char name[160];
		snprintf(name, sizeof(name), "icecast:%s", s->outputs[i].mount);
		const char *l = name;
		metric_set(pm->outputs_up, p->outputs_up[i] ? 1 : 0, &l);
	}
	if (p->hls) {
		const char *l = "hls";
		metric_set(pm->outputs_up, p->outputs_up[PROTO_OUTPUTS_MAX] ? 1 : 0, &l);
		metric_set(pm->hls_listeners,
			   (double)hls_listeners_count(&p->hls_listeners, mono,
							       HLS_LISTENER_WINDOW_US),
			   NULL);
	}
	if (p->events)
		metric_set(pm->events_pending, (double)event_log_pending(p->events), NULL);
	pthread_mutex_unlock(&p->lock);
}

int playout_metrics_open(struct playout *p)
{
	struct playout_metrics *pm = &p->metrics;
	memset(pm, 0, sizeof(*pm));
	pm->reg = metrics_new("playout");
	struct metrics *m = pm->reg;
	pm->liq_restarts = metrics_counter(m, "onair_playout_liquidsoap_restarts_total",
					   "Liquidsoap started again (it died, or was restarted)", NULL);
	pm->items = metrics_counter(m, "onair_playout_items_total",
				    "items started, and how they ended", "result");
	pm->source_seconds = metrics_counter(m, "onair_playout_source_seconds_total",
					     "seconds on air of each source (fallback and safety: "
					     "nothing scheduled played)", "source");
	pm->silence_seconds = metrics_counter(m, "onair_playout_silence_seconds_total",
					      "seconds the output was silent (the blank detector)",
					      NULL);
	pm->dead_air = metrics_counter(m, "onair_playout_dead_air_actions_total",
				       "actions of the dead-air watchdog", "action,cause");
	pm->snapshot_age = metrics_gauge(m, "onair_playout_snapshot_age_seconds",
					 "time since the snapshot in force arrived", NULL);
	pm->snapshot_revision = metrics_gauge(m, "onair_playout_snapshot_revision",
					      "revision of the snapshot in force", NULL);
	pm->outputs_up = metrics_gauge(m, "onair_playout_output_up",
				       "1 when the output is up, as Liquidsoap reports", "output");
	pm->hls_listeners = metrics_gauge(m, "onair_playout_hls_listeners",
					  "addresses that fetched an HLS segment in the last minute",
					  NULL);
	pm->events_pending = metrics_gauge(m, "onair_playout_events_pending",
					   "events not yet confirmed by the queue", NULL);
	metric_add(pm->liq_restarts, 0, NULL);
	metric_add(pm->silence_seconds, 0, NULL);
	metrics_on_collect(m, collect, p);
	return metrics_http_start_from(m, p->cfg, "playout", &pm->http);
}

void playout_metrics_close(struct playout *p)
{
	metrics_http_stop(p->metrics.http);
	p->metrics.http = NULL;
	metrics_free(p->metrics.reg);
	p->metrics.reg = NULL;
}

void playout_metrics_event(struct playout *p, const struct proto_event *e)
{
	struct playout_metrics *pm = &p->metrics;
	const char *l[2];
	switch (e->kind) {
	case PROTO_EV_ITEM_STARTED:
		l[0] = "started";
		metric_add(pm->items, 1, l);
		break;
	case PROTO_EV_ITEM_ENDED:
		l[0] = proto_end_reason_name(e->reason);
		metric_add(pm->items, 1, l);
		break;
	case PROTO_EV_DEAD_AIR:
		l[0] = proto_watchdog_action_name(e->action);
		l[1] = proto_watchdog_cause_name(e->cause);
		metric_add(pm->dead_air, 1, l);
		break;
	default:
		break;
	}
}

void playout_metrics_tick(struct playout *p, int64_t mono)
{
	struct playout_metrics *pm = &p->metrics;
	if (pm->last_tick && p->liq_ready) {
		double dt = (double)(mono - pm->last_tick) / USEC_PER_SEC;
		const char *l = proto_source_name(p->source);
		metric_add(pm->source_seconds, dt, &l);
		if (p->air.blank)
			metric_add(pm->silence_seconds, dt, NULL);
	}
	pm->last_tick = mono;
}

void playout_metrics_liquidsoap_started(struct playout *p)
{
	if (p->metrics.liq_starts++ > 0)
		metric_add(p->metrics.liq_restarts, 1, NULL);
}
