/*
 * procfile.h - the list of processes onair-supervise keeps running.
 *
 * One process per line, in the order they start:
 *
 *   # comment
 *   NAME [ready=tcp:PORT] -- PROGRAM [ARG...]
 *
 * NAME is 1 to 31 of [a-z0-9_-] and unique. ready=tcp:PORT makes the
 * supervisor wait, after starting the process, until 127.0.0.1:PORT
 * accepts a connection before it starts the next one. Words are split on
 * blanks; a word may be quoted with '...' (taken as it is) or "..."
 * (where \" and \\ stand for " and \). There is no other expansion: the
 * file is written by a program (scripts/run-station.sh) or by hand with
 * the values in it.
 */
#ifndef ONAIR_PROCFILE_H
#define ONAIR_PROCFILE_H

#include <stddef.h>

#define PROCFILE_MAX_ENTRIES 32
#define PROCFILE_MAX_ARGS 64
#define PROCFILE_MAX_LINE 4096
#define PROCFILE_NAME_MAX 32

struct procfile_entry {
	char name[PROCFILE_NAME_MAX];
	int ready_port;		/* 0: none */
	char **argv;		/* NULL-terminated; owned by the procfile */
	int line;		/* where it was written */
};

struct procfile {
	struct procfile_entry entries[PROCFILE_MAX_ENTRIES];
	size_t count;
};

/*
 * Parse len bytes of text (need not be NUL-terminated) into pf, which is
 * overwritten. 0, or -EINVAL with "line N: what is wrong" in err (which
 * may be NULL) for a malformed line, a duplicate name, too many entries,
 * words or characters, or no entry at all. On error pf holds nothing
 * that needs freeing. Free a parsed pf with procfile_free.
 */
int procfile_parse(struct procfile *pf, const char *text, size_t len, char *err, size_t errlen);

/* Free what procfile_parse allocated (a zeroed pf is fine). */
void procfile_free(struct procfile *pf);

#include "common/banned.h"
#endif
