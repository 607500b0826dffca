/* SPDX-License-Identifier: MIT */
/*
 * config_table.c - the table of every setting, and how each type of value
 * is parsed and printed.
 *
 * Defaults live only in the table as text: config_init() feeds each
 * default_text through the setting's own setter, so the README, --help and
 * the struct config that the program runs with cannot disagree. Each
 * default_text is also written as check-config prints it (a duration in the
 * largest unit that divides it: 1d, not 24h), which test_config checks.
 */
#include "daemon/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "input/dnstap_endpoint.h"
#include "enrich/enrich_config.h"
#include "util/error.h"

#define FIELD(name) offsetof(struct config, name), sizeof(((struct config *)0)->name)

/* Maximum length of one list item: an IPv6 prefix in text form. */
#define LIST_ITEM_MAX ADDR_TEXT_MAX

_Static_assert(sizeof(enum scope_mode) == sizeof(int), "enum settings are stored as int");

/* Write the reason for a rejected value into err and return DF_ECONFIG. */
#define fail(err, err_size, ...) df_error_format(DF_ECONFIG, (err), (err_size), __VA_ARGS__)

static void *field_of(struct config *cfg, const struct config_setting *s)
{
    return (char *)cfg + s->offset;
}

static const void *const_field_of(const struct config *cfg, const struct config_setting *s)
{
    return (const char *)cfg + s->offset;
}

/* Enumerations. */

static int set_enum(struct config *cfg, const struct config_setting *s, const char *value,
                    char *err, size_t err_size)
{
    for (const struct config_choice *c = s->choices; c->word != NULL; c++) {
        if (strcmp(c->word, value) == 0) {
            *(int *)field_of(cfg, s) = c->value;
            return 0;
        }
    }
    return fail(err, err_size, "invalid value '%s' (expected %s)", value, s->value_name);
}

static void format_enum(const struct config *cfg, const struct config_setting *s, char *buf,
                        size_t size)
{
    int value = *(const int *)const_field_of(cfg, s);
    for (const struct config_choice *c = s->choices; c->word != NULL; c++) {
        if (c->value == value) {
            snprintf(buf, size, "%s", c->word);
            return;
        }
    }
    snprintf(buf, size, "%d", value);
}

/* Durations. */

static int set_duration(struct config *cfg, const struct config_setting *s, const char *value,
                        char *err, size_t err_size)
{
    int64_t seconds = 0;
    if (config_parse_duration(value, &seconds) != 0) {
        return fail(err, err_size,
                    "invalid duration '%s' (expected a number of seconds, or a number with "
                    "s, m, h or d such as 90s or 24h, at most 36500d)",
                    value);
    }
    memcpy(field_of(cfg, s), &seconds, sizeof(seconds));
    return 0;
}

static int set_duration_ms(struct config *cfg, const struct config_setting *s,
                           const char *value, char *err, size_t err_size)
{
    int64_t ms = 0;
    if (config_parse_duration_ms(value, &ms) != 0) {
        return fail(err, err_size,
                    "invalid duration '%s' (expected a number of milliseconds, or a number "
                    "with ms, s, m, h or d such as 500ms or 2s, at most 36500d)",
                    value);
    }
    memcpy(field_of(cfg, s), &ms, sizeof(ms));
    return 0;
}

/* Write @p ms with the largest unit that divides it exactly. */
static void format_ms(int64_t ms, char *buf, size_t size)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {
        { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
    };
    if (ms == 0) {
        snprintf(buf, size, "0");
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ms % units[i].ms == 0) {
            snprintf(buf, size, "%" PRId64 "%s", ms / units[i].ms, units[i].unit);
            return;
        }
    }
    snprintf(buf, size, "%" PRId64 "ms", ms);
}

static void format_duration(const struct config *cfg, const struct config_setting *s,
                            char *buf, size_t size)
{
    int64_t seconds;
    memcpy(&seconds, const_field_of(cfg, s), sizeof(seconds));
    format_ms(seconds * 1000, buf, size);
}

static void format_duration_ms(const struct config *cfg, const struct config_setting *s,
                               char *buf, size_t size)
{
    int64_t ms;
    memcpy(&ms, const_field_of(cfg, s), sizeof(ms));
    format_ms(ms, buf, size);
}

