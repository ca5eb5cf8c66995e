/*
 * fuzz_procfile.c - the supervisor's process list parser on arbitrary
 * bytes: it must either fail with a message or give entries whose every
 * string is a NUL-terminated word, never read or write out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supervise/procfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procfile pf;
	char err[128];
	if (procfile_parse(&pf, (const char *)data, size, err, sizeof(err)) < 0) {
		if (strlen(err) == 0)
			__builtin_trap();
		return 0;
	}
	for (size_t i = 0; i < pf.count; i++) {
		const struct procfile_entry *e = &pf.entries[i];
		if (!e->argv || !e->argv[0] || strlen(e->name) == 0)
			__builtin_trap();
		for (char **a = e->argv; *a; a++)
			(void)strlen(*a);
	}
	procfile_free(&pf);
	return 0;
}
