/* SPDX-License-Identifier: MIT */
/*
 * allowlist.h - allow rules: clients that are recorded in the baseline but
 * never alerted.
 *
 * Syntax of one rule: "[RULE: ]MATCH[ @SERVER]", where MATCH is
 *   a CIDR or address        203.0.113.0/24, 2001:db8::/32
 *   an AS number             AS64500 or ASN:64500 (needs geoip-asn)
 *   a country                country:DE or DE (needs geoip-country or geoip-city)
 *   a client name pattern    name:*.partner.test, or a bare *.partner.test;
 *                            matched with fnmatch() against the client's
 *                            reverse name, so it needs ptr-resolver
 * and @SERVER limits the rule to queries sent to that server address or
 * prefix. RULE names the rule in the summary; it ends with ": " (a colon and
 * a space), and without it the rule is named after MATCH.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "util/addr.h"

#define ALLOW_RULE_NAME_MAX 64
#define ALLOW_PATTERN_MAX 256

enum allow_kind {
    ALLOW_PREFIX = 0,
    ALLOW_ASN,
    ALLOW_COUNTRY,
    ALLOW_NAME,
};

struct allow_rule {
    char name[ALLOW_RULE_NAME_MAX];
    enum allow_kind kind;
    struct prefix prefix;            /* ALLOW_PREFIX */
    uint32_t asn;                    /* ALLOW_ASN */
    char country[3];                 /* ALLOW_COUNTRY, upper case */
    char pattern[ALLOW_PATTERN_MAX]; /* ALLOW_NAME */
    bool has_server;
    struct prefix server;
};

/* What is known about the client of a query when a rule is checked. */
struct allow_subject {
    const struct addr *client;
    const struct addr *server;
    uint32_t asn;        /* 0 = unknown */
    const char *country; /* NULL = unknown */
    const char *domain;  /* reverse name, NULL = unknown */
};

struct allowlist {
    size_t count;
    struct allow_rule rules[CONFIG_ALLOW_MAX];
    uint64_t hits[CONFIG_ALLOW_MAX]; /* clients suppressed by each rule */
};

/* Parse one rule. Returns 0, or DF_EPARSE with the reason in @p err. */
int allow_rule_parse(const char *text, struct allow_rule *out, char *err, size_t err_size);

/* Parse every cfg->allow rule. Returns 0, or DF_ECONFIG with the reason in @p err. */
int allowlist_init(struct allowlist *al, const struct config *cfg, char *err, size_t err_size);

/* Return true when a rule of kind @p kind exists. */
bool allowlist_has_kind(const struct allowlist *al, enum allow_kind kind);

/*
 * Return the index of the first rule that matches @p s, or -1. Rules whose
 * fact is unknown in @p s (no ASN, no country, no name) do not match.
 */
int allowlist_match(const struct allowlist *al, const struct allow_subject *s);