/* Unsigned integers, stored in fields of 1, 2, 4 or 8 bytes. */

/* Parse decimal digits only: no sign, no spaces, no hex. */
static int parse_uint(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char)text[0])) {
        return DF_EPARSE;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') {
        return DF_EPARSE;
    }
    *out = v;
    return 0;
}

static int set_uint(struct config *cfg, const struct config_setting *s, const char *value,
                    char *err, size_t err_size)
{
    uint64_t v = 0;
    if (parse_uint(value, &v) != 0 || v < s->min || v > s->max) {
        return fail(err, err_size, "invalid value '%s' (expected a number from %" PRIu64
                    " to %" PRIu64 ")", value, s->min, s->max);
    }

    void *field = field_of(cfg, s);
    if (s->field_size == 1) {
        *(uint8_t *)field = (uint8_t)v;
    } else if (s->field_size == 2) {
        *(uint16_t *)field = (uint16_t)v;
    } else if (s->field_size == 4) {
        *(uint32_t *)field = (uint32_t)v;
    } else {
        *(uint64_t *)field = v;
    }
    return 0;
}

static void format_uint(const struct config *cfg, const struct config_setting *s, char *buf,
                        size_t size)
{
    const void *field = const_field_of(cfg, s);
    uint64_t v;
    if (s->field_size == 1) {
        v = *(const uint8_t *)field;
    } else if (s->field_size == 2) {
        v = *(const uint16_t *)field;
    } else if (s->field_size == 4) {
        v = *(const uint32_t *)field;
    } else {
        v = *(const uint64_t *)field;
    }
    snprintf(buf, size, "%" PRIu64, v);
}

/* Paths and strings, in char arrays; min is the shortest length allowed. */

static int set_text(struct config *cfg, const struct config_setting *s, const char *value,
                    char *err, size_t err_size)
{
    size_t len = strlen(value);
    if (len < s->min) {
        return fail(err, err_size, "empty value (expected %s)", s->value_name);
    }
    if (len >= s->field_size) {
        return fail(err, err_size, "value is %zu bytes long (at most %zu)", len,
                    s->field_size - 1);
    }
    for (size_t i = 0; i < len; i++) {
        if (iscntrl((unsigned char)value[i])) {
            return fail(err, err_size, "value contains a control character at byte %zu",
                        i + 1);
        }
    }
    memcpy(field_of(cfg, s), value, len + 1);
    return 0;
}

static void format_text(const struct config *cfg, const struct config_setting *s, char *buf,
                        size_t size)
{
    snprintf(buf, size, "%s", (const char *)const_field_of(cfg, s));
}

/* Booleans. A flag given without a value (value NULL) means true. */

static int set_bool(struct config *cfg, const struct config_setting *s, const char *value,
                    char *err, size_t err_size)
{
    static const char *const true_words[] = { "true", "yes", "on", "1" };
    static const char *const false_words[] = { "false", "no", "off", "0" };
    bool *field = field_of(cfg, s);
    if (value == NULL) {
        *field = true;
        return 0;
    }
    for (size_t i = 0; i < sizeof(true_words) / sizeof(true_words[0]); i++) {
        if (strcmp(value, true_words[i]) == 0) {
            *field = true;
            return 0;
        }
        if (strcmp(value, false_words[i]) == 0) {
            *field = false;
            return 0;
        }
    }
    return fail(err, err_size, "invalid value '%s' (expected true or false)", value);
}

static void format_bool(const struct config *cfg, const struct config_setting *s, char *buf,
                        size_t size)
{
    snprintf(buf, size, "%s", *(const bool *)const_field_of(cfg, s) ? "true" : "false");
}

/* Lists. */

typedef int (*list_item_fn)(struct config *cfg, const char *item, char *err, size_t err_size);

/* Call @p add for each comma-separated item of @p value, spaces trimmed. */
static int for_each_item(struct config *cfg, const char *value, list_item_fn add, char *err,
                         size_t err_size)
{
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        while (p < end && isspace((unsigned char)*p)) {
            p++;
        }
        while (end > p && isspace((unsigned char)end[-1])) {
            end--;
        }

        char item[LIST_ITEM_MAX];
        size_t len = (size_t)(end - p);
        if (len == 0) {
            return fail(err, err_size, "empty item in list '%s'", value);
        }
        if (len >= sizeof(item)) {
            return fail(err, err_size, "invalid item '%.*s'", (int)len, p);
        }
        memcpy(item, p, len);
        item[len] = '\0';
        int ret = add(cfg, item, err, err_size);
        if (ret != 0 || comma == NULL) {
            return ret;
        }
        p = comma + 1;
    }
}

