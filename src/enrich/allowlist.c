/* SPDX-License-Identifier: MIT */
/* allowlist.c - parse and match allow rules; the syntax is in allowlist.h. */
#include "enrich/allowlist.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"

/* Write the reason for a rejected value into err and return DF_EPARSE. */
#define fail(err, err_size, ...) df_error_format(DF_EPARSE, (err), (err_size), __VA_ARGS__)

/* Copy [start, end) with surrounding spaces removed into @p out of @p size bytes. */
static bool copy_trimmed(const char *start, const char *end, char *out, size_t size)
{
    while (start < end && isspace((unsigned char)*start)) {
        start++;
    }
    while (end > start && isspace((unsigned char)end[-1])) {
        end--;
    }
    size_t len = (size_t)(end - start);
    if (len >= size) {
        return false;
    }
    memcpy(out, start, len);
    out[len] = '\0';
    return true;
}

static int parse_asn(const char *digits, uint32_t *asn)
{
    char *end = NULL;
    if (!isdigit((unsigned char)digits[0])) {
        return DF_EPARSE;
    }
    unsigned long v = strtoul(digits, &end, 10);
    if (*end != '\0' || v == 0 || v > UINT32_MAX) {
        return DF_EPARSE;
    }
    *asn = (uint32_t)v;
    return 0;
}

static bool is_country(const char *text)
{
    return strlen(text) == 2 && isalpha((unsigned char)text[0]) &&
           isalpha((unsigned char)text[1]);
}

static bool is_name_pattern(const char *text)
{
    if (text[0] == '\0' || strchr(text, '.') == NULL) {
        return false;
    }
    for (const char *p = text; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && strchr("-_.*?", *p) == NULL) {
            return false;
        }
    }
    return true;
}

/* Fill the match part of @p r from @p match. */
static int parse_match(const char *match, struct allow_rule *r, char *err, size_t err_size)
{
    if (strncasecmp(match, "ASN:", 4) == 0 || strncasecmp(match, "AS", 2) == 0) {
        r->kind = ALLOW_ASN;
        /* Digits follow "AS", "AS:" or "ASN:". */
        size_t skip = 2;
        if (match[2] == ':') {
            skip = 3;
        } else if (match[2] != '\0' && match[3] == ':') {
            skip = 4;
        }
        if (parse_asn(match + skip, &r->asn) == 0) {
            return 0;
        }
        if (strncasecmp(match, "ASN:", 4) == 0 || isdigit((unsigned char)match[2])) {
            return fail(err, err_size, "invalid AS number in '%s'", match);
        }
    }
    if (strncasecmp(match, "country:", 8) == 0 || is_country(match)) {
        const char *code = match[2] == '\0' ? match : match + 8;
        if (!is_country(code)) {
            return fail(err, err_size, "invalid country '%s' (expected two letters)", code);
        }
        r->kind = ALLOW_COUNTRY;
        r->country[0] = (char)toupper((unsigned char)code[0]);
        r->country[1] = (char)toupper((unsigned char)code[1]);
        return 0;
    }
    if (prefix_parse(match, &r->prefix) == 0) {
        r->kind = ALLOW_PREFIX;
        return 0;
    }
    const char *pattern = strncasecmp(match, "name:", 5) == 0 ? match + 5 : match;
    if (is_name_pattern(pattern) && strlen(pattern) < sizeof(r->pattern)) {
        r->kind = ALLOW_NAME;
        snprintf(r->pattern, sizeof(r->pattern), "%s", pattern);
        return 0;
    }
    return fail(err, err_size, "'%s' is no CIDR, AS64500, country:DE or name pattern such "
                "as *.example.com", match);
}

int allow_rule_parse(const char *text, struct allow_rule *out, char *err, size_t err_size)
{
    struct allow_rule r;
    memset(&r, 0, sizeof(r));
    const char *end = text + strlen(text);

    /* "@SERVER" at the end limits the rule to one server address or prefix. */
    const char *at = strrchr(text, '@');
    if (at != NULL) {
        char server[ADDR_TEXT_MAX];
        if (!copy_trimmed(at + 1, end, server, sizeof(server)) ||
            prefix_parse(server, &r.server) != 0) {
            return fail(err, err_size, "invalid server '%s' after '@'", at + 1);
        }
        r.has_server = true;
        end = at;
    }

    /* "RULE: " in front names the rule. */
    const char *colon = strstr(text, ": ");
    if (colon != NULL && colon < end) {
        if (!copy_trimmed(text, colon, r.name, sizeof(r.name)) || r.name[0] == '\0') {
            return fail(err, err_size, "rule name empty or over %d bytes",
                        ALLOW_RULE_NAME_MAX - 1);
        }
        text = colon + 2;
    }

    char match[ALLOW_PATTERN_MAX + 8];
    if (!copy_trimmed(text, end, match, sizeof(match)) || match[0] == '\0') {
        return fail(err, err_size, "missing or too long match");
    }
    int ret = parse_match(match, &r, err, err_size);
    if (ret != 0) {
        return ret;
    }
    if (r.name[0] == '\0') {
        snprintf(r.name, sizeof(r.name), "%.*s", ALLOW_RULE_NAME_MAX - 1, match);
    }
    *out = r;
    return 0;
}

int allowlist_init(struct allowlist *al, const struct config *cfg, char *err, size_t err_size)
{
    memset(al, 0, sizeof(*al));
    for (size_t i = 0; i < cfg->allow_count; i++) {
        char reason[256];
        if (allow_rule_parse(cfg->allow[i], &al->rules[i], reason, sizeof(reason)) != 0) {
            snprintf(err, err_size, "invalid allow rule '%s' (%s)", cfg->allow[i], reason);
            return DF_ECONFIG;
        }
        al->count++;
    }
    return 0;
}

bool allowlist_has_kind(const struct allowlist *al, enum allow_kind kind)
{
    for (size_t i = 0; i < al->count; i++) {
        if (al->rules[i].kind == kind) {
            return true;
        }
    }
    return false;
}

static bool rule_matches(const struct allow_rule *r, const struct allow_subject *s)
{
    if (r->has_server && !prefix_contains(&r->server, s->server)) {
        return false;
    }
    switch (r->kind) {
    case ALLOW_PREFIX:
        return prefix_contains(&r->prefix, s->client);
    case ALLOW_ASN:
        return s->asn != 0 && s->asn == r->asn;
    case ALLOW_COUNTRY:
        return s->country != NULL && strcasecmp(s->country, r->country) == 0;
    case ALLOW_NAME:
        return s->domain != NULL && fnmatch(r->pattern, s->domain, FNM_CASEFOLD) == 0;
    }
    return false;
}

int allowlist_match(const struct allowlist *al, const struct allow_subject *s)
{
    for (size_t i = 0; i < al->count; i++) {
        if (rule_matches(&al->rules[i], s)) {
            return (int)i;
        }
    }
    return -1;
}
