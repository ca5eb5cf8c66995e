/* The metrics registry: the exposition text, label escaping, histograms,
 * bounds on series, the collect callback, the HTTP endpoint. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "metrics/metrics.h"
#include "metrics/metrics_http.h"

static char *render(struct metrics *m)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	assert_int_equal(metrics_render(m, &out), 0);
	size_t len = 0;
	char *text = buf_detach(&out, &len);
	return text ? text : calloc(1, 1);
}

static void test_standard_families(void **state)
{
	(void)state;
	struct metrics *m = metrics_new("worker");
	char *t = render(m);
	assert_non_null(strstr(t, "# TYPE onair_build_info gauge\n"));
	assert_non_null(strstr(t, "onair_build_info{role=\"worker\",version=\"" ONAIR_VERSION
				  "\"} 1\n"));
	assert_non_null(strstr(t, "onair_up{role=\"worker\"} 1\n"));
	assert_non_null(strstr(t, "onair_process_start_time_seconds{role=\"worker\"} "));
	free(t);
	metrics_free(m);
}

static void test_counter_and_gauge(void **state)
{
	(void)state;
	struct metrics *m = metrics_new("t");
	struct metric *c = metrics_counter(m, "t_requests_total", "requests\nanswered", "route,status");
	assert_ptr_equal(metrics_counter(m, "t_requests_total", "again", "route,status"), c);
	const char *a[] = { "/a\"b\\c", "200" };
	metric_add(c, 1, a);
	metric_add(c, 2, a);
	metric_add(c, -5, a);	/* a counter never goes down */
	const char *b[] = { "/x", "404" };
	metric_add(c, 1, b);
	struct metric *g = metrics_gauge(m, "t_level", "level", NULL);
	metric_set(g, 2.5, NULL);
	metric_add(g, -1, NULL);
	char *t = render(m);
	assert_non_null(strstr(t, "# HELP t_requests_total requests\\nanswered\n"
				  "# TYPE t_requests_total counter\n"
				  "t_requests_total{route=\"/a\\\"b\\\\c\",status=\"200\"} 3\n"
				  "t_requests_total{route=\"/x\",status=\"404\"} 1\n"));
	assert_non_null(strstr(t, "# TYPE t_level gauge\nt_level 1.5\n"));
	free(t);
	metric_clear(g);
	t = render(m);
	assert_null(strstr(t, "t_level 1.5"));
	free(t);
	metrics_free(m);
}

static void test_histogram(void **state)
{
	(void)state;
	struct metrics *m = metrics_new("t");
	static const double bounds[] = { 0.1, 1, 10 };
	struct metric *h = metrics_histogram(m, "t_seconds", "time", "kind", bounds, 3);
	const char *k[] = { "x" };
	metric_observe(h, 0.05, k);
	metric_observe(h, 0.1, k);	/* le is inclusive */
	metric_observe(h, 5, k);
	metric_observe(h, 50, k);
	char *t = render(m);
	assert_non_null(strstr(t, "# TYPE t_seconds histogram\n"
				  "t_seconds_bucket{kind=\"x\",le=\"0.10000000000000001\"} 2\n"
				  "t_seconds_bucket{kind=\"x\",le=\"1\"} 2\n"
				  "t_seconds_bucket{kind=\"x\",le=\"10\"} 3\n"
				  "t_seconds_bucket{kind=\"x\",le=\"+Inf\"} 4\n"
				  "t_seconds_sum{kind=\"x\"} 55.149999999999999\n"
				  "t_seconds_count{kind=\"x\"} 4\n"));
	free(t);
	static const double bad[] = { 1, 1 };
	assert_null(metrics_histogram(m, "t_bad", "", NULL, bad, 2));
	metrics_free(m);
}

static void test_invalid_names(void **state)
{
	(void)state;
	struct metrics *m = metrics_new("t");
	assert_null(metrics_counter(m, "9lives", "", NULL));
	assert_null(metrics_counter(m, "a-b", "", NULL));
	assert_null(metrics_counter(m, "ok", "", "a,b,c,d"));
	assert_null(metrics_counter(m, "ok2", "", "le:x"));
	metric_add(NULL, 1, NULL);	/* ignored */
	metrics_free(m);
}

static void test_series_are_bounded(void **state)
{
	(void)state;
	struct metrics *m = metrics_new("t");
	struct metric *c = metrics_counter(m, "t_by_id_total", "", "id");
	for (int i = 0; i < METRIC_SERIES_MAX + 10; i++) {
		char id[16];
		snprintf(id, sizeof(id), "%d", i);
		const char *v = id;
		metric_add(c, 1, &v);
	}
	char *t = render(m);
	assert_non_null(strstr(t, "onair_metrics_series_dropped_total 10\n"));
	assert_null(strstr(t, "t_by_id_total{id=\"512\"}"));
	free(t);
	metrics_free(m);
}

static int collected;

static void collect(struct metrics *m, void *ud)
{
	(void)m;
	collected++;
	metric_set(ud, collected, NULL);
}

static size_t sink(char *data, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	return buf_append(b, data, size * n) == 0 ? size * n : 0;
}

static long get(const char *url, struct buf *body, char *type, size_t typelen)
{
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	long status = 0;
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(type, typelen, "%s", ct ? ct : "");
	curl_easy_cleanup(c);
	return status;
}

static void test_http_endpoint(void **state)
{
	(void)state;
	struct metrics *m = metrics_new("t");
	struct metric *g = metrics_gauge(m, "t_scrapes", "scrapes seen", NULL);
	metrics_on_collect(m, collect, g);
	struct metrics_http *h = NULL;
	uint16_t port = 0;
	assert_int_equal(metrics_http_start(m, "127.0.0.1", 0, &h, &port), 0);
	assert_true(port > 0);
	char url[64], type[128];
	struct buf body;
	buf_init(&body, 1 << 20);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", port);
	assert_int_equal(get(url, &body, type, sizeof(type)), 200);
	assert_string_equal(type, METRICS_CONTENT_TYPE);
	assert_non_null(strstr(body.data, "t_scrapes 1\n"));
	buf_reset(&body);
	assert_int_equal(get(url, &body, type, sizeof(type)), 200);
	assert_non_null(strstr(body.data, "t_scrapes 2\n"));
	buf_reset(&body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/other", port);
	assert_int_equal(get(url, &body, type, sizeof(type)), 404);
	buf_release(&body);
	struct metrics_http *bad = NULL;
	assert_int_equal(metrics_http_start(m, "not an address", 0, &bad, NULL), -EINVAL);
	assert_null(bad);
	metrics_http_stop(h);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard_families),
		cmocka_unit_test(test_counter_and_gauge),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_series_are_bounded),
		cmocka_unit_test(test_http_endpoint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
