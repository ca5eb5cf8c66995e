/*
 * fuzz_listeners.c - libFuzzer target for the Icecast status reader
 * (messages/listeners.h). The input is a status document; every sample
 * read must have a name starting "icecast:" without control characters
 * and a count that is not negative. ASan/LSan catch the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages/listeners.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct icecast_source s[ICECAST_MOUNTS_MAX];
	int n = icecast_status_parse((const char *)data, size, s, ICECAST_MOUNTS_MAX);
	for (int i = 0; i < n; i++) {
		if (strncmp(s[i].output, "icecast:", 8) != 0 || s[i].listeners < 0)
			abort();
		for (const char *c = s[i].output; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				abort();
	}
	return 0;
}
