/* SPDX-License-Identifier: MIT */
/*
 * sink.h - the alert sink: JSON lines appended to a file or standard output.
 *
 * Each line goes out with one fwrite() and a flush, so a reader tailing the
 * file gets whole lines. A mutex lets one thread write while another
 * reopens the file after log rotation. After a failed call errno still
 * holds the reason for the caller's log message.
 */
#pragma once

#include <stddef.h>

struct sink;

/*
 * Open @p path for appending, creating it with mode 0644 less the umask;
 * "-" or "" is standard output. Returns 0 and the sink in *out, or
 * DF_EOUTPUT (with errno set) or -ENOMEM.
 */
int sink_open(const char *path, struct sink **out);

/*
 * Append @p json (@p len bytes, no newline) and a newline, then flush.
 * Returns 0 or DF_EOUTPUT.
 */
int sink_write_line(struct sink *s, const char *json, size_t len);

/* Flush and fsync() the file. Standard output that cannot sync counts as success. */
int sink_sync(struct sink *s);

/*
 * Close and open the path again, after log rotation moved the old file.
 * On failure the old file stays open and DF_EOUTPUT is returned. Does
 * nothing for standard output.
 */
int sink_reopen(struct sink *s);

/* Flush and close; standard output is flushed but stays open. NULL is allowed. */
void sink_close(struct sink *s);

/* Path the sink writes to, "-" for standard output. */
const char *sink_path(const struct sink *s);
