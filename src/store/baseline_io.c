/* SPDX-License-Identifier: MIT */
/*
 * baseline_io.c - JSON lines export and import of the baseline, with json-c.
 */
#include "store/baseline_io.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/addr.h"
#include "util/error.h"

/* A row's JSON: two keys and a first query, each escaped up to 6 bytes a byte. */
#define ROW_TEXT_MAX 16384
/* Longer lines cannot hold a valid row, so they are rejected before parsing. */
#define LINE_MAX_BYTES 65536

static int reason_set(char *reason, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reason_set(char *reason, size_t size, const char *fmt, ...)
{
    if (reason != NULL && size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, size, fmt, ap);
        va_end(ap);
    }
    return DF_EPARSE;
}

int baseline_io_row_format(const struct store_client *row, char *buf,
                           size_t size)
{
    json_object *obj = json_object_new_object();
    if (obj == NULL) {
        return -ENOMEM;
    }
    json_object_object_add(obj, "scope", json_object_new_string(row->scope));
    json_object_object_add(obj, "client", json_object_new_string(row->client));
    json_object_object_add(obj, "first_seen",
                           json_object_new_int64(row->first_seen));
    json_object_object_add(obj, "last_seen",
                           json_object_new_int64(row->last_seen));
    json_object_object_add(obj, "query_count",
                           json_object_new_uint64(row->query_count));
    json_object_object_add(obj, "flags", json_object_new_int64(row->flags));
    json_object_object_add(obj, "first_query",
                           json_object_new_string(row->first_query));

    /* Client keys contain '/', which json-c escapes as "\/" by default. */
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    int ret = 0;
    if (text == NULL) {
        ret = -ENOMEM;
    } else if (len + 2 > size) {
        ret = -ENOSPC;
    } else {
        memcpy(buf, text, len);
        buf[len] = '\n';
        buf[len + 1] = '\0';
    }
    json_object_put(obj);
    return ret;
}

static int field_int(json_object *obj, const char *key, int64_t min,
                     int64_t max, int64_t *out, char *reason, size_t size)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex(obj, key, &value)) {
        return reason_set(reason, size, "missing \"%s\"", key);
    }
    if (!json_object_is_type(value, json_type_int)) {
        return reason_set(reason, size, "\"%s\" is not an integer", key);
    }

    /* json-c clamps values beyond int64 to INT64_MAX when read as int64. */
    int64_t n = json_object_get_int64(value);
    bool too_big = n == INT64_MAX &&
                   json_object_get_uint64(value) != (uint64_t)INT64_MAX;
    if (too_big || n < min || n > max) {
        return reason_set(reason, size,
                          "\"%s\" is out of range (%" PRId64 " to %" PRId64 ")",
                          key, min, max);
    }
    *out = n;
    return 0;
}

static int field_text(json_object *obj, const char *key, char *dst,
                      size_t dst_size, bool allow_empty, char *reason,
                      size_t size)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex(obj, key, &value)) {
        return reason_set(reason, size, "missing \"%s\"", key);
    }
    if (!json_object_is_type(value, json_type_string)) {
        return reason_set(reason, size, "\"%s\" is not a string", key);
    }

    const char *text = json_object_get_string(value);
    size_t len = (size_t)json_object_get_string_len(value);
    if (len >= dst_size) {
        return reason_set(reason, size, "\"%s\" is longer than %zu bytes",
                          key, dst_size - 1);
    }
    if (memchr(text, '\0', len) != NULL) {
        return reason_set(reason, size, "\"%s\" contains a NUL character", key);
    }
    if (len == 0 && !allow_empty) {
        return reason_set(reason, size, "\"%s\" is empty", key);
    }
    memcpy(dst, text, len);
    dst[len] = '\0';
    return 0;
}