static int add_internal(struct config *cfg, const char *item, char *err, size_t err_size)
{
    struct prefix p;
    if (prefix_parse(item, &p) != 0) {
        return fail(err, err_size,
                    "invalid network '%s' (expected an address or prefix such as "
                    "10.0.0.0/8 or fc00::/7, with no bits set past the length)",
                    item);
    }
    for (size_t i = 0; i < cfg->internal_count; i++) {
        if (memcmp(&cfg->internal[i], &p, sizeof(p)) == 0) {
            return 0;
        }
    }
    if (cfg->internal_count >= CONFIG_INTERNAL_MAX) {
        return fail(err, err_size, "more than %d internal networks", CONFIG_INTERNAL_MAX);
    }
    cfg->internal[cfg->internal_count++] = p;
    return 0;
}

/*
 * Drop the entries that earlier sources or the defaults added, and keep
 * those that internal-add added in this source.
 */
static void replace_internal(struct config *cfg)
{
    size_t inherited = cfg->internal_inherited;
    size_t own = cfg->internal_count - inherited;
    memmove(cfg->internal, cfg->internal + inherited, own * sizeof(cfg->internal[0]));
    cfg->internal_count = own;
    cfg->internal_inherited = 0;
    cfg->internal_none = false;
    cfg->lists_replaced |= CONFIG_LIST_INTERNAL;
}

static int set_internal(struct config *cfg, const struct config_setting *s, const char *value,
                        char *err, size_t err_size)
{
    (void)s;
    if ((cfg->lists_replaced & CONFIG_LIST_INTERNAL) == 0) {
        replace_internal(cfg);
    }
    if (strcmp(value, "none") == 0) {
        cfg->internal_count = 0;
        cfg->internal_none = true;
        return 0;
    }
    return for_each_item(cfg, value, add_internal, err, err_size);
}

static int set_internal_add(struct config *cfg, const struct config_setting *s,
                            const char *value, char *err, size_t err_size)
{
    (void)s;
    return for_each_item(cfg, value, add_internal, err, err_size);
}

static void format_internal(const struct config *cfg, const struct config_setting *s,
                            char *buf, size_t size)
{
    (void)s;
    size_t len = 0;
    buf[0] = '\0';
    if (cfg->internal_count == 0) {
        snprintf(buf, size, "none");
        return;
    }
    for (size_t i = 0; i < cfg->internal_count && len < size; i++) {
        char text[ADDR_TEXT_MAX];
        prefix_format(&cfg->internal[i], text, sizeof(text));
        int n = snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "", text);
        len += n > 0 ? (size_t)n : 0;
    }
}

static int add_port(struct config *cfg, const char *item, char *err, size_t err_size)
{
    uint64_t port = 0;
    if (parse_uint(item, &port) != 0 || port < 1 || port > 65535) {
        return fail(err, err_size, "invalid port '%s' (expected a number from 1 to 65535)",
                    item);
    }
    for (size_t i = 0; i < cfg->dns_port_count; i++) {
        if (cfg->dns_ports[i] == port) {
            return 0;
        }
    }
    if (cfg->dns_port_count >= CONFIG_PORTS_MAX) {
        return fail(err, err_size, "more than %d DNS ports", CONFIG_PORTS_MAX);
    }
    cfg->dns_ports[cfg->dns_port_count++] = (uint16_t)port;
    return 0;
}

static int set_dns_port(struct config *cfg, const struct config_setting *s, const char *value,
                        char *err, size_t err_size)
{
    (void)s;
    if ((cfg->lists_replaced & CONFIG_LIST_DNS_PORT) == 0) {
        cfg->dns_port_count = 0;
        cfg->lists_replaced |= CONFIG_LIST_DNS_PORT;
    }
    return for_each_item(cfg, value, add_port, err, err_size);
}

