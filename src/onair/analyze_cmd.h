/*
 * analyze_cmd.h - "onair analyze [OPTIONS] FILE...": analyse media files
 * as the worker does and print one JSON object per file per line (the
 * fields are described in docs/analysis.md). For operators and tests.
 *
 *   onair analyze [--waveform[=N]] [--silence-threshold=DBFS]
 *                 [--silence-min=SECONDS] [--time-limit=SECONDS]
 *                 [--max-duration=SECONDS] [--no-hash] FILE...
 */
#ifndef ONAIR_ANALYZE_CMD_H
#define ONAIR_ANALYZE_CMD_H

#include "common/config.h"

/* Run the command in argv[0..argc-1] (argv[0] is "analyze"). Every file
 * is analysed, in order, even after a failure; a failed file's reason is
 * in its JSON and on stderr. SIGINT/SIGTERM stop after the current file.
 * Returns the exit code: 0 when every file is ok, 1 when any failed, 2
 * for a usage error. */
int analyze_command(const struct config *cfg, int argc, char **argv);

#include "common/banned.h"
#endif
