#include "common/timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

int64_t time_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t time_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Howard Hinnant's days_from_civil algorithm (public domain description). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t time_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t time_floor_mod(int64_t a, int64_t b)
{
	return a - time_floor_div(a, b) * b;
}

bool time_is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned time_days_in_month(int64_t y, unsigned m)
{
	static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && time_is_leap_year(y) ? 29 : len[m - 1];
}

unsigned time_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday. */
	return (unsigned)time_floor_mod(days + 3, 7);
}

int time_format_rfc3339(int64_t t, char *out, size_t size)
{
	if (t < TIME_MIN_US || t > TIME_MAX_US)
		return -ERANGE;
	if (size < TIME_RFC3339_MAX)
		return -ENOSPC;
	int64_t secs = time_floor_div(t, USEC_PER_SEC);
	int64_t usec = t - secs * USEC_PER_SEC;
	int64_t days = time_floor_div(secs, 86400);
	int64_t sod = secs - days * 86400;
	int64_t y;
	unsigned mo, d;
	time_civil_from_days(days, &y, &mo, &d);
	int n = snprintf(out, size, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, mo, d,
			 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
	if (usec % 1000 == 0 && usec != 0)
		n += snprintf(out + n, size - (size_t)n, ".%03d", (int)(usec / 1000));
	else if (usec != 0)
		n += snprintf(out + n, size - (size_t)n, ".%06d", (int)usec);
	out[n++] = 'Z';
	out[n] = '\0';
	return n;
}

static bool parse_digits(const char **p, int count, int *out)
{
	int v = 0;
	for (int i = 0; i < count; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += count;
	*out = v;
	return true;
}

int time_parse_rfc3339(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec;
	if (!parse_digits(&p, 4, &y) || *p++ != '-' || !parse_digits(&p, 2, &mo) ||
	    *p++ != '-' || !parse_digits(&p, 2, &d))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (!parse_digits(&p, 2, &h) || *p++ != ':' || !parse_digits(&p, 2, &mi) ||
	    *p++ != ':' || !parse_digits(&p, 2, &sec))
		return -EINVAL;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > (int)time_days_in_month(y, (unsigned)mo) || h > 23 ||
	    mi > 59 || sec > 59)
		return -EINVAL;
	int64_t usec = 0;
	if (*p == '.') {
		p++;
		int digits = 0;
		int64_t scale = 100000;
		while (*p >= '0' && *p <= '9') {
			if (++digits > 9)
				return -EINVAL;
			if (scale > 0) {
				usec += (*p - '0') * scale;
				scale /= 10;
			}
			p++;
		}
		if (digits == 0)
			return -EINVAL;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int oh, om;
		if (!parse_digits(&p, 2, &oh) || *p++ != ':' || !parse_digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -EINVAL;
		offset_min = sign * (oh * 60 + om);
	} else {
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	int64_t days = time_days_from_civil(y, (unsigned)mo, (unsigned)d);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)offset_min * 60;
	int64_t t = secs * USEC_PER_SEC + usec;
	if (t < TIME_MIN_US || t > TIME_MAX_US)
		return -ERANGE;
	*out = t;
	return 0;
}
