/*
 * routes.c - every route of the web API with the weakest role it allows.
 * docs/api.md explains the roles; docs/openapi.json describes each route
 * (a test checks that both agree).
 */
#include "api/auth.h"
#include "api/resources.h"
#include "api/router.h"

#define V1 "/api/v1"
#define G ROLE_GUEST
#define H ROLE_HOST
#define P ROLE_PM
#define A ROLE_ADMIN

/* The five generic routes of a declared resource at path. */
#define CRUD(path, res, read, create, write) \
	{ "GET", V1 path, resource_list, read, 0, &res, NULL }, \
	{ "POST", V1 path, resource_create, create, 0, &res, NULL }, \
	{ "GET", V1 path "/{id}", resource_get, read, 0, &res, NULL }, \
	{ "PATCH", V1 path "/{id}", resource_update, write, 0, &res, NULL }, \
	{ "DELETE", V1 path "/{id}", resource_delete, write, 0, &res, NULL }

static const struct api_route routes[] = {
	{ "GET", V1 "/health", health, ROLE_NONE, 0, NULL, NULL },
	{ "GET", V1 "/openapi.json", openapi_document, ROLE_NONE, 0, NULL, NULL },

	{ "GET", "/api/live-info", public_live_info, ROLE_NONE, ROUTE_PUBLIC, NULL, NULL },
	{ "GET", "/api/live-info-v2", public_live_info_v2, ROLE_NONE, ROUTE_PUBLIC, NULL, NULL },
	{ "GET", "/api/week-info", public_week_info, ROLE_NONE, ROUTE_PUBLIC, NULL, NULL },
	/* LibreTime's documented URLs end in a slash ("/api/live-info/?callback"). */
	{ "GET", "/api/live-info/", public_live_info, ROLE_NONE, ROUTE_PUBLIC, NULL, NULL },
	{ "GET", "/api/live-info-v2/", public_live_info_v2, ROLE_NONE, ROUTE_PUBLIC, NULL, NULL },
	{ "GET", "/api/week-info/", public_week_info, ROLE_NONE, ROUTE_PUBLIC, NULL, NULL },
	{ "GET", V1 "/public/now-playing", public_now_playing, ROLE_NONE, ROUTE_PUBLIC, NULL,
	  NULL },
	{ "GET", V1 "/public/week", public_week, ROLE_NONE, ROUTE_PUBLIC, NULL, NULL },
	{ "GET", V1 "/public/shows.ics", public_shows_ics, ROLE_NONE, ROUTE_PUBLIC, NULL, NULL },
	{ "GET", "/player", public_player, ROLE_NONE, ROUTE_PUBLIC, NULL, NULL },

	{ "POST", V1 "/auth/login", auth_login, ROLE_NONE, ROUTE_NO_CSRF, NULL, NULL },
	{ "POST", V1 "/auth/logout", auth_logout, G, 0, NULL, NULL },
	{ "GET", V1 "/auth/me", auth_me, G, 0, NULL, NULL },
	{ "PUT", V1 "/auth/password", auth_password, G, 0, NULL, NULL },

	{ "GET", V1 "/tokens", tokens_list, G, 0, NULL, NULL },
	{ "POST", V1 "/tokens", tokens_create, G, 0, NULL, NULL },
	{ "DELETE", V1 "/tokens/{id}", tokens_revoke, G, 0, NULL, NULL },

	{ "GET", V1 "/users", resource_list, P, 0, &res_users, NULL },
	{ "POST", V1 "/users", resource_create, A, 0, &res_users, NULL },
	{ "GET", V1 "/users/{id}", resource_get, P, 0, &res_users, NULL },
	{ "PATCH", V1 "/users/{id}", resource_update, A, 0, &res_users, NULL },
	{ "DELETE", V1 "/users/{id}", users_delete, A, 0, &res_users, NULL },

	CRUD("/track-types", res_track_types, G, P, P),

	{ "GET", V1 "/files", resource_list, G, 0, &res_files, NULL },
	{ "POST", V1 "/files", NULL, H, 0, NULL, &files_upload_ops },
	{ "GET", V1 "/files/{id}", resource_get, G, 0, &res_files, NULL },
	{ "PATCH", V1 "/files/{id}", resource_update, H, 0, &res_files, NULL },
	{ "DELETE", V1 "/files/{id}", resource_delete, H, 0, &res_files, NULL },
	{ "GET", V1 "/files/{id}/content", files_content, G, ROUTE_SERVICE, NULL, NULL },
	{ "GET", V1 "/files/{id}/waveform", files_waveform, G, 0, NULL, NULL },
	{ "POST", V1 "/files/{id}/analyze", files_analyze, P, 0, NULL, NULL },

	CRUD("/webstreams", res_webstreams, G, H, H),

	CRUD("/podcasts", res_podcasts, G, P, P),
	{ "GET", V1 "/podcasts/{id}/episodes", podcast_episodes_list, G, 0, NULL, NULL },
	{ "POST", V1 "/podcasts/{id}/poll", podcast_poll_now, P, 0, NULL, NULL },
	{ "POST", V1 "/podcasts/{id}/episodes/{id}/ingest", podcast_episode_ingest, P, 0, NULL,
	  NULL },

	CRUD("/playlists", res_playlists, G, H, H),
	{ "GET", V1 "/playlists/{id}/items", playlist_items_get, G, 0, NULL, NULL },
	{ "PUT", V1 "/playlists/{id}/items", playlist_items_put, H, 0, NULL, NULL },

	CRUD("/smart-blocks", res_smart_blocks, G, H, H),
	{ "GET", V1 "/smart-blocks/{id}/criteria", smart_block_criteria_get, G, 0, NULL, NULL },
	{ "PUT", V1 "/smart-blocks/{id}/criteria", smart_block_criteria_put, H, 0, NULL, NULL },
	{ "GET", V1 "/smart-blocks/{id}/preview", smart_block_preview, G, 0, NULL, NULL },

	CRUD("/shows", res_shows, G, P, P),
	{ "GET", V1 "/shows/{id}/hosts", show_hosts_get, G, 0, NULL, NULL },
	{ "PUT", V1 "/shows/{id}/hosts", show_hosts_put, P, 0, NULL, NULL },
	{ "GET", V1 "/shows/{id}/recurrences", show_recurrences_list, G, 0, NULL, NULL },
	{ "POST", V1 "/shows/{id}/recurrences", show_recurrences_create, P, 0, NULL, NULL },
	{ "GET", V1 "/recurrences/{id}", resource_get, G, 0, &res_recurrences, NULL },
	{ "PATCH", V1 "/recurrences/{id}", resource_update, P, 0, &res_recurrences, NULL },
	{ "DELETE", V1 "/recurrences/{id}", resource_delete, P, 0, &res_recurrences, NULL },
	{ "GET", V1 "/recurrences/{id}/exceptions", recurrence_exceptions_list, G, 0, NULL, NULL },
	{ "POST", V1 "/recurrences/{id}/exceptions", recurrence_exceptions_create, P, 0, NULL,
	  NULL },
	{ "DELETE", V1 "/exceptions/{id}", resource_delete, P, 0, &res_exceptions, NULL },

	{ "GET", V1 "/instances", instances_list_handler, G, 0, NULL, NULL },
	{ "GET", V1 "/instances/{id}", instance_get, G, 0, NULL, NULL },
	{ "POST", V1 "/instances/{id}/items", instance_items_insert, H, 0, NULL, NULL },
	{ "PATCH", V1 "/schedule-items/{id}", schedule_item_move, H, 0, NULL, NULL },
	{ "DELETE", V1 "/schedule-items/{id}", schedule_item_remove, H, 0, NULL, NULL },
	{ "GET", V1 "/schedule", schedule_window, G, 0, NULL, NULL },

	{ "GET", V1 "/status", status_get, G, 0, NULL, NULL },
	{ "GET", V1 "/status/stream", status_stream, G, 0, NULL, NULL },
	{ "POST", V1 "/playout/commands", playout_command_send, H, 0, NULL, NULL },
	{ "GET", V1 "/as-run", as_run_list, G, 0, NULL, NULL },
	{ "GET", V1 "/listeners", listener_stats, G, 0, NULL, NULL },
	{ "GET", V1 "/listeners/shows", listener_stats_shows, G, 0, NULL, NULL },

	{ "GET", V1 "/settings", settings_get, P, 0, &res_settings, NULL },
	{ "PATCH", V1 "/settings", settings_update, A, 0, &res_settings, NULL },

	{ "GET", V1 "/tasks", resource_list, P, 0, &res_tasks, NULL },
	{ "GET", V1 "/tasks/{id}", resource_get, P, 0, &res_tasks, NULL },
	{ "POST", V1 "/tasks/{id}/retry", task_retry, P, 0, NULL, NULL },
};

const struct api_route *api_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
