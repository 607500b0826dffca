/* SPDX-License-Identifier: MIT */
/*
 * json_writer.h - write JSON text into a fixed buffer.
 *
 * The writer places commas and colons itself, so a caller only opens and
 * closes objects and arrays and writes keys and values. It never allocates.
 * When the buffer is full the first overflow sticks: every later call does
 * nothing, and json_writer_finish() returns 0, so a caller writes a whole
 * document and checks once at the end.
 *
 * Strings are escaped for JSON: '"' and '\' get a backslash, and control
 * characters become \u00XX. A byte that is not part of a valid UTF-8
 * sequence becomes \u00XX of its value, as if it were Latin-1. The output is
 * therefore valid UTF-8 whatever bytes go in.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting depth of objects and arrays, at most. */
#define JSON_WRITER_DEPTH_MAX 16

struct json_writer {
    char *buf;
    size_t size;
    size_t len;    /* bytes written so far, without a terminating NUL */
    bool overflow; /* first failure: buffer full, or nesting too deep */
    unsigned depth;
    bool after_key;                        /* a key was written, its value is next */
    bool has_member[JSON_WRITER_DEPTH_MAX + 1]; /* a comma is due before the next item */
};

/* Start writing into @p buf of @p size bytes. */
void json_writer_init(struct json_writer *w, char *buf, size_t size);

/*
 * Terminate the text with a NUL. Returns its length, or 0 when anything
 * overflowed or an object or array is still open.
 */
size_t json_writer_finish(struct json_writer *w);

void json_writer_object_begin(struct json_writer *w);
void json_writer_object_end(struct json_writer *w);
void json_writer_array_begin(struct json_writer *w);
void json_writer_array_end(struct json_writer *w);

/* Write an object key; the next call writes its value. */
void json_writer_key(struct json_writer *w, const char *key);

void json_writer_string(struct json_writer *w, const char *s);
void json_writer_string_len(struct json_writer *w, const char *s, size_t len);
void json_writer_int(struct json_writer *w, int64_t v);
void json_writer_uint(struct json_writer *w, uint64_t v);
void json_writer_bool(struct json_writer *w, bool v);

/* Key and value in one call, for the common object member. */
void json_writer_member_string(struct json_writer *w, const char *key, const char *s);
void json_writer_member_int(struct json_writer *w, const char *key, int64_t v);
void json_writer_member_uint(struct json_writer *w, const char *key, uint64_t v);
void json_writer_member_bool(struct json_writer *w, const char *key, bool v);

/* Write "key": { and leave the object open. */
void json_writer_member_object_begin(struct json_writer *w, const char *key);
