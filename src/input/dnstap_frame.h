/* SPDX-License-Identifier: MIT */
/*
 * dnstap_frame.h - Frame Streams framing, the transport of dnstap.
 *
 * A stream is a sequence of frames. A data frame is a 32-bit big-endian
 * length (not 0) and that many bytes. A control frame is an escape of four
 * zero bytes, a 32-bit big-endian length of at most 512, and a payload that
 * starts with its type: READY, ACCEPT, START, STOP or FINISH, optionally
 * followed by "content type" fields. A file or unidirectional sender writes
 * START, data frames, STOP; a bidirectional sender writes READY and waits
 * for ACCEPT before START, and waits for FINISH after STOP.
 *
 * These functions only split and build bytes: no I/O, no allocation except
 * inside libfstrm's control-frame codec.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fstrm.h>

#define DNSTAP_CONTENT_TYPE "protobuf:dnstap.Dnstap"

/* Largest data frame accepted; dnstap messages carry at most two 64 KiB DNS messages. */
#define DNSTAP_FRAME_MAX (1024 * 1024)

/* Bytes before a control frame's payload: escape and length. */
#define DNSTAP_CONTROL_HEADER_LEN 8

enum dnstap_frame_kind {
    DNSTAP_FRAME_DATA = 1,
    DNSTAP_FRAME_CONTROL = 2,
};

struct dnstap_frame {
    enum dnstap_frame_kind kind;
    const uint8_t *payload; /* data, or the control payload after escape and length */
    size_t len;
};

/*
 * Find the frame at the start of @p buf. Returns 1 with *frame and *used
 * (bytes the frame takes) set; 0 when @p buf holds only part of it, with
 * *used set to the bytes the whole frame needs once its length is known
 * (else 0); -EMSGSIZE when a data frame is over @p max or a control frame
 * is over FSTRM_CONTROL_FRAME_LENGTH_MAX, with *used set to that length.
 */
int dnstap_frame_next(const uint8_t *buf, size_t len, size_t max, struct dnstap_frame *frame,
                      size_t *used);

/* A decoded control frame. */
struct dnstap_control {
    fstrm_control_type type;
    bool has_content_type;    /* at least one content type field */
    bool dnstap_content_type; /* DNSTAP_CONTENT_TYPE is among them, or there are none */
};

/* Decode a control payload. Returns 0 or -EPROTO when libfstrm rejects it. */
int dnstap_control_decode(const uint8_t *payload, size_t len, struct dnstap_control *out);

/*
 * Write a control frame of @p type, with escape and length, into @p buf of
 * @p size bytes (FSTRM_CONTROL_FRAME_LENGTH_MAX + 8 always suffices),
 * carrying DNSTAP_CONTENT_TYPE when @p content_type is set. Returns the
 * length written, or 0 when libfstrm fails.
 */
size_t dnstap_control_encode(fstrm_control_type type, bool content_type, uint8_t *buf,
                             size_t size);
