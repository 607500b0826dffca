/* SPDX-License-Identifier: MIT */
/*
 * cursor.h - bounded reads from a byte buffer.
 *
 * Every read checks the remaining length. The first failure sticks in
 * cursor.err and every later read returns 0 without moving, so a parser can
 * read a whole fixed-size structure and check once at the end.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct cursor {
    const uint8_t *start; /* first byte of the buffer, for offsets */
    const uint8_t *pos;
    const uint8_t *end;
    int err; /* first error, 0 while every read succeeded */
};

static inline struct cursor cursor_init(const uint8_t *data, size_t len)
{
    struct cursor c = { data, data, data + len, 0 };
    return c;
}

static inline size_t cursor_left(const struct cursor *c)
{
    return (size_t)(c->end - c->pos);
}

static inline size_t cursor_offset(const struct cursor *c)
{
    return (size_t)(c->pos - c->start);
}

/* Mark the cursor failed with @p err unless it failed before. */
static inline void cursor_fail(struct cursor *c, int err)
{
    if (c->err == 0) {
        c->err = err;
    }
}

static inline int cursor_need(struct cursor *c, size_t n, int err)
{
    if (c->err == 0 && cursor_left(c) < n) {
        c->err = err;
    }
    return c->err;
}

static inline uint8_t cursor_u8(struct cursor *c, int err)
{
    if (cursor_need(c, 1, err) != 0) {
        return 0;
    }
    return *c->pos++;
}

static inline uint16_t cursor_u16(struct cursor *c, int err)
{
    if (cursor_need(c, 2, err) != 0) {
        return 0;
    }
    uint16_t v = (uint16_t)(c->pos[0] << 8 | c->pos[1]);
    c->pos += 2;
    return v;
}

static inline uint32_t cursor_u32(struct cursor *c, int err)
{
    if (cursor_need(c, 4, err) != 0) {
        return 0;
    }
    uint32_t v = (uint32_t)c->pos[0] << 24 | (uint32_t)c->pos[1] << 16 |
                 (uint32_t)c->pos[2] << 8 | (uint32_t)c->pos[3];
    c->pos += 4;
    return v;
}

/* Return a pointer to the next @p n bytes and move past them, or NULL. */
static inline const uint8_t *cursor_bytes(struct cursor *c, size_t n, int err)
{
    if (cursor_need(c, n, err) != 0) {
        return NULL;
    }
    const uint8_t *p = c->pos;
    c->pos += n;
    return p;
}

static inline void cursor_skip(struct cursor *c, size_t n, int err)
{
    (void)cursor_bytes(c, n, err);
}
