/* SPDX-License-Identifier: MIT */
/*
 * enrich_config.c - the enrichment settings: list items kept as text, each
 * checked for syntax when it is set.
 */
#include "enrich/enrich_config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "enrich/allowlist.h"
#include "enrich/hours.h"
#include "enrich/ptr.h"
#include "util/error.h"

/* Write the reason for a rejected value into err and return DF_ECONFIG. */
#define fail(err, err_size, ...) df_error_format(DF_ECONFIG, (err), (err_size), __VA_ARGS__)

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

int enrich_list_spec_split(const char *spec, char *name, const char **path)
{
    const char *eq = strchr(spec, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - spec) : 0;
    for (size_t i = 0; i < name_len; i++) {
        if (!is_name_char(spec[i])) {
            eq = NULL; /* "=" belongs to the path */
            name_len = 0;
            break;
        }
    }

    if (eq != NULL) {
        *path = eq + 1;
    } else {
        /* Default name: base name of the file without its extension. */
        *path = spec;
        const char *base = strrchr(spec, '/');
        base = base != NULL ? base + 1 : spec;
        const char *dot = strchr(base, '.');
        name_len = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
        spec = base;
    }
    if (name_len == 0 || name_len >= ENRICH_LIST_NAME_MAX || (*path)[0] == '\0') {
        return DF_EPARSE;
    }
    memcpy(name, spec, name_len);
    name[name_len] = '\0';
    return 0;
}

int enrich_severity_parse(const char *word, enum intel_severity *out)
{
    static const char *const words[] = { "low", "medium", "high" };
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(word, words[i]) == 0) {
            *out = (enum intel_severity)(INTEL_SEVERITY_LOW + i);
            return 0;
        }
    }
    return DF_EPARSE;
}

const char *enrich_severity_confidence(enum intel_severity sev)
{
    switch (sev) {
    case INTEL_SEVERITY_LOW:
        return "Low";
    case INTEL_SEVERITY_MEDIUM:
        return "Medium";
    case INTEL_SEVERITY_HIGH:
        return "High";
    default:
        return NULL;
    }
}

/* Lists of text items. */

typedef int (*item_check_fn)(const char *item, char *err, size_t err_size);

/*
 * Append each comma-separated item of @p value, spaces trimmed, to the text
 * list @p items after checking it with @p check.
 */
static int add_items(char (*items)[CONFIG_ENRICH_ITEM_MAX], size_t *count, size_t max,
                     const char *value, item_check_fn check, char *err, size_t err_size)
{
    /* An empty value adds nothing, so that check-config's "key = " output loads back. */
    const char *p = value;
    if (value[strspn(value, " \t")] == '\0') {
        return 0;
    }
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        while (p < end && isspace((unsigned char)*p)) {
            p++;
        }
        while (end > p && isspace((unsigned char)end[-1])) {
            end--;
        }

        size_t len = (size_t)(end - p);
        if (len == 0) {
            return fail(err, err_size, "empty item in list '%s'", value);
        }
        if (len >= CONFIG_ENRICH_ITEM_MAX) {
            return fail(err, err_size, "item is %zu bytes long (at most %d)", len,
                        CONFIG_ENRICH_ITEM_MAX - 1);
        }
        if (*count >= max) {
            return fail(err, err_size, "more than %zu items", max);
        }
        char item[CONFIG_ENRICH_ITEM_MAX];
        memcpy(item, p, len);
        item[len] = '\0';
        int ret = check(item, err, err_size);
        if (ret != 0) {
            return ret;
        }
        memcpy(items[(*count)++], item, len + 1);
        if (comma == NULL) {
            return 0;
        }
        p = comma + 1;
    }
}

static void format_items(const char (*items)[CONFIG_ENRICH_ITEM_MAX], size_t count, char *buf,
                         size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && len < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "", items[i]);
        len += n > 0 ? (size_t)n : 0;
    }
}

static int check_list_spec(const char *item, char *err, size_t err_size)
{
    char name[ENRICH_LIST_NAME_MAX];
    const char *path = NULL;
    if (enrich_list_spec_split(item, name, &path) != 0) {
        return fail(err, err_size,
                    "invalid list '%s' (expected [NAME=]FILE, NAME of letters, digits, "
                    "'.', '-' or '_', at most %d bytes)",
                    item, ENRICH_LIST_NAME_MAX - 1);
    }
    return 0;
}

static int check_severity(const char *item, char *err, size_t err_size)
{
    const char *eq = strchr(item, '=');
    enum intel_severity sev;
    if (eq == NULL || eq == item || eq - item >= ENRICH_LIST_NAME_MAX ||
        enrich_severity_parse(eq + 1, &sev) != 0) {
        return fail(err, err_size, "invalid severity '%s' (expected NAME=low|medium|high)",
                    item);
    }
    return 0;
}

static int check_holiday(const char *item, char *err, size_t err_size)
{
    struct hours_date d;
    if (hours_date_parse(item, &d) != 0) {
        return fail(err, err_size, "invalid date '%s' (expected YYYY-MM-DD)", item);
    }
    return 0;
}

