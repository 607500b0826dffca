/* SPDX-License-Identifier: MIT */
/*
 * dnstap_frame.c - the Frame Streams frame splitter, written here rather
 * than taken from libfstrm, for two reasons. libfstrm's reader blocks on
 * one file descriptor, so it cannot serve many non-blocking connections
 * from one thread. And its file reader (fstrm 0.6.1) returns a clean end of
 * stream for a file cut inside a frame, where dnsfirst reports the offset
 * of the cut. Control frames are still decoded and encoded by libfstrm.
 *
 * Tests: tests/fuzz/fuzz_dnstap_frames.c feeds streams in random chunk
 * sizes through the connection code; tests/differential/dnstap_files.c
 * compares every data frame with libfstrm's file reader.
 */
#include "input/dnstap_frame.h"

#include <errno.h>
#include <string.h>

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int dnstap_frame_next(const uint8_t *buf, size_t len, size_t max, struct dnstap_frame *frame,
                      size_t *used)
{
    *used = 0;
    if (len < 4) {
        return 0;
    }

    /* A data frame: its length, then its bytes. */
    uint32_t frame_len = read_be32(buf);
    if (frame_len != 0) {
        *used = 4 + (size_t)frame_len;
        if (frame_len > max) {
            return -EMSGSIZE;
        }
        if (len < *used) {
            return 0;
        }
        *frame = (struct dnstap_frame){ DNSTAP_FRAME_DATA, buf + 4, frame_len };
        return 1;
    }

    /* A zero length escapes a control frame with a length of its own. */
    if (len < DNSTAP_CONTROL_HEADER_LEN) {
        return 0;
    }
    uint32_t control_len = read_be32(buf + 4);
    *used = DNSTAP_CONTROL_HEADER_LEN + (size_t)control_len;
    if (control_len > FSTRM_CONTROL_FRAME_LENGTH_MAX) {
        return -EMSGSIZE;
    }
    if (len < *used) {
        return 0;
    }
    *frame = (struct dnstap_frame){ DNSTAP_FRAME_CONTROL, buf + DNSTAP_CONTROL_HEADER_LEN,
                                    control_len };
    return 1;
}

int dnstap_control_decode(const uint8_t *payload, size_t len, struct dnstap_control *out)
{
    memset(out, 0, sizeof(*out));
    struct fstrm_control *c = fstrm_control_init();
    if (c == NULL) {
        return -ENOMEM;
    }

    int ret = -EPROTO;
    size_t types = 0;
    if (fstrm_control_decode(c, payload, len, 0) != fstrm_res_success ||
        fstrm_control_get_type(c, &out->type) != fstrm_res_success ||
        fstrm_control_get_num_field_content_type(c, &types) != fstrm_res_success) {
        goto out;
    }
    out->has_content_type = types > 0;
    out->dnstap_content_type =
        fstrm_control_match_field_content_type(c, (const uint8_t *)DNSTAP_CONTENT_TYPE,
                                               strlen(DNSTAP_CONTENT_TYPE)) ==
        fstrm_res_success;
    ret = 0;

out:
    fstrm_control_destroy(&c);
    return ret;
}

size_t dnstap_control_encode(fstrm_control_type type, bool content_type, uint8_t *buf,
                             size_t size)
{
    struct fstrm_control *c = fstrm_control_init();
    if (c == NULL) {
        return 0;
    }

    size_t len = size;
    bool ok = fstrm_control_set_type(c, type) == fstrm_res_success;
    if (ok && content_type) {
        ok = fstrm_control_add_field_content_type(c, (const uint8_t *)DNSTAP_CONTENT_TYPE,
                                                  strlen(DNSTAP_CONTENT_TYPE)) ==
             fstrm_res_success;
    }
    if (ok) {
        ok = fstrm_control_encode(c, buf, &len, FSTRM_CONTROL_FLAG_WITH_HEADER) ==
             fstrm_res_success;
    }
    fstrm_control_destroy(&c);
    return ok ? len : 0;
}
