/* SPDX-License-Identifier: MIT */
/*
 * hours.h - whether a capture time falls inside the configured business
 * hours, in the configured time zone, outside holidays.
 *
 * The process has one configured zone, so hours_init() sets TZ once and
 * calls tzset(); each check is then one localtime_r() against the system
 * zoneinfo (tzdata). Nothing else in dnsfirst uses local time: timestamps
 * are written with gmtime_r().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"

struct hours_date {
    int year;
    int month; /* 1 to 12 */
    int day;   /* 1 to 31 */
};

/* "TZ DAYS HH:MM-HH:MM", such as "Europe/Berlin Mon-Fri 08:00-18:00". */
struct hours_spec {
    char tz[64];        /* zone name under the zoneinfo directory */
    uint8_t days;       /* bit n set: weekday n open, 0 = Sunday as in tm_wday */
    uint16_t start_min; /* minutes after local midnight, inclusive */
    uint16_t end_min;   /* exclusive; greater than start_min, at most 1440 */
};

struct hours {
    bool enabled;
    struct hours_spec spec;
    size_t holiday_count;
    struct hours_date holidays[CONFIG_HOLIDAYS_MAX];
};

/* Parse "YYYY-MM-DD" with a day that exists in that month. Returns 0 or DF_EPARSE. */
int hours_date_parse(const char *text, struct hours_date *out);

/*
 * Parse a business-hours value. DAYS is a day ("Mon"), a range ("Mon-Fri",
 * "Sat-Sun", wrapping as in "Fri-Mon") or such items joined by "+"
 * ("Mon-Wed+Fri"). The zone must exist as a zoneinfo file.
 * Returns 0, or DF_EPARSE with the reason in @p err.
 */
int hours_spec_parse(const char *text, struct hours_spec *out, char *err, size_t err_size);

/*
 * Prepare @p h from cfg->business_hours and cfg->holidays, and switch the
 * process's local time zone to the configured one. With no business-hours
 * value h->enabled stays false. Returns 0, or DF_ECONFIG with the reason.
 */
int hours_init(struct hours *h, const struct config *cfg, char *err, size_t err_size);

/*
 * Decide whether @p ts_sec (seconds since the epoch) is inside business
 * hours, and write the local time as "2024-03-31T10:30:00+02:00" into
 * @p local. Returns false when the time cannot be converted.
 */
bool hours_check(const struct hours *h, int64_t ts_sec, bool *inside, char *local,
                 size_t local_size);
