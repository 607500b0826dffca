/* SPDX-License-Identifier: MIT */
/*
 * frame_build.h - building captured frames byte by byte for the decoder tests.
 *
 * The buffer fits the largest frame a test builds: a DNS message of 64 KiB
 * over TCP or IP fragments. Writers do not check the bound, since the tests
 * build frames of known size.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct frame {
    uint8_t bytes[70000];
    size_t len;
};

static inline void put(struct frame *f, const void *data, size_t len)
{
    memcpy(f->bytes + f->len, data, len);
    f->len += len;
}

static inline void put_u8(struct frame *f, uint8_t value)
{
    f->bytes[f->len++] = value;
}

static inline void put_u16(struct frame *f, uint16_t value)
{
    put_u8(f, (uint8_t)(value >> 8));
    put_u8(f, (uint8_t)value);
}

static inline void put_u32(struct frame *f, uint32_t value)
{
    put_u16(f, (uint16_t)(value >> 16));
    put_u16(f, (uint16_t)value);
}

/* Write a standard query for www.example.com A IN with DNS id @p id. */
static inline void put_query(struct frame *f, uint16_t id)
{
    static const uint8_t rest[] = {
        0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
        3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
        0, 1, 0, 1,
    };
    put_u16(f, id);
    put(f, rest, sizeof(rest));
}

static inline void put_ethernet(struct frame *f, uint16_t ethertype)
{
    static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
    put(f, macs, sizeof(macs));
    put_u16(f, ethertype);
}
