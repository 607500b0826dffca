/* SPDX-License-Identifier: MIT */
/*
 * error.h - one error space for the whole project.
 *
 * Functions return 0 on success or a negative code: either a negated errno
 * value (-ENOMEM, -EINVAL) or one of the project codes below, which start at
 * -1000 so that they never collide with errno.
 */
#pragma once

#include <stddef.h>

enum df_error {
    DF_EOK = 0,
    DF_ERROR_BASE = -1000,
    DF_ECONFIG = -1000,       /* invalid configuration value */
    DF_EUSAGE = -1001,        /* invalid command line */
    DF_EPCAP = -1002,         /* libpcap failed to open or read a capture */
    DF_ESTORE = -1003,        /* baseline store failed */
    DF_ESTORE_CORRUPT = -1004, /* baseline file is not a valid database */
    DF_ESTORE_LOCKED = -1005, /* baseline file is locked by another process */
    DF_ESTORE_READONLY = -1006, /* baseline file cannot be written */
    DF_ESTORE_VERSION = -1007, /* baseline schema version is not supported */
    DF_EOUTPUT = -1008,       /* writing alerts failed */
    DF_EPARSE = -1009,        /* input text could not be parsed */
    DF_ENOTFOUND = -1010,     /* requested entry does not exist */
    DF_ERROR_LAST = -1011,
};

/* Return a static description of @p code (0, -errno or a DF_E* code). */
const char *df_strerror(int code);

/*
 * Write a reason into @p err (printf-style) and return @p code, for parsers
 * that report why a value was rejected: "return df_error_format(DF_EPARSE,
 * err, size, "invalid port '%s'", text);".
 */
int df_error_format(int code, char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
