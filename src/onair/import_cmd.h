/*
 * import_cmd.h - "onair import": bring a directory tree of audio files
 * into the library (stored, added, analysed in this process), and
 * "onair enqueue-analysis": queue the analysis of library files for the
 * worker.
 *
 *   onair import [--track-type CODE] [--jobs N] [--dry-run] DIR...
 *   onair enqueue-analysis FILE_ID...
 *
 * See docs/worker.md.
 */
#ifndef ONAIR_IMPORT_CMD_H
#define ONAIR_IMPORT_CMD_H

#include "common/config.h"

/*
 * Run "onair import" with argv[0..argc-1] (argv[0] is "import") and the
 * settings database.url and storage.path. Every DIR is walked
 * recursively for audio files by extension (mp3 ogg oga opus flac wav m4a
 * aac mp2, any case), skipping hidden names and symbolic links that lead
 * out of DIR; each file is hashed and skipped when the library has its
 * bytes (a duplicate), else stored, added as a files row (source_path =
 * its absolute path) and analysed, --jobs at once (default: the number of
 * cores), each job with its own database connection. Progress goes to
 * stderr (one line rewritten on a terminal, a line every 10 s
 * otherwise), the summary to stdout. SIGINT/SIGTERM stop it: the files in
 * hand are left pending and finished by the next run (resumable by
 * hash). Returns the exit code: 0 when every file was imported or a
 * duplicate, 1 when any failed or the run was interrupted, 2 for a usage
 * error (bad option, unknown track type, a DIR that is not a directory).
 */
int import_command(const struct config *cfg, int argc, char **argv);

/*
 * Run "onair enqueue-analysis FILE_ID..." (argv[0] is "enqueue-analysis")
 * with database.url and nats.url: queue an analyze_file task for each
 * file (library_enqueue_analysis) and print its task id, one per line.
 * Returns 0 when all were queued, 1 when any was not (no such file, queue
 * unreachable), 2 for a usage error.
 */
int enqueue_analysis_command(const struct config *cfg, int argc, char **argv);

#include "common/banned.h"
#endif
