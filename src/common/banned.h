/*
 * banned.h - functions that must not be used in onair.
 *
 * Included last by common headers so that any use of these becomes a
 * compile error. Each has a bounded or thread-safe replacement:
 *   strcpy/strcat/sprintf/vsprintf -> snprintf, buf_append*, strlcpy-style helpers
 *   strtok                         -> strtok_r or manual scanning
 *   gmtime/localtime/ctime/asctime -> time_format_rfc3339, gmtime_r, localtime_r
 */
#ifndef ONAIR_BANNED_H
#define ONAIR_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef asctime
#define asctime(t) BANNED(asctime)

#endif
