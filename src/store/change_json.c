/* SPDX-License-Identifier: MIT */
#include "store/change_json.h"

#include <stdbool.h>
#include <string.h>

#include "decode/dns_message.h"
#include "decode/dns_text.h"
#include "output/json_writer.h"
#include "util/client_key.h"
#include "util/decimal.h"

char *change_json_integer(char *out, int64_t v)
{
    if (v < 0) {
        *out++ = '-';
        return decimal_put(out, (uint64_t)0 - (uint64_t)v);
    }
    return decimal_put(out, (uint64_t)v);
}

#define BYTES_01 0x0101010101010101ULL
#define BYTES_80 0x8080808080808080ULL

/*
 * True when none of the 8 bytes in @p v needs escaping in a JSON string
 * as change_json_string() writes it: no control byte (below 0x20), none of
 * 0x7f and above, no '"' and no '\'. Each test is exact per word: a byte
 * below n exists exactly when (v - n * BYTES_01) & ~v & BYTES_80 is not
 * zero, for n up to 0x80.
 */
static bool word_plain(uint64_t v)
{
    uint64_t quote = v ^ (0x22 * BYTES_01);
    uint64_t backslash = v ^ (0x5c * BYTES_01);
    uint64_t control = (v - 0x20 * BYTES_01) & ~v;
    uint64_t high = v | ((v & ~BYTES_80) + BYTES_01); /* 0x7f becomes 0x80 */
    uint64_t has_quote = (quote - BYTES_01) & ~quote;
    uint64_t has_backslash = (backslash - BYTES_01) & ~backslash;
    return ((control | high | has_quote | has_backslash) & BYTES_80) == 0;
}

static bool byte_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* True when @p len bytes of @p text go into a JSON string as they are. */
static bool text_plain(const char *text, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, text + i, 8);
        if (!word_plain(v)) {
            return false;
        }
    }
    for (; i < len; i++) {
        if (!byte_plain((unsigned char)text[i])) {
            return false;
        }
    }
    return true;
}

/*
 * Keys and names are printable ASCII almost always, so those are copied as
 * they are. Any other text goes through the JSON writer, which escapes
 * every byte that needs it.
 */
char *change_json_string(char *out, const char *text, size_t len)
{
    if (text_plain(text, len)) {
        *out++ = '"';
        memcpy(out, text, len);
        out += len;
        *out++ = '"';
        return out;
    }
    struct json_writer w;
    json_writer_init(&w, out, 6 * len + 3);
    json_writer_string_len(&w, text, len);
    return out + json_writer_finish(&w);
}

/* An address key's text has only hex digits, '.', ':' and '/': nothing to escape. */
char *change_json_key(char *out, const struct prefix *key)
{
    if (key->addr.family != ADDR_FAMILY_IPV4 && key->addr.family != ADDR_FAMILY_IPV6) {
        char text[ADDR_TEXT_MAX];
        size_t len = client_key_format(key, text, sizeof(text));
        return change_json_string(out, text, len);
    }
    *out++ = '"';
    out += client_key_format(key, out, ADDR_TEXT_MAX);
    *out++ = '"';
    return out;
}

/*
 * Label bytes that both the presentation form and JSON keep as they are:
 * printable ASCII except '.' and '\' (escaped in names) and '"' (in JSON).
 * A table, because the writer tests every byte of every first query name.
 */
#define PLAIN(c) ((c) > 0x20 && (c) < 0x7f && (c) != '.' && (c) != '\\' && (c) != '"')
#define PLAIN4(c) PLAIN(c), PLAIN((c) + 1), PLAIN((c) + 2), PLAIN((c) + 3)
#define PLAIN16(c) PLAIN4(c), PLAIN4((c) + 4), PLAIN4((c) + 8), PLAIN4((c) + 12)
#define PLAIN64(c) PLAIN16(c), PLAIN16((c) + 16), PLAIN16((c) + 32), PLAIN16((c) + 48)
static const bool name_byte_plain[256] = { PLAIN64(0), PLAIN64(64), PLAIN64(128),
                                           PLAIN64(192) };

/*
 * Copy the labels of a name whose bytes are all plain, with dots between.
 * Returns the end, or NULL when a label needs escaping or the name is not
 * a plain sequence of labels ending in the root label, which the caller
 * then formats the slow way.
 */
static char *name_copy_plain(char *out, const uint8_t *name, size_t len)
{
    size_t pos = 0;
    unsigned labels = 0;
    while (pos < len) {
        uint8_t label_len = name[pos++];
        if (label_len == 0) {
            if (labels == 0) {
                *out++ = '.';
            }
            return out;
        }
        if (label_len > DNS_LABEL_MAX || label_len > len - pos) {
            return NULL;
        }
        for (size_t i = 0; i < label_len; i++) {
            if (!name_byte_plain[name[pos + i]]) {
                return NULL;
            }
        }
        if (labels++ > 0) {
            *out++ = '.';
        }
        memcpy(out, name + pos, label_len);
        out += label_len;
        pos += label_len;
    }
    return NULL;
}

char *change_json_name(char *out, const uint8_t *name, size_t len)
{
    char *end = name_copy_plain(out + 1, name, len);
    if (end != NULL) {
        *out = '"';
        *end++ = '"';
        return end;
    }
    char text[STORE_NAME_MAX];
    size_t text_len = dns_name_format(name, len, text, sizeof(text));
    return change_json_string(out, text, text_len);
}
