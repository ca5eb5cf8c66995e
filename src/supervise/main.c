/*
 * onair-supervise - keep the processes of a station running (see
 * supervisor.h for what it does, procfile.h for the file it reads).
 * `make run` starts a station through it.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cli.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "supervise/procfile.h"
#include "supervise/supervisor.h"

#define MAX_PROCFILE_BYTES (256 * 1024)

static const char usage[] =
	"Usage: onair-supervise [OPTIONS] PROCFILE\n"
	"\n"
	"Start the processes listed in PROCFILE in order, restart any that dies\n"
	"(after 0.5 s, doubling up to 30 s; back to 0.5 s after a minute of\n"
	"health), and stop them all on Ctrl-C, SIGTERM or SIGHUP. A process that\n"
	"exits 0, or 2 (a configuration error), is not restarted.\n"
	"\n"
	"PROCFILE, one process a line:  NAME [ready=tcp:PORT] -- COMMAND [ARG...]\n"
	"\n"
	"Options:\n"
	"  -d, --log-dir DIR      append each process's output to DIR/NAME.log\n"
	"  -g, --grace SECONDS    SIGKILL what has not stopped this long after\n"
	"                         SIGTERM (default 8)\n"
	"  -b, --backoff MIN,MAX  first and longest restart delay in seconds\n"
	"                         (default 0.5,30)\n"
	"      --healthy SECONDS  a run this long resets the delay (default 60)\n"
	"  -l, --log-level LEVEL  error, warn, info or debug\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n";

static int parse_seconds(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400)
		return -EINVAL;
	*out = (int64_t)(v * USEC_PER_SEC);
	return 0;
}

static int parse_backoff(const char *s, struct sv_options *o)
{
	char min[32];
	const char *comma = strchr(s, ',');
	if (!comma || (size_t)(comma - s) >= sizeof(min))
		return -EINVAL;
	memcpy(min, s, (size_t)(comma - s));
	min[comma - s] = '\0';
	if (parse_seconds(min, &o->backoff_min_us) < 0 ||
	    parse_seconds(comma + 1, &o->backoff_max_us) < 0 ||
	    o->backoff_max_us < o->backoff_min_us)
		return -EINVAL;
	return 0;
}

/* Leave the stop signals at their default action, whatever we inherited
 * (a shell starts background jobs with SIGINT ignored). */
static void default_stop_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log-dir", required_argument, NULL, 'd' },
		{ "grace", required_argument, NULL, 'g' },
		{ "backoff", required_argument, NULL, 'b' },
		{ "healthy", required_argument, NULL, 'H' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct sv_options o = { 0 };
	enum log_level level;
	int c;
	while ((c = getopt_long(argc, argv, "d:g:b:l:hV", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'd': o.log_dir = optarg; break;
		case 'g': bad = parse_seconds(optarg, &o.grace_us); break;
		case 'b': bad = parse_backoff(optarg, &o); break;
		case 'H': bad = parse_seconds(optarg, &o.healthy_us); break;
		case 'l':
			bad = log_level_parse(optarg, &level);
			if (!bad)
				log_set_level(level);
			break;
		case 'h': fputs(usage, stdout); return EXIT_SUCCESS;
		case 'V': printf("onair-supervise %s\n", ONAIR_VERSION); return EXIT_SUCCESS;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
		if (bad) {
			fprintf(stderr, "onair-supervise: bad value '%s' for -%c\n", optarg, c);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	struct buf text;
	buf_init(&text, MAX_PROCFILE_BYTES);
	int r = fs_read_file(path, &text);
	if (r < 0) {
		fprintf(stderr, "onair-supervise: cannot read %s: %s\n", path,
			r == -EFBIG ? "larger than 256 KiB" : strerror(-r));
		buf_release(&text);
		return EXIT_USAGE;
	}
	struct procfile pf;
	char err[256];
	r = procfile_parse(&pf, text.data, text.len, err, sizeof(err));
	buf_release(&text);
	if (r < 0) {
		fprintf(stderr, "onair-supervise: %s: %s\n", path, err);
		return EXIT_USAGE;
	}
	default_stop_signals();
	r = supervisor_run(&pf, &o);
	procfile_free(&pf);
	return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
