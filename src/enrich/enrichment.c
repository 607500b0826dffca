/* SPDX-License-Identifier: MIT */
/*
 * enrichment.c - glue between the detector and the enrichment modules:
 * intel lists, GeoIP, PTR names, business hours and allow rules.
 */
#include "enrich/enrichment.h"

#include <errno.h>
#include <inttypes.h>
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/dns_answers.h"
#include "decode/dns_text.h"
#include "enrich/hours.h"
#include "util/error.h"

volatile sig_atomic_t enrichment_reload_requested = 0;

struct enrichment {
    const struct config *cfg;
    struct intel *intel;         /* NULL without intel lists */
    struct geoip *geoip;         /* NULL without databases */
    struct ptr_resolver *ptr;    /* NULL without ptr-resolver and client-key ptr-domain */
    const psl_ctx_t *psl;        /* NULL when ptr is */
    struct hours hours;
    struct allowlist allow;
    struct enrichment_stats stats;
};

static bool config_has_enrichment(const struct config *cfg)
{
    return cfg->intel_domains_count > 0 || cfg->intel_addresses_count > 0 ||
           cfg->geoip_city[0] != '\0' || cfg->geoip_country[0] != '\0' ||
           cfg->geoip_asn[0] != '\0' || cfg->ptr_resolver[0] != '\0' ||
           cfg->business_hours[0] != '\0' || cfg->allow_count > 0 ||
           cfg->client_key == CLIENT_KEY_PTR_DOMAIN;
}

/* The newest public suffix list: Debian's publicsuffix file or the built-in one. */
static const psl_ctx_t *open_psl(void)
{
    psl_ctx_t *latest = psl_latest(NULL);
    return latest != NULL ? latest : psl_builtin();
}

static int open_parts(struct enrichment *en, const struct config *cfg, char *err,
                      size_t err_size)
{
    int ret = allowlist_init(&en->allow, cfg, err, err_size);
    if (ret == 0) {
        ret = hours_init(&en->hours, cfg, err, err_size);
    }
    if (ret == 0 && (cfg->intel_domains_count > 0 || cfg->intel_addresses_count > 0)) {
        ret = intel_create(cfg, &en->intel, err, err_size);
    }
    if (ret == 0) {
        ret = geoip_open(cfg, &en->geoip, err, err_size);
    }
    if (ret == 0) {
        ret = ptr_resolver_create(cfg, &en->ptr, err, err_size);
    }
    if (ret == 0 && en->ptr == NULL && cfg->client_key == CLIENT_KEY_PTR_DOMAIN) {
        ret = ptr_cache_create(&en->ptr);
    }
    if (ret == 0 && en->ptr != NULL) {
        en->psl = open_psl();
    }
    return ret;
}

/* Rules that can never match, because the fact they need is not looked up. */
static int check_rules(const struct enrichment *en, char *err, size_t err_size)
{
    if (allowlist_has_kind(&en->allow, ALLOW_ASN) && !geoip_has_asn(en->geoip)) {
        snprintf(err, err_size, "an allow rule names an AS number but geoip-asn is not set");
        return DF_ECONFIG;
    }
    if (allowlist_has_kind(&en->allow, ALLOW_COUNTRY) && !geoip_has_country(en->geoip)) {
        snprintf(err, err_size, "an allow rule names a country but neither geoip-country "
                 "nor geoip-city is set");
        return DF_ECONFIG;
    }
    if (allowlist_has_kind(&en->allow, ALLOW_NAME) && en->ptr == NULL) {
        snprintf(err, err_size, "an allow rule names a client name pattern but "
                 "ptr-resolver is not set");
        return DF_ECONFIG;
    }
    return 0;
}

int enrichment_create(const struct config *cfg, struct enrichment **out, char *err,
                      size_t err_size)
{
    *out = NULL;
    if (!config_has_enrichment(cfg)) {
        return 0;
    }
    struct enrichment *en = calloc(1, sizeof(*en));
    if (en == NULL) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    en->cfg = cfg;
    int ret = open_parts(en, cfg, err, err_size);
    if (ret == 0) {
        ret = check_rules(en, err, err_size);
    }
    if (ret != 0) {
        enrichment_destroy(en);
        return ret;
    }
    *out = en;
    return 0;
}