static void format_ports(const struct config *cfg, const struct config_setting *s, char *buf,
                         size_t size)
{
    (void)s;
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->dns_port_count && len < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%u", i > 0 ? ", " : "",
                         (unsigned)cfg->dns_ports[i]);
        len += n > 0 ? (size_t)n : 0;
    }
}

/* DNS-over-HTTPS server addresses, whose port-443 handshakes count as DNS clients. */

static int add_doh_server(struct config *cfg, const char *item, char *err, size_t err_size)
{
    struct addr a;
    if (addr_parse(item, &a) != 0) {
        return fail(err, err_size, "invalid address '%s'", item);
    }
    for (size_t i = 0; i < cfg->doh_server_count; i++) {
        if (memcmp(&cfg->doh_servers[i], &a, sizeof(a)) == 0) {
            return 0;
        }
    }
    if (cfg->doh_server_count >= CONFIG_DOH_SERVERS_MAX) {
        return fail(err, err_size, "more than %d DoH servers", CONFIG_DOH_SERVERS_MAX);
    }
    cfg->doh_servers[cfg->doh_server_count++] = a;
    return 0;
}

static int set_doh_server(struct config *cfg, const struct config_setting *s,
                          const char *value, char *err, size_t err_size)
{
    (void)s;
    return for_each_item(cfg, value, add_doh_server, err, err_size);
}

static void format_doh_servers(const struct config *cfg, const struct config_setting *s,
                               char *buf, size_t size)
{
    (void)s;
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->doh_server_count && len < size; i++) {
        char text[ADDR_TEXT_MAX];
        addr_format(&cfg->doh_servers[i], text, sizeof(text));
        int n = snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "", text);
        len += n > 0 ? (size_t)n : 0;
    }
}

/* Interface names for live capture. */

static int add_interface(struct config *cfg, const char *item, char *err, size_t err_size)
{
    size_t len = strlen(item);
    if (len >= sizeof(cfg->interfaces[0]) || strchr(item, '/') != NULL) {
        return fail(err, err_size, "invalid interface name '%s' (at most %zu characters, "
                    "no '/')", item, sizeof(cfg->interfaces[0]) - 1);
    }
    for (size_t i = 0; i < cfg->interface_count; i++) {
        if (strcmp(cfg->interfaces[i], item) == 0) {
            return 0;
        }
    }
    if (cfg->interface_count >= CONFIG_INTERFACES_MAX) {
        return fail(err, err_size, "more than %d interfaces", CONFIG_INTERFACES_MAX);
    }
    memcpy(cfg->interfaces[cfg->interface_count++], item, len + 1);
    return 0;
}

static int set_interface(struct config *cfg, const struct config_setting *s, const char *value,
                         char *err, size_t err_size)
{
    (void)s;
    if ((cfg->lists_replaced & CONFIG_LIST_INTERFACE) == 0) {
        cfg->interface_count = 0;
        cfg->lists_replaced |= CONFIG_LIST_INTERFACE;
    }
    return for_each_item(cfg, value, add_interface, err, err_size);
}

static void format_interfaces(const struct config *cfg, const struct config_setting *s,
                              char *buf, size_t size)
{
    (void)s;
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->interface_count && len < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "", cfg->interfaces[i]);
        len += n > 0 ? (size_t)n : 0;
    }
}

/* dnstap endpoints: "unix:PATH" or "tcp:ADDRESS:PORT", checked when set. */

static int add_dnstap(struct config *cfg, const char *item, size_t len, char *err,
                      size_t err_size)
{
    char text[CONFIG_DNSTAP_TEXT_MAX];
    if (len >= sizeof(text)) {
        return fail(err, err_size, "dnstap endpoint is %zu bytes long (at most %zu)", len,
                    sizeof(text) - 1);
    }
    memcpy(text, item, len);
    text[len] = '\0';

    struct dnstap_endpoint endpoint;
    char reason[160];
    if (dnstap_endpoint_parse(text, &endpoint, reason, sizeof(reason)) != 0) {
        return fail(err, err_size, "%s", reason);
    }
    for (size_t i = 0; i < cfg->dnstap_count; i++) {
        if (strcmp(cfg->dnstap[i], text) == 0) {
            return 0;
        }
    }
    if (cfg->dnstap_count >= CONFIG_DNSTAP_MAX) {
        return fail(err, err_size, "more than %d dnstap endpoints", CONFIG_DNSTAP_MAX);
    }
    memcpy(cfg->dnstap[cfg->dnstap_count++], text, len + 1);
    return 0;
}

