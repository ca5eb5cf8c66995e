/*
 * air_probe.h - what Icecast says it is sending, read from outside: a
 * thread reads the server's public status document (/status-json.xsl)
 * every period and notes, for each mount listed with a source, the last
 * instant it was. The dead-air watchdog counts an output that Liquidsoap
 * believes connected but that Icecast no longer lists as not delivering
 * (a server that dropped or refused the source, a stuck encoder).
 */
#ifndef ONAIR_PLAYOUT_AIR_PROBE_H
#define ONAIR_PLAYOUT_AIR_PROBE_H

#include <stdint.h>

struct air_probe;

/* Start reading status_url (http) every period_us (>= 100 ms, 2 s
 * timeout). 0, -EINVAL, -ENOMEM or a pthread error. */
int air_probe_start(const char *status_url, int64_t period_us, struct air_probe **out);

/* Stop the thread (within about a second) and free p; NULL is ignored. */
void air_probe_stop(struct air_probe *p);

/* The monotonic instant (time_mono_us) mount ("/live.mp3") was last
 * listed with a source, 0 if never. Thread-safe. */
int64_t air_probe_mount_seen(struct air_probe *p, const char *mount);

/* The monotonic instant of the last read that worked (0: none yet): a
 * mount unseen in the reads since then is absent, not merely unread (a
 * slow or unreachable Icecast tells nothing). Thread-safe. */
int64_t air_probe_last_read(struct air_probe *p);

#include "common/banned.h"
#endif
