/* SPDX-License-Identifier: MIT */
#include "input/dnstap_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/dnstap_frame.h"

#define FILE_BUFFER_INITIAL (256 * 1024)

struct dnstap_file {
    FILE *fp;
    const char *path;
    uint8_t *buf;
    size_t cap;
    size_t start;   /* first unread byte in buf */
    size_t len;     /* bytes read into buf */
    uint64_t offset; /* file offset of buf[start] */
    bool eof;
};

/* Read more of the file so that at least @p need bytes follow start, when it has them. */
static int fill(struct dnstap_file *f, size_t need)
{
    if (f->len - f->start >= need || f->eof) {
        return 0;
    }
    memmove(f->buf, f->buf + f->start, f->len - f->start);
    f->len -= f->start;
    f->start = 0;
    if (need > f->cap) {
        uint8_t *grown = realloc(f->buf, need);
        if (grown == NULL) {
            return -ENOMEM;
        }
        f->buf = grown;
        f->cap = need;
    }
    while (f->len < need && !f->eof) {
        size_t n = fread(f->buf + f->len, 1, f->cap - f->len, f->fp);
        f->len += n;
        if (n == 0) {
            if (ferror(f->fp)) {
                return -EIO;
            }
            f->eof = true;
        }
    }
    return 0;
}

/* Find the next whole frame, reading as needed. Returns 1, 0 at end of file, or < 0. */
static int next_frame(struct dnstap_file *f, struct dnstap_frame *frame, char *err,
                      size_t err_size)
{
    size_t need = DNSTAP_CONTROL_HEADER_LEN;
    for (;;) {
        int ret = fill(f, need);
        if (ret != 0) {
            snprintf(err, err_size, "%s: read failed at offset %llu (%s)", f->path,
                     (unsigned long long)f->offset, strerror(-ret));
            return ret;
        }
        size_t avail = f->len - f->start;
        size_t used = 0;
        ret = dnstap_frame_next(f->buf + f->start, avail, DNSTAP_FRAME_MAX, frame, &used);
        if (ret == 1) {
            f->start += used;
            f->offset += used;
            return 1;
        }
        if (ret < 0) {
            snprintf(err, err_size, "%s: frame of %zu bytes at offset %llu is over the "
                     "maximum of %d", f->path, used, (unsigned long long)f->offset,
                     DNSTAP_FRAME_MAX);
            return ret;
        }
        if (f->eof) {
            if (avail == 0) {
                return 0;
            }
            if (used > avail) {
                snprintf(err, err_size, "%s: file truncated inside the frame at offset %llu "
                         "(%zu of %zu bytes present)", f->path,
                         (unsigned long long)f->offset, avail, used);
            } else {
                snprintf(err, err_size, "%s: file truncated inside a frame header at "
                         "offset %llu", f->path, (unsigned long long)f->offset);
            }
            return -EPROTO;
        }
        need = used > avail ? used : avail + 1;
    }
}

int dnstap_file_open(const char *path, struct dnstap_file **out, char *err, size_t err_size)
{
    struct dnstap_file *f = calloc(1, sizeof(*f));
    if (f == NULL || (f->buf = malloc(FILE_BUFFER_INITIAL)) == NULL) {
        free(f);
        snprintf(err, err_size, "%s: out of memory", path);
        return -ENOMEM;
    }
    f->cap = FILE_BUFFER_INITIAL;
    f->path = path;
    f->fp = fopen(path, "rb");
    if (f->fp == NULL) {
        int ret = -errno;
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        dnstap_file_close(f);
        return ret;
    }

    /* The file must open with START and our content type. */
    struct dnstap_frame frame;
    struct dnstap_control ctl;
    int ret = next_frame(f, &frame, err, err_size);
    if (ret < 0) {
        dnstap_file_close(f);
        return ret;
    }
    if (ret == 0 || frame.kind != DNSTAP_FRAME_CONTROL ||
        dnstap_control_decode(frame.payload, frame.len, &ctl) != 0 ||
        ctl.type != FSTRM_CONTROL_START) {
        snprintf(err, err_size, "%s: not a Frame Streams file (no START frame)", path);
        dnstap_file_close(f);
        return -EPROTO;
    }
    if (!ctl.dnstap_content_type) {
        snprintf(err, err_size, "%s: Frame Streams content type is not %s", path,
                 DNSTAP_CONTENT_TYPE);
        dnstap_file_close(f);
        return -EPROTO;
    }
    *out = f;
    return 0;
}

void dnstap_file_close(struct dnstap_file *f)
{
    if (f == NULL) {
        return;
    }
    if (f->fp != NULL) {
        fclose(f->fp);
    }
    free(f->buf);
    free(f);
}

int dnstap_file_next(struct dnstap_file *f, const uint8_t **data, size_t *len, char *err,
                     size_t err_size)
{
    for (;;) {
        struct dnstap_frame frame;
        uint64_t at = f->offset;
        int ret = next_frame(f, &frame, err, err_size);
        if (ret < 0) {
            return ret;
        }
        if (ret == 0) {
            snprintf(err, err_size, "%s: file ends at offset %llu without a STOP frame",
                     f->path, (unsigned long long)at);
            return -EPROTO;
        }
        if (frame.kind == DNSTAP_FRAME_DATA) {
            *data = frame.payload;
            *len = frame.len;
            return 1;
        }

        /* Control frames other than STOP carry nothing for a file reader. */
        struct dnstap_control ctl;
        if (dnstap_control_decode(frame.payload, frame.len, &ctl) != 0) {
            snprintf(err, err_size, "%s: malformed control frame at offset %llu", f->path,
                     (unsigned long long)at);
            return -EPROTO;
        }
        if (ctl.type == FSTRM_CONTROL_STOP) {
            return 0;
        }
    }
}
