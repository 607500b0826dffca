/* SPDX-License-Identifier: MIT */
/*
 * dnstap_file.h - read a Frame Streams file of dnstap messages, as
 * fstrm_capture and DNS servers write them: START (content type
 * "protobuf:dnstap.Dnstap"), data frames, STOP.
 *
 * A file that ends early (no STOP, or cut inside a frame) still yields
 * every complete frame before the cut; the error then names the byte
 * offset where the file stops making sense.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct dnstap_file;

/*
 * Open @p path and read its START frame. Returns 0, or a negative code with
 * "PATH: reason" in @p err.
 */
int dnstap_file_open(const char *path, struct dnstap_file **out, char *err, size_t err_size);
void dnstap_file_close(struct dnstap_file *f);

/*
 * Fetch the next data frame. Returns 1 with *data and *len set (valid until
 * the next call), 0 at the STOP frame, or a negative code with
 * "PATH: reason at offset N" in @p err.
 */
int dnstap_file_next(struct dnstap_file *f, const uint8_t **data, size_t *len, char *err,
                     size_t err_size);
