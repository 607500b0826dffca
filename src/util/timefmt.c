/* SPDX-License-Identifier: MIT */
#include "util/timefmt.h"

#include <stdio.h>
#include <time.h>

size_t timefmt_rfc3339(int64_t sec, uint32_t nsec, char *buf, size_t size)
{
    if (size > 0) {
        buf[0] = '\0';
    }
    if (nsec >= 1000000000u || size < TIMEFMT_RFC3339_MAX) {
        return 0;
    }

    /* The round trip rejects seconds that a narrower time_t cannot hold. */
    time_t t = (time_t)sec;
    struct tm tm;
    if ((int64_t)t != sec || gmtime_r(&t, &tm) == NULL) {
        return 0;
    }

    /* RFC 3339 years have exactly four digits. */
    long year = (long)tm.tm_year + 1900;
    if (year < 0 || year > 9999) {
        return 0;
    }

    int n = snprintf(buf, size, "%04ld-%02d-%02dT%02d:%02d:%02d.%06luZ", year, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (unsigned long)(nsec / 1000u));
    if (n < 0 || (size_t)n >= size) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}
