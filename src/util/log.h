/* SPDX-License-Identifier: MIT */
/*
 * log.h - the daemon's log, written to standard error.
 *
 * Only the command layer logs. Library-like modules (decoder, detector,
 * stores) return error codes and leave the message to their caller.
 * Messages are lowercase, "subsystem, what failed (reason)".
 */
#pragma once

#include <stdarg.h>

enum log_level {
    LOG_LEVEL_ERR = 3,
    LOG_LEVEL_WARNING = 4,
    LOG_LEVEL_NOTICE = 5,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7,
};

/* Set the most verbose level that is written (default LOG_LEVEL_NOTICE). */
void log_set_level(enum log_level level);

void log_message(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...) log_message(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warning(...) log_message(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) log_message(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_message(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_message(LOG_LEVEL_DEBUG, __VA_ARGS__)
