/* SPDX-License-Identifier: MIT */
/*
 * decimal.h - unsigned numbers as decimal text, without stdio.
 *
 * Client keys and the change log's rows are written on paths that run per
 * client, where snprintf() costs about ten times more than this.
 */
#pragma once

#include <stdint.h>
#include <string.h>

/* "00" to "99": two digits per division instead of one. */
extern const char decimal_pairs[200];

/* Write @p v in decimal at @p out, without a NUL. Returns the end of the digits. */
static inline char *decimal_put(char *out, uint64_t v)
{
    char digits[20];
    size_t n = sizeof(digits);
    while (v >= 100) {
        n -= 2;
        memcpy(&digits[n], &decimal_pairs[v % 100 * 2], 2);
        v /= 100;
    }
    if (v >= 10) {
        n -= 2;
        memcpy(&digits[n], &decimal_pairs[v * 2], 2);
    } else {
        digits[--n] = (char)('0' + v);
    }
    memcpy(out, &digits[n], sizeof(digits) - n);
    return out + (sizeof(digits) - n);
}