void enrichment_destroy(struct enrichment *en)
{
    if (en == NULL) {
        return;
    }
    intel_destroy(en->intel);
    geoip_close(en->geoip);
    ptr_resolver_destroy(en->ptr);
    if (en->psl != NULL && en->psl != psl_builtin()) {
        psl_free((psl_ctx_t *)en->psl);
    }
    free(en);
}

void enrichment_describe(const struct enrichment *en, char *buf, size_t size)
{
    size_t lists = 0, entries = 0;
    if (en->intel != NULL) {
        intel_counts(en->intel, &lists, &entries);
    }
    snprintf(buf, size, "%zu intel lists with %zu entries, geoip %s, ptr-resolver %s, "
             "business hours %s, %zu allow rules", lists, entries,
             en->geoip != NULL ? "on" : "off", en->cfg->ptr_resolver[0] != '\0' ? "on" : "off",
             en->hours.enabled ? "on" : "off", en->allow.count);
}

/* Count a suppression for rule @p rule. */
static bool suppress(struct enrichment *en, int rule)
{
    en->allow.hits[rule]++;
    en->stats.suppressed++;
    return true;
}

bool enrichment_suppress_new(struct enrichment *en, const struct dns_message *query)
{
    if (en->allow.count > 0) {
        struct geoip_result geo;
        geoip_lookup(en->geoip, &query->src, &geo);
        struct allow_subject s = {
            .client = &query->src,
            .server = &query->dst,
            .asn = geo.as_number,
            .country = geo.country_iso_code[0] != '\0' ? geo.country_iso_code : NULL,
        };
        int rule = allowlist_match(&en->allow, &s);
        if (rule >= 0) {
            return suppress(en, rule);
        }
    }
    if (en->ptr != NULL) {
        ptr_resolver_request(en->ptr, &query->src);
    }
    return false;
}

void enrichment_note_response(struct enrichment *en, const struct dns_message *response)
{
    if (en->ptr == NULL || response->wire == NULL || !response->has_question ||
        DNS_RCODE(response->flags) != 0) {
        return;
    }
    struct addr client;
    if (dns_answers_reverse_addr(response->qname, response->qname_len, &client) != 0) {
        return;
    }
    struct dns_ptr_answer answer;
    if (dns_answers_find_ptr(response->wire, response->wire_len, response->records_offset,
                             response->ancount, response->qname, response->qname_len,
                             &answer) != 0) {
        return;
    }
    char name[PTR_NAME_MAX];
    dns_name_format(answer.target, answer.target_len, name, sizeof(name));
    ptr_cache_store(en->ptr, &client, name, answer.ttl);
}

const char *enrichment_client_domain(struct enrichment *en, const struct addr *client)
{
    if (en == NULL || en->ptr == NULL) {
        return NULL;
    }
    return ptr_cache_registered_domain(en->ptr, client, en->psl);
}

static void fill_intel(struct enrichment *en, const struct dns_message *query,
                       struct alert_enrichment *out)
{
    struct intel_match matches[ENRICH_INTEL_MATCH_MAX];
    size_t n = intel_match(en->intel, query, matches, ENRICH_INTEL_MATCH_MAX);
    for (size_t i = 0; i < n; i++) {
        struct alert_intel *ai = &out->intel[i];
        snprintf(ai->provider, sizeof(ai->provider), "%s", matches[i].list->name);
        ai->confidence = enrich_severity_confidence(matches[i].list->severity);
        ai->field = matches[i].field;
        ai->type = matches[i].type;
        memcpy(ai->indicator, matches[i].indicator, sizeof(ai->indicator));
    }
    out->intel_count = n;
    if (n > 0) {
        en->stats.intel_alerts++;
    }
}

