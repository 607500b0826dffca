/* SPDX-License-Identifier: MIT */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const project_messages[] = {
    [-(DF_ECONFIG - DF_ERROR_BASE)] = "invalid configuration",
    [-(DF_EUSAGE - DF_ERROR_BASE)] = "invalid usage",
    [-(DF_EPCAP - DF_ERROR_BASE)] = "capture read failed",
    [-(DF_ESTORE - DF_ERROR_BASE)] = "baseline store failed",
    [-(DF_ESTORE_CORRUPT - DF_ERROR_BASE)] = "baseline file is corrupt or not a baseline",
    [-(DF_ESTORE_LOCKED - DF_ERROR_BASE)] = "baseline file is locked by another process",
    [-(DF_ESTORE_READONLY - DF_ERROR_BASE)] = "baseline file is read-only",
    [-(DF_ESTORE_VERSION - DF_ERROR_BASE)] = "baseline schema version is not supported",
    [-(DF_EOUTPUT - DF_ERROR_BASE)] = "writing output failed",
    [-(DF_EPARSE - DF_ERROR_BASE)] = "parse error",
    [-(DF_ENOTFOUND - DF_ERROR_BASE)] = "not found",
};

const char *df_strerror(int code)
{
    if (code == 0) {
        return "success";
    }
    if (code <= DF_ERROR_BASE && code > DF_ERROR_LAST) {
        return project_messages[-(code - DF_ERROR_BASE)];
    }
    if (code < 0 && code > DF_ERROR_BASE) {
        return strerror(-code);
    }
    return "unknown error";
}

int df_error_format(int code, char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return code;
}
