/*
 * schedule_cmd.c - "onair schedule"; see schedule_cmd.h.
 */
#include "onair/schedule_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "station/build.h"
#include "station/compile.h"
#include "station/instances.h"

#define HOUR_US (INT64_C(3600) * 1000000)

static const char usage[] =
	"Usage: onair schedule [--from INSTANT|now] [--hours N] [--revision N]\n"
	"                      [--seed N] [--no-build] [--quiet]\n"
	"Compile the schedule of the window starting at --from (default now) and\n"
	"lasting --hours (default 48) into a snapshot, printed as JSON.\n";

struct schedule_args {
	int64_t from;
	int64_t hours;
	uint64_t revision;
	uint64_t seed;
	bool build;
	bool quiet;
};

static int parse_args(int argc, char **argv, struct schedule_args *a)
{
	enum { OPT_FROM = 256, OPT_HOURS, OPT_REVISION, OPT_SEED, OPT_NO_BUILD, OPT_QUIET };
	static const struct option opts[] = {
		{ "from", required_argument, NULL, OPT_FROM },
		{ "hours", required_argument, NULL, OPT_HOURS },
		{ "revision", required_argument, NULL, OPT_REVISION },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "no-build", no_argument, NULL, OPT_NO_BUILD },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*a = (struct schedule_args){ .from = time_now_us(), .hours = 48, .revision = 1,
				     .seed = (uint64_t)time_now_us(), .build = true };
	int c;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FROM:
			if (strcmp(optarg, "now") != 0 && time_parse_rfc3339(optarg, &a->from) < 0) {
				fprintf(stderr, "onair schedule: --from: '%s' is not an RFC 3339"
						" instant\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_HOURS:
			a->hours = strtoll(optarg, &end, 10);
			if (*end || a->hours < 1 || a->hours > 24 * 366) {
				fprintf(stderr, "onair schedule: --hours: 1 to 8784\n");
				return -EINVAL;
			}
			break;
		case OPT_REVISION:
		case OPT_SEED: {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || optarg[0] == '-' || (c == OPT_REVISION && (v == 0 ||
									      v > INT64_MAX))) {
				fprintf(stderr, "onair schedule: %s: not a valid number\n",
					c == OPT_SEED ? "--seed" : "--revision");
				return -EINVAL;
			}
			if (c == OPT_SEED)
				a->seed = v;
			else
				a->revision = v;
			break;
		}
		case OPT_NO_BUILD:
			a->build = false;
			break;
		case OPT_QUIET:
			a->quiet = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "onair schedule: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void print_report(const struct instances_report *ir, const struct build_report *br,
			 const struct compile_report *cr)
{
	fprintf(stderr, "instances: %zu created, %zu updated, %zu deleted (%zu items)\n",
		ir->created, ir->updated, ir->deleted, ir->deleted_items);
	for (size_t i = 0; i < ir->n_problems; i++)
		fprintf(stderr, "  show %" PRId64 ": rule skipped: %s\n", ir->problems[i].show_id,
			ir->problems[i].reason);
	fprintf(stderr, "built: %zu linked, %zu rebroadcast, %zu autoplaylist, %zu kept,"
			" %zu failed\n",
		br->linked, br->rebroadcast, br->autoplaylist, br->kept, br->failed);
	for (size_t i = 0; i < br->failed && i < sizeof(br->problems) / sizeof(br->problems[0]);
	     i++)
		fprintf(stderr, "  %s\n", br->problems[i]);
	fprintf(stderr, "items: %zu (%zu cut at the show's end, %zu cut by an overlap,"
			" %zu left out)%s\n",
		cr->n_items, cr->cut_at_show_end, cr->overlaps_cut, cr->dropped,
		cr->truncated ? ", window shortened to fit" : "");
	for (size_t i = 0; i < cr->n_gaps; i++) {
		char a[TIME_RFC3339_MAX], b[TIME_RFC3339_MAX];
		time_format_rfc3339(cr->gaps[i].start, a, sizeof(a));
		time_format_rfc3339(cr->gaps[i].end, b, sizeof(b));
		if (cr->gaps[i].instance_id)
			fprintf(stderr, "gap %s .. %s: show instance %" PRId64
					" is underbooked (the fallback plays)\n",
				a, b, cr->gaps[i].instance_id);
		else
			fprintf(stderr, "gap %s .. %s: no show (the fallback plays)\n", a, b);
	}
	for (size_t i = 0; i < cr->n_problems; i++) {
		const struct compile_problem *p = &cr->problems[i];
		if (p->item_id)
			fprintf(stderr, "item %" PRId64 ": %s\n", p->item_id, p->text);
		else
			fprintf(stderr, "%s\n", p->text);
	}
}

int schedule_command(const struct config *cfg, int argc, char **argv)
{
	struct schedule_args a;
	int r = parse_args(argc, argv, &a);
	if (r)
		return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	struct db *db;
	char err[512];
	r = db_open(&db, config_get(cfg, "database.url"), err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "onair schedule: database: %s\n", err[0] ? err : onair_strerror(r));
		return EXIT_FAILURE;
	}
	int64_t now = time_now_us();
	int64_t to = a.from + a.hours * HOUR_US;
	struct instances_report ir = { 0 };
	struct build_report br = { 0 };
	struct compile_report cr = { 0 };
	struct proto_snapshot s = { 0 };
	int code = EXIT_FAILURE;
	r = instances_materialise(db, a.from, to, now, NULL, &ir);
	if (r < 0) {
		fprintf(stderr, "onair schedule: making the show instances: %s (%s)\n",
			onair_strerror(r), db_errmsg(db));
		goto out_close;
	}
	if (a.build && (r = build_window(db, a.from, to, now, a.seed, &br)) < 0) {
		fprintf(stderr, "onair schedule: building: %s (%s)\n", onair_strerror(r),
			db_errmsg(db));
		goto out_close;
	}
	struct compile_options o = { .from = a.from, .to = to, .now = now,
				     .revision = a.revision };
	r = compile_snapshot(db, &o, &s, &cr, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "onair schedule: compiling: %s\n", err[0] ? err : onair_strerror(r));
		goto out_close;
	}
	struct buf out;
	buf_init(&out, PROTO_MESSAGE_MAX);
	r = proto_snapshot_encode(&s, &out);
	if (r < 0) {
		fprintf(stderr, "onair schedule: the snapshot is over %u bytes: shorten --hours\n",
			PROTO_MESSAGE_MAX);
	} else {
		fwrite(out.data, 1, out.len, stdout);
		fputc('\n', stdout);
		code = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	buf_release(&out);
	if (!a.quiet)
		print_report(&ir, &br, &cr);
out_close:
	proto_snapshot_release(&s);
	compile_report_release(&cr);
	instances_report_release(&ir);
	db_close(db);
	return code;
}