static int check_allow(const char *item, char *err, size_t err_size)
{
    struct allow_rule rule;
    char reason[256];
    if (allow_rule_parse(item, &rule, reason, sizeof(reason)) != 0) {
        return fail(err, err_size, "invalid allow rule '%s' (%s)", item, reason);
    }
    return 0;
}

int enrich_set_intel_domains(struct config *cfg, const struct config_setting *s,
                             const char *value, char *err, size_t err_size)
{
    (void)s;
    return add_items(cfg->intel_domains, &cfg->intel_domains_count, CONFIG_ENRICH_LISTS_MAX,
                     value, check_list_spec, err, err_size);
}

int enrich_set_intel_addresses(struct config *cfg, const struct config_setting *s,
                               const char *value, char *err, size_t err_size)
{
    (void)s;
    return add_items(cfg->intel_addresses, &cfg->intel_addresses_count,
                     CONFIG_ENRICH_LISTS_MAX, value, check_list_spec, err, err_size);
}

int enrich_set_intel_severity(struct config *cfg, const struct config_setting *s,
                              const char *value, char *err, size_t err_size)
{
    (void)s;
    return add_items(cfg->intel_severity, &cfg->intel_severity_count, CONFIG_ENRICH_LISTS_MAX,
                     value, check_severity, err, err_size);
}

int enrich_set_holiday(struct config *cfg, const struct config_setting *s, const char *value,
                       char *err, size_t err_size)
{
    (void)s;
    const char *p = value;
    if (value[strspn(value, " \t")] == '\0') {
        return 0;
    }
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[CONFIG_ENRICH_ITEM_MAX];
        snprintf(item, sizeof(item), "%.*s", (int)len, p);
        const char *start = item + strspn(item, " \t");
        char *end = item + strlen(item);
        while (end > start && isspace((unsigned char)end[-1])) {
            *--end = '\0';
        }

        int ret = check_holiday(start, err, err_size);
        if (ret != 0) {
            return ret;
        }
        if (cfg->holiday_count >= CONFIG_HOLIDAYS_MAX) {
            return fail(err, err_size, "more than %d holidays", CONFIG_HOLIDAYS_MAX);
        }
        snprintf(cfg->holidays[cfg->holiday_count++], sizeof(cfg->holidays[0]), "%s", start);
        if (p[len] == '\0') {
            return 0;
        }
        p += len + 1;
    }
}

int enrich_set_allow(struct config *cfg, const struct config_setting *s, const char *value,
                     char *err, size_t err_size)
{
    (void)s;
    return add_items(cfg->allow, &cfg->allow_count, CONFIG_ALLOW_MAX, value, check_allow, err,
                     err_size);
}

int enrich_set_business_hours(struct config *cfg, const struct config_setting *s,
                              const char *value, char *err, size_t err_size)
{
    (void)s;
    struct hours_spec spec;
    char reason[256];
    if (value[0] != '\0' && hours_spec_parse(value, &spec, reason, sizeof(reason)) != 0) {
        return fail(err, err_size, "invalid business hours '%s' (%s)", value, reason);
    }
    if (strlen(value) >= sizeof(cfg->business_hours)) {
        return fail(err, err_size, "value is too long (at most %zu bytes)",
                    sizeof(cfg->business_hours) - 1);
    }
    snprintf(cfg->business_hours, sizeof(cfg->business_hours), "%s", value);
    return 0;
}

int enrich_set_ptr_resolver(struct config *cfg, const struct config_setting *s,
                            const char *value, char *err, size_t err_size)
{
    (void)s;
    struct ptr_server server;
    if (value[0] != '\0' && ptr_server_parse(value, &server) != 0) {
        return fail(err, err_size,
                    "invalid resolver '%s' (expected ADDRESS or ADDRESS:PORT, an IPv6 "
                    "address with a port in brackets: [::1]:5353)",
                    value);
    }
    if (strlen(value) >= sizeof(cfg->ptr_resolver)) {
        return fail(err, err_size, "value is too long");
    }
    snprintf(cfg->ptr_resolver, sizeof(cfg->ptr_resolver), "%s", value);
    return 0;
}

void enrich_format_intel_domains(const struct config *cfg, const struct config_setting *s,
                                 char *buf, size_t size)
{
    (void)s;
    format_items(cfg->intel_domains, cfg->intel_domains_count, buf, size);
}

void enrich_format_intel_addresses(const struct config *cfg, const struct config_setting *s,
                                   char *buf, size_t size)
{
    (void)s;
    format_items(cfg->intel_addresses, cfg->intel_addresses_count, buf, size);
}

void enrich_format_intel_severity(const struct config *cfg, const struct config_setting *s,
                                  char *buf, size_t size)
{
    (void)s;
    format_items(cfg->intel_severity, cfg->intel_severity_count, buf, size);
}

void enrich_format_holiday(const struct config *cfg, const struct config_setting *s,
                           char *buf, size_t size)
{
    (void)s;
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->holiday_count && len < size; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "", cfg->holidays[i]);
        len += n > 0 ? (size_t)n : 0;
    }
}

void enrich_format_allow(const struct config *cfg, const struct config_setting *s,
                         char *buf, size_t size)
{
    (void)s;
    format_items(cfg->allow, cfg->allow_count, buf, size);
}
