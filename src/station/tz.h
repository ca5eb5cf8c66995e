/*
 * tz.h - time zones from the tz database (TZif files), without libc's TZ.
 *
 * A station schedules its shows in its own time zone. libc's localtime_r
 * and mktime work through the process-global TZ variable, which is not
 * safe to switch between threads or zones, so onair reads the zone's
 * TZif file itself (RFC 9636: versions 1 to 4; the 64-bit data of
 * version 2 and later, and the POSIX TZ string in the footer for instants
 * after the last transition, including the version 3 extension of rule
 * times from -167 to 167 hours).
 *
 *   struct tz *tz;
 *   if (tz_load(&tz, "Europe/Berlin", NULL) < 0) ... unknown zone
 *   int32_t off = tz_offset_at(tz, time_now_us());	   seconds east of UTC
 *   struct tz_local lt = { .year = 2027, .month = 3, .day = 28, .hour = 2, .minute = 30 };
 *   int64_t t;
 *   tz_local_to_utc(tz, &lt, TZ_RESOLVE_EARLIER, &t, NULL);   01:30Z (03:30 CEST)
 *   tz_free(tz);
 *
 * A loaded zone is never changed: any number of threads may use one
 * struct tz at the same time. Leap seconds are ignored, as in all of
 * onair (instants are POSIX time); files with a leap-second table (the
 * "right/" zones) are refused.
 */
#ifndef ONAIR_STATION_TZ_H
#define ONAIR_STATION_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where Debian's tzdata package installs the zones. */
#define TZ_ZONEINFO_DIR "/usr/share/zoneinfo"
/* Largest TZif file accepted (real ones are under 4 KiB). */
#define TZ_FILE_MAX (1u << 20)
/* Longest zone name accepted ("America/Argentina/ComodRivadavia" is 32). */
#define TZ_NAME_MAX 255u
/* Size of a time zone abbreviation with its NUL ("CEST", "+1030"). */
#define TZ_ABBR_SIZE 16u

struct tz;

/*
 * A local (wall clock) date and time in some zone. The first seven
 * fields are the input of tz_local_to_utc; tz_utc_to_local sets them all.
 */
struct tz_local {
	int64_t year;		/* 1 .. 9999 */
	unsigned month;		/* 1 .. 12 */
	unsigned day;		/* 1 .. days in the month */
	unsigned hour;		/* 0 .. 23 */
	unsigned minute;	/* 0 .. 59 */
	unsigned second;	/* 0 .. 59 */
	uint32_t usec;		/* 0 .. 999999 */
	/* Set by tz_utc_to_local, ignored by tz_local_to_utc: */
	unsigned weekday;	/* 0 = Monday .. 6 = Sunday */
	int32_t utc_offset;	/* seconds east of UTC */
	bool is_dst;		/* the zone says daylight saving time */
	char abbr[TZ_ABBR_SIZE];	/* "CEST"; truncated if a file has a longer one */
};

/* Which instant to take when a local time happens twice (the hour that
 * repeats when clocks go back). */
enum tz_resolve {
	TZ_RESOLVE_EARLIER = 0,	/* the first occurrence (still on summer time); the default */
	TZ_RESOLVE_LATER,	/* the second occurrence */
};

/* What tz_local_to_utc found for the local time it was given. */
enum tz_local_kind {
	TZ_LOCAL_UNIQUE = 0,	/* happens exactly once */
	TZ_LOCAL_GAP,		/* never happens (clocks went forward over it) */
	TZ_LOCAL_OVERLAP,	/* happens twice (clocks went back over it) */
};

/*
 * Whether name is acceptable as a zone name: 1 to TZ_NAME_MAX characters
 * of [A-Za-z0-9_+/-], not starting or ending with '/', no empty path
 * component, no "." or ".." (so it cannot leave the zoneinfo directory).
 * Says nothing about whether the zone exists. Thread-safe.
 */
bool tz_name_valid(const char *name);

/*
 * Load the zone name ("Europe/Berlin", "UTC") from the TZif file
 * zoneinfo_dir/name; zoneinfo_dir NULL means TZ_ZONEINFO_DIR. On success
 * *out is a new zone the caller frees with tz_free. Errors (*out
 * untouched): -EINVAL name is not valid (tz_name_valid), -ENOENT no such
 * zone (no file, or a directory such as "Europe"), -ENAMETOOLONG path too
 * long, -EFBIG file larger than TZ_FILE_MAX, -EBADMSG the file is not a
 * valid TZif file (or not a regular file), -ENOTSUP it has leap seconds,
 * or another -errno from open/read. Thread-safe.
 */
int tz_load(struct tz **out, const char *name, const char *zoneinfo_dir);

/*
 * Parse a TZif file held in memory (len bytes at data; at most
 * TZ_FILE_MAX). On success *out is a new zone (tz_free it) whose name is
 * "". Errors as tz_load's for the contents: -EFBIG, -EBADMSG, -ENOTSUP;
 * *out untouched. Thread-safe.
 */
int tz_parse(const void *data, size_t len, struct tz **out);

/* Free a zone; NULL is fine. */
void tz_free(struct tz *tz);

/* The name the zone was loaded by ("" for tz_parse). Owned by tz. */
const char *tz_name(const struct tz *tz);

/* The zone's offset from UTC at instant utc_us, in seconds east of UTC
 * (+3600 for CET, -14400 for EDT). Defined for every int64_t. */
int32_t tz_offset_at(const struct tz *tz, int64_t utc_us);

/*
 * The local date and time at instant utc_us, with its offset, DST flag,
 * abbreviation and weekday, into *out. 0, or -ERANGE if utc_us is outside
 * TIME_MIN_US .. TIME_MAX_US (*out untouched).
 */
int tz_utc_to_local(const struct tz *tz, int64_t utc_us, struct tz_local *out);

/*
 * The instant at which the zone's clocks show the local time lt (its
 * year .. usec fields), into *utc_us. Policy:
 *  - a local time that happens once: that instant;
 *  - one that happens twice (clocks went back over it): the earlier
 *    instant for TZ_RESOLVE_EARLIER, the later for TZ_RESOLVE_LATER;
 *  - one that never happens (clocks went forward over it): it is moved
 *    forward by the length of the gap, that is, read with the offset in
 *    force before the change: 02:30 on the day Europe/Berlin goes from
 *    CET to CEST gives 01:30Z, which the clocks show as 03:30. (Were
 *    the clocks changed again inside the gap, which no real zone does,
 *    the instant of the jump is taken.) The result always shows a later
 *    local time than lt.
 * *kind (if kind is not NULL) says which case it was. Returns 0, -EINVAL
 * if a field of lt is out of range (31 February, hour 24, ...), or
 * -ERANGE if the instant is outside TIME_MIN_US .. TIME_MAX_US; outputs
 * untouched on error.
 */
int tz_local_to_utc(const struct tz *tz, const struct tz_local *lt, enum tz_resolve how,
		    int64_t *utc_us, enum tz_local_kind *kind);

#include "common/banned.h"
#endif
