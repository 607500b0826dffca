/* SPDX-License-Identifier: MIT */
/*
 * baseline_io.h - the baseline's export and import format.
 *
 * One JSON object per line, one line per client, times in seconds since the
 * Unix epoch:
 *
 *   {"scope":"192.0.2.53","client":"203.0.113.0/24","first_seen":1700000000,
 *    "last_seen":1700000100,"query_count":3,"flags":0,
 *    "first_query":"example.com. A"}
 *
 * Import reads the same lines back. It ignores keys it does not know, skips
 * empty lines, and applies either every line of a file or none of them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

#define BASELINE_IO_REASON_MAX 256

/*
 * Format @p row as one JSON object and a newline into @p buf. Returns 0, or
 * -ENOSPC when @p size is too small, or -ENOMEM.
 */
int baseline_io_row_format(const struct store_client *row, char *buf,
                           size_t size);

/*
 * Parse one line (without its newline) into @p row. Returns 0, or DF_EPARSE
 * with the reason in @p reason.
 */
int baseline_io_row_parse(const char *line, size_t len, struct store_client *row,
                          char *reason, size_t reason_size);

/* Write every row of @p st to @p out in (scope, client) order. Sets *rows. */
int baseline_io_export(struct store *st, FILE *out, uint64_t *rows);

/*
 * Merge every line of @p in into @p st in one transaction. @p name is the
 * file name used in messages. On a bad line writes "NAME:LINE: reason" into
 * @p err, applies nothing and returns DF_EPARSE; on a store failure returns
 * the store's code. Sets *rows to the number of rows merged.
 */
int baseline_io_import(struct store *st, FILE *in, const char *name,
                       uint64_t *rows, char *err, size_t err_size);