/* Items are separated by commas, as in the other lists; "" and "none" clear the list. */
static int set_dnstap(struct config *cfg, const struct config_setting *s, const char *value,
                      char *err, size_t err_size)
{
    (void)s;
    if ((cfg->lists_replaced & CONFIG_LIST_DNSTAP) == 0) {
        cfg->dnstap_count = 0;
        cfg->lists_replaced |= CONFIG_LIST_DNSTAP;
    }
    if (value[0] == '\0' || strcmp(value, "none") == 0) {
        cfg->dnstap_count = 0;
        return 0;
    }
    for (const char *p = value;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        while (p < end && isspace((unsigned char)*p)) {
            p++;
        }
        while (end > p && isspace((unsigned char)end[-1])) {
            end--;
        }
        if (end == p) {
            return fail(err, err_size, "empty item in list '%s'", value);
        }
        int ret = add_dnstap(cfg, p, (size_t)(end - p), err, err_size);
        if (ret != 0 || comma == NULL) {
            return ret;
        }
        p = comma + 1;
    }
}

static void format_dnstap(const struct config *cfg, const struct config_setting *s,
                          char *buf, size_t size)
{
    (void)s;
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->dnstap_count && len < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "", cfg->dnstap[i]);
        len += n > 0 ? (size_t)n : 0;
    }
}

/* The table. */

static const struct config_choice scope_choices[] = {
    { "server", SCOPE_SERVER },
    { "site", SCOPE_SITE },
    { NULL, 0 },
};

static const struct config_choice client_key_choices[] = {
    { "address", CLIENT_KEY_ADDRESS },
    { "ptr-domain", CLIENT_KEY_PTR_DOMAIN },
    { NULL, 0 },
};

static const struct config_choice log_level_choices[] = {
    { "err", 3 }, { "warning", 4 }, { "notice", 5 }, { "info", 6 }, { "debug", 7 },
    { NULL, 0 },
};

#define ENUM_SETTING set_enum, format_enum
#define DURATION_SETTING set_duration, format_duration
#define UINT_SETTING set_uint, format_uint
#define TEXT_SETTING set_text, format_text

