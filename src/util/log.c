/* SPDX-License-Identifier: MIT */
#include "util/log.h"

#include <stdio.h>

static enum log_level max_level = LOG_LEVEL_NOTICE;

static const char *const level_names[] = {
    [LOG_LEVEL_ERR] = "error",     [LOG_LEVEL_WARNING] = "warning",
    [LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
    max_level = level;
}

void log_message(enum log_level level, const char *fmt, ...)
{
    if (level > max_level) {
        return;
    }
    /* One fprintf per line keeps lines whole when threads log at once. */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "dnsfirst: %s: %s\n", level_names[level], line);
}