/* Read and check every field of a parsed object. */
/* A registrable domain as client-key ptr-domain stores it: "example.net". */
static bool is_domain_key(const char *text)
{
    size_t len = strlen(text);
    if (len == 0 || len >= STORE_KEY_MAX || text[0] == '.' || text[len - 1] == '.' ||
        strchr(text, '.') == NULL) {
        return false;
    }
    for (const char *p = text; *p != '\0'; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static int row_from_object(json_object *obj, struct store_client *row,
                           char *reason, size_t size)
{
    int64_t query_count = 0;
    int64_t flags = 0;
    int ret = field_text(obj, "scope", row->scope, sizeof(row->scope), false,
                         reason, size);
    if (ret == 0) {
        ret = field_text(obj, "client", row->client, sizeof(row->client),
                         false, reason, size);
    }
    if (ret == 0) {
        ret = field_int(obj, "first_seen", 0, INT64_MAX, &row->first_seen,
                        reason, size);
    }
    if (ret == 0) {
        ret = field_int(obj, "last_seen", 0, INT64_MAX, &row->last_seen,
                        reason, size);
    }
    if (ret == 0) {
        ret = field_int(obj, "query_count", 0, INT64_MAX, &query_count,
                        reason, size);
    }
    if (ret == 0) {
        ret = field_int(obj, "flags", 0, UINT32_MAX, &flags, reason, size);
    }
    if (ret == 0) {
        ret = field_text(obj, "first_query", row->first_query,
                         sizeof(row->first_query), true, reason, size);
    }
    if (ret != 0) {
        return ret;
    }
    row->query_count = (uint64_t)query_count;
    row->flags = (uint32_t)flags;

    /* Client keys are prefixes, or registrable domains (client-key ptr-domain);
     * anything else could never be matched. */
    struct prefix client;
    if (prefix_parse(row->client, &client) != 0 && !is_domain_key(row->client)) {
        return reason_set(reason, size, "\"client\" '%s' is neither an IP prefix nor a domain",
                          row->client);
    }
    if (row->first_seen > row->last_seen) {
        return reason_set(reason, size, "\"first_seen\" is after \"last_seen\"");
    }
    return 0;
}

int baseline_io_row_parse(const char *line, size_t len, struct store_client *row,
                          char *reason, size_t reason_size)
{
    if (len > LINE_MAX_BYTES) {
        return reason_set(reason, reason_size, "line is longer than %d bytes",
                          LINE_MAX_BYTES);
    }
    json_tokener *tok = json_tokener_new();
    if (tok == NULL) {
        return -ENOMEM;
    }
    json_object *obj = json_tokener_parse_ex(tok, line, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);

    int ret = 0;
    if (jerr == json_tokener_continue) {
        ret = reason_set(reason, reason_size, "incomplete JSON object");
    } else if (jerr != json_tokener_success) {
        ret = reason_set(reason, reason_size, "invalid JSON (%s)",
                         json_tokener_error_desc(jerr));
    } else if (strspn(line + end, " \t\r") != len - end) {
        ret = reason_set(reason, reason_size, "text after the JSON object");
    } else if (!json_object_is_type(obj, json_type_object)) {
        ret = reason_set(reason, reason_size, "not a JSON object");
    } else {
        ret = row_from_object(obj, row, reason, reason_size);
    }
    json_object_put(obj);
    return ret;
}

struct export_state {
    FILE *out;
    uint64_t rows;
    char line[ROW_TEXT_MAX];
};

static int export_row(void *ctx, const struct store_client *row)
{
    struct export_state *state = ctx;
    int ret = baseline_io_row_format(row, state->line, sizeof(state->line));
    if (ret != 0) {
        return ret;
    }
    if (fputs(state->line, state->out) == EOF) {
        return -errno;
    }
    state->rows++;
    return 0;
}

int baseline_io_export(struct store *st, FILE *out, uint64_t *rows)
{
    struct export_state *state = calloc(1, sizeof(*state));
    if (state == NULL) {
        return -ENOMEM;
    }
    state->out = out;

    int ret = st->ops->list(st, export_row, state);
    if (ret == 0 && fflush(out) != 0) {
        ret = -errno;
    }
    *rows = state->rows;
    free(state);
    return ret;
}

struct import_state {
    FILE *in;
    const char *name;
    char *line;
    size_t line_size;
    size_t line_number;
    char *err;
    size_t err_size;
};

static bool line_is_blank(const char *line, size_t len)
{
    return strspn(line, " \t\r") == len;
}

/* Reader for store import: the next row of the file, 0 at its end. */
static int import_next(void *ctx, struct store_client *row)
{
    struct import_state *state = ctx;
    for (;;) {
        ssize_t n = getline(&state->line, &state->line_size, state->in);
        if (n < 0) {
            if (ferror(state->in)) {
                snprintf(state->err, state->err_size, "%s:%zu: read failed",
                         state->name, state->line_number + 1);
                return -EIO;
            }
            return 0;
        }
        state->line_number++;

        size_t len = (size_t)n;
        if (len > 0 && state->line[len - 1] == '\n') {
            state->line[--len] = '\0';
        }
        if (line_is_blank(state->line, len)) {
            continue;
        }

        char reason[BASELINE_IO_REASON_MAX];
        int ret = baseline_io_row_parse(state->line, len, row, reason,
                                        sizeof(reason));
        if (ret != 0) {
            snprintf(state->err, state->err_size, "%s:%zu: %s", state->name,
                     state->line_number, ret == DF_EPARSE ? reason
                                                          : df_strerror(ret));
            return ret;
        }
        return 1;
    }
}

int baseline_io_import(struct store *st, FILE *in, const char *name,
                       uint64_t *rows, char *err, size_t err_size)
{
    char scratch[1];
    struct import_state state = {
        .in = in,
        .name = name,
        .err = err != NULL ? err : scratch,
        .err_size = err != NULL ? err_size : sizeof(scratch),
    };
    if (state.err_size > 0) {
        state.err[0] = '\0';
    }

    int ret = st->ops->import(st, import_next, &state, rows);
    if (ret != 0 && state.err_size > 0 && state.err[0] == '\0') {
        snprintf(state.err, state.err_size, "%s: import failed (%s)", name,
                 df_strerror(ret));
    }
    free(state.line);
    return ret;
}
