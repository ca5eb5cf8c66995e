/*
 * playout_cli.c - the operator's commands of onair-playout that do not run
 * the service: "status" and the live login check Liquidsoap calls.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "playout/playout.h"
#include "playout/snapshot_store.h"

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

int playout_print_status(const struct config *cfg)
{
	const char *dir = config_get(cfg, "playout.state_dir");
	char path[4096];
	snprintf(path, sizeof(path), "%s/status.json", dir ? dir : ".");
	json_error_t jerr;
	json_t *st = json_load_file(path, 0, &jerr);
	if (!st) {
		fprintf(stderr, "onair-playout: no status in %s (is the service running with "
				"this state directory?)\n", path);
		return EXIT_FAILURE;
	}
	int64_t written = 0;
	time_parse_rfc3339(jstr(st, "written_at"), &written);
	double age = (double)(time_now_us() - written) / USEC_PER_SEC;
	printf("instance:   %s\n", jstr(st, "instance"));
	printf("updated:    %s (%.0f s ago)%s\n", jstr(st, "written_at"), age,
	       age > 5 ? "  -- the service may not be running" : "");
	printf("schedule:   revision %lld\n",
	       (long long)json_integer_value(json_object_get(st, "snapshot_revision")));
	printf("source:     %s\n", jstr(st, "source"));
	json_t *cur = json_object_get(st, "on_air");
	if (cur)
		printf("on air:     #%lld %s%s%s  (%s .. %s)\n",
		       (long long)json_integer_value(json_object_get(cur, "id")), jstr(cur, "artist"),
		       *jstr(cur, "artist") ? " - " : "", jstr(cur, "title"), jstr(cur, "start"),
		       jstr(cur, "end"));
	else
		printf("on air:     no scheduled item\n");
	json_t *next = json_object_get(st, "next");
	if (next)
		printf("next:       #%lld %s at %s\n",
		       (long long)json_integer_value(json_object_get(next, "id")), jstr(next, "title"),
		       jstr(next, "start"));
	json_t *cache = json_object_get(st, "cache");
	printf("cache:      %lld of %lld files ready, %lld missing (%lld failing)\n",
	       (long long)json_integer_value(json_object_get(cache, "ready")),
	       (long long)json_integer_value(json_object_get(cache, "wanted")),
	       (long long)json_integer_value(json_object_get(cache, "missing")),
	       (long long)json_integer_value(json_object_get(cache, "failing")));
	printf("liquidsoap: %s\n", json_is_true(json_object_get(st, "liquidsoap")) ? "ready" : "NOT READY");
	const char *key;
	json_t *up;
	json_object_foreach(json_object_get(st, "outputs"), key, up)
		printf("output:     %-24s %s\n", key, json_is_true(up) ? "up" : "DOWN");
	printf("events:     %lld waiting to be sent\n",
	       (long long)json_integer_value(json_object_get(st, "events_pending")));
	json_decref(st);
	return EXIT_SUCCESS;
}

int playout_check_live(const struct config *cfg)
{
	const char *input = getenv("ONAIR_LIVE_INPUT");
	const char *user = getenv("ONAIR_LIVE_USER");
	const char *password = getenv("ONAIR_LIVE_PASSWORD");
	const char *dir = config_get(cfg, "playout.state_dir");
	if (!input || !user || !password || !dir) {
		fprintf(stderr, "check-live: ONAIR_LIVE_INPUT, ONAIR_LIVE_USER and "
				"ONAIR_LIVE_PASSWORD must be set\n");
		return EXIT_USAGE;
	}
	if (sodium_init() < 0)
		return EXIT_FAILURE;
	struct proto_snapshot snap;
	struct proto_error err;
	if (snapshot_store_load(dir, &snap, &err) < 0) {
		log_warn("live", "login of '%s' refused: no usable schedule (%s)", user, err.text);
		return EXIT_FAILURE;
	}
	int which = strcmp(input, "main") == 0 ? PROTO_LIVE_MAIN : PROTO_LIVE_SHOW;
	const struct proto_live_input_cfg *in = &snap.live[which];
	int64_t now = time_now_us();
	bool ok = false;
	for (size_t i = 0; in->enabled && i < in->n_users && !ok; i++) {
		const struct proto_live_user *u = &in->users[i];
		if (strcmp(u->name, user) != 0)
			continue;
		if ((u->valid_from && now < u->valid_from) || (u->valid_until && now >= u->valid_until))
			continue;
		ok = crypto_pwhash_str_verify(u->password_hash, password, strlen(password)) == 0;
	}
	log_info("live", "login of '%s' on the %s input %s", user, input,
		 ok ? "accepted" : "refused");
	proto_snapshot_release(&snap);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

int playout_hash_password(void)
{
	char pw[1024];
	if (!fgets(pw, sizeof(pw), stdin)) {
		fprintf(stderr, "hash-password: give the password on standard input\n");
		return EXIT_USAGE;
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	if (sodium_init() < 0)
		return EXIT_FAILURE;
	char hash[crypto_pwhash_STRBYTES];
	if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		fprintf(stderr, "hash-password: out of memory\n");
		return EXIT_FAILURE;
	}
	sodium_memzero(pw, sizeof(pw));
	printf("%s\n", hash);
	return EXIT_SUCCESS;
}
