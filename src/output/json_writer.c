/* SPDX-License-Identifier: MIT */
#include "output/json_writer.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void json_writer_init(struct json_writer *w, char *buf, size_t size)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->size = size;
}

size_t json_writer_finish(struct json_writer *w)
{
    /* Keep one byte for the NUL. */
    if (w->overflow || w->depth != 0 || w->len >= w->size) {
        if (w->size > 0) {
            w->buf[0] = '\0';
        }
        return 0;
    }
    w->buf[w->len] = '\0';
    return w->len;
}

static void put_bytes(struct json_writer *w, const char *s, size_t n)
{
    /* The last byte of the buffer stays free for the NUL. */
    if (w->overflow || w->size - w->len <= n) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_char(struct json_writer *w, char c)
{
    put_bytes(w, &c, 1);
}

/* Write the comma that separates this item from the previous one. */
static void begin_item(struct json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->has_member[w->depth]) {
        put_char(w, ',');
    }
    w->has_member[w->depth] = true;
}

static void open_container(struct json_writer *w, char bracket)
{
    begin_item(w);
    assert(w->depth < JSON_WRITER_DEPTH_MAX);
    if (w->depth >= JSON_WRITER_DEPTH_MAX) {
        w->overflow = true;
        return;
    }
    put_char(w, bracket);
    w->depth++;
    w->has_member[w->depth] = false;
}

static void close_container(struct json_writer *w, char bracket)
{
    assert(w->depth > 0);
    if (w->depth == 0) {
        w->overflow = true;
        return;
    }
    put_char(w, bracket);
    w->depth--;
}

void json_writer_object_begin(struct json_writer *w)
{
    open_container(w, '{');
}

void json_writer_object_end(struct json_writer *w)
{
    close_container(w, '}');
}

void json_writer_array_begin(struct json_writer *w)
{
    open_container(w, '[');
}

void json_writer_array_end(struct json_writer *w)
{
    close_container(w, ']');
}

/*
 * Return the length of the valid UTF-8 sequence at @p s (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t utf8_sequence_len(const uint8_t *s, size_t left)
{
    uint8_t b = s[0];
    size_t n;
    uint8_t lo = 0x80;
    uint8_t hi = 0xbf;
    if (b < 0x80) {
        return 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        lo = b == 0xe0 ? 0xa0 : 0x80;
        hi = b == 0xed ? 0x9f : 0xbf;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        lo = b == 0xf0 ? 0x90 : 0x80;
        hi = b == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }

    /* The second byte has the narrowed range, the rest are 0x80..0xbf. */
    if (left < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return n;
}

static void put_escaped_byte(struct json_writer *w, uint8_t b)
{
    char esc[7];
    snprintf(esc, sizeof(esc), "\\u%04x", b);
    put_bytes(w, esc, 6);
}

static void put_escaped(struct json_writer *w, const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len && !w->overflow) {
        uint8_t b = s[i];
        if (b == '"' || b == '\\') {
            char esc[2] = { '\\', (char)b };
            put_bytes(w, esc, 2);
            i++;
            continue;
        }
        if (b < 0x20 || b == 0x7f) {
            put_escaped_byte(w, b);
            i++;
            continue;
        }

        size_t n = utf8_sequence_len(s + i, len - i);
        if (n == 0) {
            put_escaped_byte(w, b);
            i++;
            continue;
        }
        put_bytes(w, (const char *)s + i, n);
        i += n;
    }
}

void json_writer_string_len(struct json_writer *w, const char *s, size_t len)
{
    begin_item(w);
    put_char(w, '"');
    put_escaped(w, (const uint8_t *)s, len);
    put_char(w, '"');
}

void json_writer_string(struct json_writer *w, const char *s)
{
    json_writer_string_len(w, s, strlen(s));
}

void json_writer_key(struct json_writer *w, const char *key)
{
    assert(!w->after_key);
    json_writer_string(w, key);
    put_char(w, ':');
    w->after_key = true;
}

void json_writer_int(struct json_writer *w, int64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%" PRId64, v);
    begin_item(w);
    put_bytes(w, text, (size_t)n);
}

void json_writer_uint(struct json_writer *w, uint64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%" PRIu64, v);
    begin_item(w);
    put_bytes(w, text, (size_t)n);
}

void json_writer_bool(struct json_writer *w, bool v)
{
    begin_item(w);
    if (v) {
        put_bytes(w, "true", 4);
    } else {
        put_bytes(w, "false", 5);
    }
}

void json_writer_member_string(struct json_writer *w, const char *key, const char *s)
{
    json_writer_key(w, key);
    json_writer_string(w, s);
}

void json_writer_member_int(struct json_writer *w, const char *key, int64_t v)
{
    json_writer_key(w, key);
    json_writer_int(w, v);
}

void json_writer_member_uint(struct json_writer *w, const char *key, uint64_t v)
{
    json_writer_key(w, key);
    json_writer_uint(w, v);
}

void json_writer_member_bool(struct json_writer *w, const char *key, bool v)
{
    json_writer_key(w, key);
    json_writer_bool(w, v);
}

void json_writer_member_object_begin(struct json_writer *w, const char *key)
{
    json_writer_key(w, key);
    json_writer_object_begin(w);
}
