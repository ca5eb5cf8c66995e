/*
 * presence.c - answer "who is there" requests (see presence.h).
 */
#include "mq/presence.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"

struct presence {
	struct mq_sub *sub;
	char *role;
	char *name;
	char host[64];
	int64_t started_at;
};

static json_t *time_json(int64_t at)
{
	char s[TIME_RFC3339_MAX];
	time_format_rfc3339(at, s, sizeof(s));
	return json_string(s);
}

static void on_request(void *userdata, struct mq_request_msg *req)
{
	struct presence *p = userdata;
	char problem[512];
	int64_t problem_at = log_last_problem(problem, sizeof(problem));
	json_t *last = problem_at ? json_pack("{s:o, s:s}", "at", time_json(problem_at),
					      "text", problem)
				  : json_null();
	json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:I, s:I, s:o}",
				"role", p->role, "name", p->name, "host", p->host,
				"pid", (int)getpid(), "version", ONAIR_VERSION,
				"started_at", time_json(p->started_at),
				"errors", (json_int_t)log_count(LOG_ERROR),
				"warnings", (json_int_t)log_count(LOG_WARN),
				"last_problem", last);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (text)
		(void)mq_respond(req, text, strlen(text));
	free(text);
	json_decref(doc);
}

int presence_start(struct mq *mq, const char *role, const char *name, struct presence **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!mq || !role || !name)
		return -EINVAL;
	struct presence *p = xcalloc(1, sizeof(*p));
	p->role = xstrdup(role);
	p->name = xstrdup(name);
	if (gethostname(p->host, sizeof(p->host) - 1) < 0)
		snprintf(p->host, sizeof(p->host), "localhost");
	p->started_at = time_now_us();
	int r = mq_serve(mq, MQ_SUBJECT_PRESENCE, on_request, p, &p->sub);
	if (r < 0) {
		presence_stop(p);
		return r;
	}
	*out = p;
	return 0;
}

void presence_stop(struct presence *p)
{
	if (!p)
		return;
	mq_sub_close(p->sub);
	free(p->role);
	free(p->name);
	free(p);
}