static void fill_domain(struct enrichment *en, const struct dns_message *query,
                        struct alert_enrichment *out)
{
    if (!ptr_resolver_result(en->ptr, &query->src, out->domain, sizeof(out->domain))) {
        return;
    }
    out->has_domain = true;
    const char *registered = psl_registrable_domain(en->psl, out->domain);
    snprintf(out->registered_domain, sizeof(out->registered_domain), "%s",
             registered != NULL ? registered : "");
}

bool enrichment_fill(struct enrichment *en, const struct dns_message *query,
                     struct alert_enrichment *out)
{
    memset(out, 0, sizeof(*out));
    if (en->intel != NULL) {
        fill_intel(en, query, out);
    }
    if (en->geoip != NULL) {
        geoip_lookup(en->geoip, &query->src, &out->geo);
        out->has_geo = true;
    }
    if (en->ptr != NULL) {
        fill_domain(en, query, out);
    }
    if (en->hours.enabled) {
        out->has_hours = hours_check(&en->hours, query->ts_sec, &out->business_hours,
                                     out->local_time, sizeof(out->local_time));
    }

    /* Name rules can only be decided now that the reverse name is known. */
    if (out->has_domain && allowlist_has_kind(&en->allow, ALLOW_NAME)) {
        struct allow_subject s = {
            .client = &query->src, .server = &query->dst, .domain = out->domain,
        };
        int rule = allowlist_match(&en->allow, &s);
        if (rule >= 0 && en->allow.rules[rule].kind == ALLOW_NAME) {
            suppress(en, rule);
            return false;
        }
    }
    return true;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void enrichment_tick(struct enrichment *en, intel_report_fn report, void *ctx)
{
    if (en == NULL || en->intel == NULL) {
        return;
    }
    if (enrichment_reload_requested) {
        enrichment_reload_requested = 0;
        en->stats.reloads++;
        en->stats.reload_errors += intel_reload(en->intel, false, report, ctx);
        return;
    }
    if (en->cfg->intel_watch) {
        en->stats.reload_errors += intel_watch_poll(en->intel, monotonic_ms(), report, ctx);
    }
}

void enrichment_reload(struct enrichment *en, intel_report_fn report, void *ctx)
{
    if (en == NULL || en->intel == NULL) {
        return;
    }
    en->stats.reloads++;
    en->stats.reload_errors += intel_reload(en->intel, false, report, ctx);
}

static void on_sighup(int sig)
{
    (void)sig;
    enrichment_reload_requested = 1;
}

void enrichment_install_sighup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sighup;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
}

const struct enrichment_stats *enrichment_stats(const struct enrichment *en)
{
    return &en->stats;
}

static void print_line(FILE *out, const char *label, uint64_t value)
{
    fprintf(out, "  %-32s %" PRIu64 "\n", label, value);
}

void enrichment_print_summary(const struct enrichment *en, FILE *out)
{
    if (en == NULL) {
        return;
    }
    print_line(out, "clients suppressed", en->stats.suppressed);
    for (size_t i = 0; i < en->allow.count; i++) {
        char label[ALLOW_RULE_NAME_MAX + 32];
        snprintf(label, sizeof(label), "suppressed by %s", en->allow.rules[i].name);
        print_line(out, label, en->allow.hits[i]);
    }
    if (en->intel != NULL) {
        print_line(out, "alerts with intel matches", en->stats.intel_alerts);
        print_line(out, "intel reloads", en->stats.reloads);
        print_line(out, "intel lists failed to reload", en->stats.reload_errors);
    }
    if (en->ptr != NULL) {
        const struct ptr_stats *p = ptr_resolver_stats(en->ptr);
        print_line(out, "ptr queries", p->queries);
        print_line(out, "ptr names", p->answers);
        print_line(out, "ptr timeouts", p->timeouts);
        print_line(out, "ptr rate limited", p->rate_limited);
        print_line(out, "ptr cache hits", p->cache_hits);
        print_line(out, "ptr names from traffic", p->traffic_names);
    }
}
