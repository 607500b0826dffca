/* SPDX-License-Identifier: MIT */
/*
 * change_json.h - the JSON text of a change log row's fields.
 *
 * The writer thread formats every change it commits, so these write into a
 * buffer with room to spare and return the end, without stdio. Each one
 * writes what json_writer.h writes for the same value.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/addr.h"

/* Write @p v in decimal, with a minus sign when negative. */
char *change_json_integer(char *out, int64_t v);

/*
 * Write the @p len bytes of @p text as a JSON string. @p out has room for
 * 6 * len + 3 bytes.
 */
char *change_json_string(char *out, const char *text, size_t len);

/*
 * Write the text of the client key @p key as a JSON string. @p out has
 * room for 6 * ADDR_TEXT_MAX + 3 bytes.
 */
char *change_json_key(char *out, const struct prefix *key);

/*
 * Write the presentation form of the wire-form name @p name (@p len bytes)
 * as a JSON string. The result equals dns_name_format() into a buffer of
 * STORE_NAME_MAX followed by change_json_string(). @p out has room for
 * 6 * STORE_NAME_MAX bytes.
 */
char *change_json_name(char *out, const uint8_t *name, size_t len);
