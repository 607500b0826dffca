/* SPDX-License-Identifier: MIT */
/*
 * timefmt.h - capture time as RFC 3339 text.
 *
 * Alerts and decoded messages carry the capture time of their packet, never
 * the wall clock, so a replayed capture prints the same timestamps each time.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Length of "2024-05-01T12:34:56.789012Z" plus the terminating NUL. */
#define TIMEFMT_RFC3339_MAX 28

/*
 * Write @p sec and @p nsec (since the Unix epoch) as RFC 3339 UTC text with
 * microseconds, "2024-05-01T12:34:56.789012Z". Nanoseconds are truncated to
 * microseconds. Returns the text length, or 0 when @p size is too small,
 * @p nsec is 1000000000 or more, or the year falls outside 0000..9999.
 */
size_t timefmt_rfc3339(int64_t sec, uint32_t nsec, char *buf, size_t size);
