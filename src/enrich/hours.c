/* SPDX-License-Identifier: MIT */
/*
 * hours.c - business hours in the configured zone.
 *
 * A moment is inside business hours when its local weekday is an open day,
 * its local date is no holiday, and its local time of day lies in
 * [start, end). Local time comes from localtime_r() after TZ was set once,
 * so daylight-saving changes follow the system's tzdata.
 */
#include "enrich/hours.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

static const char *const day_names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

/* Write the reason for a rejected value into err and return DF_EPARSE. */
#define fail(err, err_size, ...) df_error_format(DF_EPARSE, (err), (err_size), __VA_ARGS__)

static bool is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int hours_date_parse(const char *text, struct hours_date *out)
{
    static const int month_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d, n = 0;
    if (strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10) {
        return DF_EPARSE;
    }
    if (!isdigit((unsigned char)text[5]) || !isdigit((unsigned char)text[8])) {
        return DF_EPARSE;
    }
    if (y < 1970 || m < 1 || m > 12 || d < 1) {
        return DF_EPARSE;
    }
    int max = month_days[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
    if (d > max) {
        return DF_EPARSE;
    }
    *out = (struct hours_date){ y, m, d };
    return 0;
}

static int day_index(const char *name, size_t len)
{
    for (int i = 0; i < 7; i++) {
        if (len == 3 && strncasecmp(name, day_names[i], 3) == 0) {
            return i;
        }
    }
    return -1;
}

/* Parse "Mon", "Mon-Fri" or "Fri-Mon" items joined by "+" into a weekday mask. */
static int parse_days(const char *text, uint8_t *mask)
{
    *mask = 0;
    const char *p = text;
    while (*p != '\0') {
        size_t len = strcspn(p, "+");
        const char *dash = memchr(p, '-', len);
        int first = day_index(p, dash != NULL ? (size_t)(dash - p) : len);
        int last = dash != NULL ? day_index(dash + 1, len - (size_t)(dash + 1 - p)) : first;
        if (first < 0 || last < 0) {
            return DF_EPARSE;
        }
        for (int d = first;; d = (d + 1) % 7) {
            *mask |= (uint8_t)(1u << d);
            if (d == last) {
                break;
            }
        }
        p += len;
        if (*p == '+') {
            p++;
            if (*p == '\0') {
                return DF_EPARSE;
            }
        }
    }
    return *mask != 0 ? 0 : DF_EPARSE;
}

static int parse_clock(const char *text, uint16_t *minutes)
{
    int h, m, n = 0;
    if (sscanf(text, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5 || text[5] != '\0') {
        return DF_EPARSE;
    }
    if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) {
        return DF_EPARSE;
    }
    *minutes = (uint16_t)(h * 60 + m);
    return 0;
}

/* A zone name is a relative path inside the zoneinfo directory, and the file must exist. */
static bool zone_exists(const char *tz)
{
    if (tz[0] == '/' || strstr(tz, "..") != NULL) {
        return false;
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "/usr/share/zoneinfo", tz);
    return access(path, R_OK) == 0;
}

int hours_spec_parse(const char *text, struct hours_spec *out, char *err, size_t err_size)
{
    char tz[64], days[64], range[32], extra[2];
    int n = sscanf(text, "%63s %63s %31s %1s", tz, days, range, extra);
    if (n != 3) {
        return fail(err, err_size, "expected 'ZONE DAYS HH:MM-HH:MM', such as "
                    "'Europe/Berlin Mon-Fri 08:00-18:00'");
    }
    if (!zone_exists(tz)) {
        return fail(err, err_size, "time zone '%s' not found in the zoneinfo directory "
                    "(install tzdata, or use a name such as Europe/Berlin or UTC)", tz);
    }

    struct hours_spec spec;
    memset(&spec, 0, sizeof(spec));
    snprintf(spec.tz, sizeof(spec.tz), "%s", tz);
    if (parse_days(days, &spec.days) != 0) {
        return fail(err, err_size, "invalid days '%s' (expected Mon-Fri, Sat, or items "
                    "joined by '+' such as Mon-Wed+Fri)", days);
    }

    char *dash = strchr(range, '-');
    if (dash == NULL) {
        return fail(err, err_size, "invalid hours '%s' (expected HH:MM-HH:MM)", range);
    }
    *dash = '\0';
    if (parse_clock(range, &spec.start_min) != 0 || parse_clock(dash + 1, &spec.end_min) != 0 ||
        spec.end_min <= spec.start_min) {
        return fail(err, err_size, "invalid hours '%s-%s' (expected HH:MM-HH:MM with the end "
                    "after the start, at most 24:00)", range, dash + 1);
    }
    *out = spec;
    return 0;
}

int hours_init(struct hours *h, const struct config *cfg, char *err, size_t err_size)
{
    memset(h, 0, sizeof(*h));
    if (cfg->business_hours[0] == '\0') {
        return 0;
    }
    if (hours_spec_parse(cfg->business_hours, &h->spec, err, err_size) != 0) {
        return DF_ECONFIG;
    }
    for (size_t i = 0; i < cfg->holiday_count; i++) {
        if (hours_date_parse(cfg->holidays[i], &h->holidays[h->holiday_count]) != 0) {
            snprintf(err, err_size, "invalid holiday '%s'", cfg->holidays[i]);
            return DF_ECONFIG;
        }
        h->holiday_count++;
    }

    /* One zone per process: set it once here, not per check. */
    if (setenv("TZ", h->spec.tz, 1) != 0) {
        snprintf(err, err_size, "cannot set the time zone '%s'", h->spec.tz);
        return DF_ECONFIG;
    }
    tzset();
    h->enabled = true;
    return 0;
}

static bool is_holiday(const struct hours *h, const struct tm *tm)
{
    for (size_t i = 0; i < h->holiday_count; i++) {
        const struct hours_date *d = &h->holidays[i];
        if (d->year == tm->tm_year + 1900 && d->month == tm->tm_mon + 1 &&
            d->day == tm->tm_mday) {
            return true;
        }
    }
    return false;
}

/* Write "2024-03-31T10:30:00+02:00". */
static void format_local(const struct tm *tm, char *buf, size_t size)
{
    long off = tm->tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    off = labs(off);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm->tm_year + 1900,
             tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, sign,
             off / 3600, off % 3600 / 60);
}

bool hours_check(const struct hours *h, int64_t ts_sec, bool *inside, char *local,
                 size_t local_size)
{
    time_t t = (time_t)ts_sec;
    struct tm tm;
    if (!h->enabled || (int64_t)t != ts_sec || localtime_r(&t, &tm) == NULL) {
        return false;
    }
    unsigned minute = (unsigned)(tm.tm_hour * 60 + tm.tm_min);
    *inside = (h->spec.days >> tm.tm_wday & 1) && !is_holiday(h, &tm) &&
              minute >= h->spec.start_min && minute < h->spec.end_min;
    format_local(&tm, local, local_size);
    return true;
}
