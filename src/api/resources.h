/*
 * resources.h - the declared resources (resource.h) and the handlers
 * written by hand, for the route table (routes.c).
 */
#ifndef ONAIR_API_RESOURCES_H
#define ONAIR_API_RESOURCES_H

#include "api/resource.h"
#include "api/router.h"

/* Shorthands for field declarations. */
#define FLD(n, t, fl) { .name = (n), .column = (n), .type = (t), .flags = (fl) }
#define FLDC(n, c, t, fl) { .name = (n), .column = (c), .type = (t), .flags = (fl) }
#define FTXT(n, fl, mx) { .name = (n), .column = (n), .type = FT_TEXT, .flags = (fl), .max = (mx) }
#define FINT(n, fl, lo, hi) { .name = (n), .column = (n), .type = FT_INT, .flags = (fl), \
			      .min = (lo), .max = (hi) }
#define FREF(n, fl, what) { .name = (n), .column = (n), .type = FT_ID, .flags = (fl), .ref = (what) }
#define FENUM(n, fl, ch) { .name = (n), .column = (n), .type = FT_ENUM, .flags = (fl), .choices = (ch) }
#define FID FLD("id", FT_INT, FF_RO | FF_SORT | FF_FILTER)
#define FCREATED FLD("created_at", FT_TIME, FF_RO | FF_SORT)
#define FUPDATED FLD("updated_at", FT_TIME, FF_RO | FF_SORT)
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* Library (res_library.c). */
extern const struct resource res_track_types, res_files, res_webstreams, res_podcasts;
void podcast_episodes_list(struct api_request *req, struct api_response *res);
void podcast_poll_now(struct api_request *req, struct api_response *res);
void podcast_episode_ingest(struct api_request *req, struct api_response *res);

/* Media in and out (media.c). */
extern const struct api_stream_ops files_upload_ops;
void files_content(struct api_request *req, struct api_response *res);
void files_waveform(struct api_request *req, struct api_response *res);
void files_analyze(struct api_request *req, struct api_response *res);

/* Playlists and smart blocks (res_playlists.c). */
extern const struct resource res_playlists, res_smart_blocks;
void playlist_items_get(struct api_request *req, struct api_response *res);
void playlist_items_put(struct api_request *req, struct api_response *res);
void smart_block_criteria_get(struct api_request *req, struct api_response *res);
void smart_block_criteria_put(struct api_request *req, struct api_response *res);
void smart_block_preview(struct api_request *req, struct api_response *res);

/* Shows and the schedule (res_shows.c, res_schedule.c). */
extern const struct resource res_shows, res_recurrences, res_exceptions;
void show_hosts_get(struct api_request *req, struct api_response *res);
void show_hosts_put(struct api_request *req, struct api_response *res);
void show_recurrences_list(struct api_request *req, struct api_response *res);
void show_recurrences_create(struct api_request *req, struct api_response *res);
void recurrence_exceptions_list(struct api_request *req, struct api_response *res);
void recurrence_exceptions_create(struct api_request *req, struct api_response *res);
void instances_list_handler(struct api_request *req, struct api_response *res);
void instance_get(struct api_request *req, struct api_response *res);
void instance_items_insert(struct api_request *req, struct api_response *res);
void schedule_item_move(struct api_request *req, struct api_response *res);
void schedule_item_remove(struct api_request *req, struct api_response *res);
void schedule_window(struct api_request *req, struct api_response *res);
/*
 * Make the show instances the rules give for [from, to) (and from a lookback
 * before, for a show on air at from), unless this process did lately
 * (res_schedule.c). 0, or -1 with res filled.
 */
int schedule_materialise(struct api_request *req, int64_t from, int64_t to,
			 struct api_response *res);
/* Forget which windows this process has materialised (after a change). */
void schedule_cache_invalidate(void);

/* People, settings, history (res_admin.c). */
extern const struct resource res_users, res_tasks, res_settings;
void users_delete(struct api_request *req, struct api_response *res);
void settings_get(struct api_request *req, struct api_response *res);
void settings_update(struct api_request *req, struct api_response *res);
void task_retry(struct api_request *req, struct api_response *res);
void as_run_list(struct api_request *req, struct api_response *res);
void listener_stats(struct api_request *req, struct api_response *res);
void listener_stats_shows(struct api_request *req, struct api_response *res);
void health(struct api_request *req, struct api_response *res);
/* GET /status: the playouts' live state and the schedule's now and next (status.c). */
void status_get(struct api_request *req, struct api_response *res);
/* GET /status/stream: the playouts' live state as server-sent events (status.c,
 * streamed by server.c): an event at once, then at each change. */
void status_stream(struct api_request *req, struct api_response *res);
/* POST /playout/commands: a command to every playout instance (or one) over the queue,
 * answered with their replies (commands.c). */
void playout_command_send(struct api_request *req, struct api_response *res);
void openapi_document(struct api_request *req, struct api_response *res);
/* The public endpoints, no login, off with api.public=false (public.c): LibreTime's
 * live-info, live-info-v2 and week-info; now playing, the week and an iCalendar feed. */
void public_live_info(struct api_request *req, struct api_response *res);
void public_live_info_v2(struct api_request *req, struct api_response *res);
void public_week_info(struct api_request *req, struct api_response *res);
void public_now_playing(struct api_request *req, struct api_response *res);
void public_week(struct api_request *req, struct api_response *res);
void public_shows_ics(struct api_request *req, struct api_response *res);
/* GET /player: the embeddable player page (player.html, built in), with a
 * Content-Security-Policy that lets any site frame it, lets it fetch from its
 * own origin (and the HLS origin when it plays HLS through hls.js) and play
 * from the origins of the configured stream URLs. */
void public_player(struct api_request *req, struct api_response *res);
/* Longest public stream URL accepted (public.stream_url, public.hls_url). */
#define PUBLIC_URL_MAX 512
/* Whether url can be a public stream URL: an absolute http or https URL of
 * at most PUBLIC_URL_MAX bytes with an ASCII host[:port] (no user part) and
 * no space, control, quote, backslash or angle bracket. 0 or -EINVAL. */
int public_url_check(const char *url);
/* Forget when the public endpoints last made the show instances (after a change). */
void public_cache_invalidate(void);

#include "common/banned.h"
#endif