static const struct config_setting settings[] = {
    {
        "scope", CONFIG_TYPE_ENUM, "server|site", "server",
        "Whom a client is new to: each DNS server address (server), or the whole "
        "site this sensor watches (site).",
        false, ENUM_SETTING, FIELD(scope), 0, 0, scope_choices,
    },
    {
        "learning-period", CONFIG_TYPE_DURATION, "DURATION", "1d",
        "Capture time at the start of a new baseline during which new clients are "
        "recorded without alerts; 0 alerts from the start.",
        false, DURATION_SETTING, FIELD(learning_period_s), 0, 0, NULL,
    },
    {
        "expiry", CONFIG_TYPE_DURATION, "DURATION", "90d",
        "Forget a client that has not queried for this long, so that its next query "
        "alerts again; 0 turns expiry off, so no client is forgotten and no row is "
        "removed at the end of a run.",
        false, DURATION_SETTING, FIELD(expiry_s), 0, 0, NULL,
    },
    {
        "response-wait", CONFIG_TYPE_DURATION_MS, "DURATION", "2s",
        "Capture time an alert waits for the server's response before it is written; "
        "a bare number is milliseconds.",
        false, set_duration_ms, format_duration_ms, FIELD(response_wait_ms), 0, 0, NULL,
    },
    {
        "internal", CONFIG_TYPE_CIDR_LIST, "CIDR",
        "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 127.0.0.0/8, 169.254.0.0/16, "
        "100.64.0.0/10, ::1/128, fc00::/7, fe80::/10",
        "Networks whose clients are internal and never alert. The first use in the "
        "config file or on the command line replaces the defaults; \"none\" means no "
        "internal networks.",
        true, set_internal, format_internal, FIELD(internal), 0, 0, NULL,
    },
    {
        "internal-add", CONFIG_TYPE_CIDR_LIST, "CIDR", "",
        "Network to add to the internal networks, keeping the defaults.",
        true, set_internal_add, NULL, FIELD(internal), 0, 0, NULL,
    },
    {
        "dns-port", CONFIG_TYPE_PORT_LIST, "PORT", "53",
        "UDP and TCP port that carries DNS. The first use in the config file or on the "
        "command line replaces the default.",
        true, set_dns_port, format_ports, FIELD(dns_ports), 0, 0, NULL,
    },
    {
        "doh-server", CONFIG_TYPE_CIDR_LIST, "ADDRESS", "",
        "DNS-over-HTTPS server address: a TCP handshake from an external client to its "
        "port 443 counts as a query without a question.",
        true, set_doh_server, format_doh_servers, FIELD(doh_servers), 0, 0, NULL,
    },
    /* dnstap input. */
    {
        "dnstap", CONFIG_TYPE_STRING, "ENDPOINT", "",
        "Socket that DNS servers send dnstap to, unix:PATH or tcp:ADDRESS:PORT; "
        "dnsfirst run creates it and listens until SIGINT or SIGTERM.",
        true, set_dnstap, format_dnstap, FIELD(dnstap), 0, 0, NULL,
    },
    {
        "client-prefix-v4", CONFIG_TYPE_UINT, "BITS", "32",
        "Prefix length that groups IPv4 clients into one client key; 32 keys each "
        "address.",
        false, UINT_SETTING, FIELD(client_prefix_v4), 0, 32, NULL,
    },
    {
        "client-prefix-v6", CONFIG_TYPE_UINT, "BITS", "64",
        "Prefix length that groups IPv6 clients into one client key; 64 keys each "
        "/64 subnet.",
        false, UINT_SETTING, FIELD(client_prefix_v6), 0, 128, NULL,
    },
    {
        "site-name", CONFIG_TYPE_STRING, "NAME", "site",
        "Scope key of every client when scope is site.",
        false, TEXT_SETTING, FIELD(site_name), 1, 0, NULL,
    },
    /* Client identity by reverse name (src/detect/client_domain.c). */
    {
        "client-key", CONFIG_TYPE_ENUM, "address|ptr-domain", "address",
        "What identifies a client: its address prefix (address), or the registrable "
        "domain of its reverse name when the PTR cache holds one at query time, else "
        "its address prefix (ptr-domain).",
        false, ENUM_SETTING, FIELD(client_key), 0, 0, client_key_choices,
    },
    /* Enrichment and suppression (src/enrich/). */
    {
        "intel-domains", CONFIG_TYPE_PATH, "[NAME=]FILE", "",
        "Domain list whose names, and names below them, mark an alert's query name: one "
        "name per line, hosts file, adblock ||name^ or RPZ zone lines. NAME defaults to "
        "the file's base name without its extension.",
        true, enrich_set_intel_domains, enrich_format_intel_domains, FIELD(intel_domains),
        0, 0, NULL,
    },
    {
        "intel-addresses", CONFIG_TYPE_PATH, "[NAME=]FILE", "",
        "Address list (one address or CIDR per line, comments after ; or #) whose "
        "longest matching prefix marks an alert's client address.",
        true, enrich_set_intel_addresses, enrich_format_intel_addresses,
        FIELD(intel_addresses), 0, 0, NULL,
    },
    {
        "intel-severity", CONFIG_TYPE_STRING, "NAME=low|medium|high", "",
        "Severity of the intel list NAME, written as "
        "threat.enrichments.indicator.confidence.",
        true, enrich_set_intel_severity, enrich_format_intel_severity, FIELD(intel_severity),
        0, 0, NULL,
    },
    {
        "intel-watch", CONFIG_TYPE_BOOL, "BOOL", "false",
        "Reload an intel list when its file's modification time changes, checked at most "
        "once a second; SIGHUP reloads every list.",
        false, set_bool, format_bool, FIELD(intel_watch), 0, 0, NULL,
    },
    {
        "geoip-city", CONFIG_TYPE_PATH, "PATH", "",
        "MaxMind DB City file for source.geo.country_iso_code and source.geo.city_name; "
        "empty leaves the fields out.",
        false, TEXT_SETTING, FIELD(geoip_city), 0, 0, NULL,
    },
    {
        "geoip-country", CONFIG_TYPE_PATH, "PATH", "",
        "MaxMind DB Country file for source.geo.country_iso_code; empty leaves it out.",
        false, TEXT_SETTING, FIELD(geoip_country), 0, 0, NULL,
    },
    {
        "geoip-asn", CONFIG_TYPE_PATH, "PATH", "",
        "MaxMind DB ASN file for source.as.number and source.as.organization.name; "
        "empty leaves them out.",
        false, TEXT_SETTING, FIELD(geoip_asn), 0, 0, NULL,
    },
    {
        "ptr-resolver", CONFIG_TYPE_STRING, "ADDRESS[:PORT]", "",
        "DNS resolver that dnsfirst asks for the PTR name of each new client "
        "(source.domain); empty sends no queries.",
        false, enrich_set_ptr_resolver, format_text, FIELD(ptr_resolver), 0, 0, NULL,
    },
    {
        "ptr-timeout", CONFIG_TYPE_DURATION_MS, "DURATION", "500ms",
        "Wall-clock time an alert waits for its PTR answer, at most the response wait; "
        "a bare number is milliseconds.",
        false, set_duration_ms, format_duration_ms, FIELD(ptr_timeout_ms), 0, 0, NULL,
    },
    {
        "ptr-rate", CONFIG_TYPE_UINT, "COUNT", "100",
        "PTR queries per second, at most.",
        false, UINT_SETTING, FIELD(ptr_rate), 1, 1000000, NULL,
    },
    {
        "business-hours", CONFIG_TYPE_STRING, "'ZONE DAYS HH:MM-HH:MM'", "",
        "Business hours for dnsfirst.business_hours, such as 'Europe/Berlin Mon-Fri "
        "08:00-18:00' (days also as Mon-Wed+Fri); empty leaves the field out.",
        false, enrich_set_business_hours, format_text, FIELD(business_hours), 0, 0, NULL,
    },
    {
        "holiday", CONFIG_TYPE_STRING, "YYYY-MM-DD", "",
        "Local date that is outside business hours all day.",
        true, enrich_set_holiday, enrich_format_holiday, FIELD(holidays), 0, 0, NULL,
    },
    {
        "allow", CONFIG_TYPE_STRING, "[RULE: ]MATCH[ @SERVER]", "",
        "Client recorded in the baseline without an alert. MATCH is a CIDR, AS64500 or "
        "ASN:64500, country:DE, or a reverse-name pattern such as name:*.partner.test; "
        "@SERVER limits the rule to one server address or prefix.",
        true, enrich_set_allow, enrich_format_allow, FIELD(allow), 0, 0, NULL,
    },
    {
        "learn", CONFIG_TYPE_BOOL, "BOOL", "false",
        "Record new clients in the baseline without writing alerts.",
        false, set_bool, format_bool, FIELD(learn_only), 0, 0, NULL,
    },
    {
        "state", CONFIG_TYPE_PATH, "PATH", "dnsfirst-baseline.db",
        "SQLite file of the baseline; a relative path is relative to the current "
        "directory.",
        false, TEXT_SETTING, FIELD(state_path), 1, 0, NULL,
    },
    {
        "flush-interval", CONFIG_TYPE_DURATION, "DURATION", "5m",
        "Capture time between writes of clients' last-seen times and query counts to "
        "the baseline; a kill loses at most this much of them, never a client. 0 writes "
        "them once per second of capture time, as 1s does.",
        false, DURATION_SETTING, FIELD(flush_interval_s), 0, 0, NULL,
    },
    {
        "store-batch-max", CONFIG_TYPE_UINT, "COUNT", "32768",
        "Rows the baseline writes in one transaction, at most.",
        false, UINT_SETTING, FIELD(store_batch_max), 1, UINT32_MAX, NULL,
    },
    {
        "store-queue-max", CONFIG_TYPE_UINT, "COUNT", "65536",
        "Rows waiting for the baseline writer thread, at most.",
        false, UINT_SETTING, FIELD(store_queue_max), 1, UINT32_MAX, NULL,
    },
    {
        "max-clients", CONFIG_TYPE_UINT, "COUNT", "16777216",
        "Clients kept in memory, at most.",
        false, UINT_SETTING, FIELD(max_clients), 1, UINT32_MAX, NULL,
    },
    {
        "output", CONFIG_TYPE_PATH, "PATH", "-",
        "File that alerts are appended to as JSON lines; - is standard output.",
        false, TEXT_SETTING, FIELD(output_path), 0, 0, NULL,
    },
    {
        "log-level", CONFIG_TYPE_ENUM, "err|warning|notice|info|debug", "notice",
        "Most verbose level of messages written to standard error.",
        false, ENUM_SETTING, FIELD(log_level), 0, 0, log_level_choices,
    },
    /* Live capture and sensor operation (run -i). */
    {
        "interface", CONFIG_TYPE_STRING, "IFACE", "",
        "Network interface to capture from live instead of reading files (-i). The "
        "first use in the config file or on the command line replaces the list.",
        true, set_interface, format_interfaces, FIELD(interfaces), 0, 0, NULL,
    },
    {
        "bpf-filter", CONFIG_TYPE_STRING, "EXPRESSION", "",
        "pcap filter expression for live capture; empty builds one from dns-port that "
        "also passes IP fragments and VLAN-tagged frames.",
        false, TEXT_SETTING, FIELD(bpf_filter), 0, 0, NULL,
    },
    {
        "snaplen", CONFIG_TYPE_UINT, "BYTES", "65535",
        "Bytes kept of each live packet.",
        false, UINT_SETTING, FIELD(snaplen), 256, 262144, NULL,
    },
    {
        "buffer-size", CONFIG_TYPE_UINT, "MIB", "32",
        "Kernel capture ring of each capture thread, in MiB.",
        false, UINT_SETTING, FIELD(buffer_size_mib), 1, 4096, NULL,
    },
    {
        "promiscuous", CONFIG_TYPE_BOOL, "BOOL", "false",
        "Put the interfaces into promiscuous mode, for a mirror port or a tap.",
        false, set_bool, format_bool, FIELD(promiscuous), 0, 0, NULL,
    },
    {
        "workers", CONFIG_TYPE_UINT, "COUNT", "1",
        "Capture threads per interface, spread with PACKET_FANOUT; each client key is "
        "decided by one detector thread.",
        false, UINT_SETTING, FIELD(workers), 1, 64, NULL,
    },
    {
        "user", CONFIG_TYPE_STRING, "NAME", "",
        "User to switch to after the interfaces and the baseline are open, keeping no "
        "capabilities; empty keeps the starting user.",
        false, TEXT_SETTING, FIELD(user), 0, 0, NULL,
    },
    {
        "allow-root", CONFIG_TYPE_BOOL, "BOOL", "false",
        "Allow decoding live packets as root; without it, live capture as root needs "
        "the user setting.",
        false, set_bool, format_bool, FIELD(allow_root), 0, 0, NULL,
    },
    {
        "memory-limit", CONFIG_TYPE_UINT, "MIB", "0",
        "Memory budget in MiB from which the client table and pending alert caps are "
        "derived (logged at start); 0 uses max-clients as given.",
        false, UINT_SETTING, FIELD(memory_limit_mib), 0, 1048576, NULL,
    },
    {
        "storm-threshold", CONFIG_TYPE_UINT, "COUNT", "100",
        "New clients per minute of one scope above which single alerts give way to "
        "one aggregated alert per storm-interval; 0 disables storm control.",
        false, UINT_SETTING, FIELD(storm_threshold), 0, UINT32_MAX, NULL,
    },
    {
        "storm-interval", CONFIG_TYPE_DURATION, "DURATION", "1m",
        "Time between aggregated alerts during a storm.",
        false, DURATION_SETTING, FIELD(storm_interval_s), 0, 0, NULL,
    },
    {
        "metrics-address", CONFIG_TYPE_STRING, "[ADDRESS:]PORT", "",
        "Serve Prometheus metrics over HTTP at /metrics on this address; a bare port "
        "listens on 127.0.0.1; empty is off.",
        false, TEXT_SETTING, FIELD(metrics_address), 0, 0, NULL,
    },
    {
        "stats-interval", CONFIG_TYPE_DURATION, "DURATION", "5m",
        "Wall time between statistics lines in the log of a live run; 0 is never.",
        false, DURATION_SETTING, FIELD(stats_interval_s), 0, 0, NULL,
    },
};

size_t config_setting_count(void)
{
    return sizeof(settings) / sizeof(settings[0]);
}

const struct config_setting *config_setting_at(size_t i)
{
    return i < config_setting_count() ? &settings[i] : NULL;
}
