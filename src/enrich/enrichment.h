/* SPDX-License-Identifier: MIT */
/*
 * enrichment.h - everything that enriches or suppresses an alert, behind
 * one small interface for the detector.
 *
 * cmd_run creates one struct enrichment from the config and gives it to the
 * detector (detector_set_enrichment). The detector asks
 * enrichment_suppress_new() when it meets a new client, before it creates
 * the pending alert, and enrichment_fill() when the alert leaves. Between
 * packets the capture loop calls enrichment_tick() for list reloads.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "daemon/config.h"
#include "decode/dns_message.h"
#include "enrich/allowlist.h"
#include "enrich/geoip.h"
#include "enrich/intel.h"
#include "enrich/ptr.h"
#include "output/json_writer.h"

#define ENRICH_INTEL_MATCH_MAX 4

/* One threat.enrichments entry of an alert. */
struct alert_intel {
    char provider[ENRICH_LIST_NAME_MAX]; /* list name */
    const char *confidence;              /* "Low", "Medium", "High" or NULL */
    const char *field;                   /* matched.field */
    const char *type;                    /* indicator.type */
    char indicator[DNS_NAME_MAX * 4 + 1]; /* matched.atomic */
};

/* The enrichment part of one alert; each has_* flag says whether its fields are known. */
struct alert_enrichment {
    size_t intel_count;
    struct alert_intel intel[ENRICH_INTEL_MATCH_MAX];
    bool has_geo;
    struct geoip_result geo;
    bool has_domain;
    char domain[PTR_NAME_MAX];
    char registered_domain[PTR_NAME_MAX]; /* "" when the public suffix list has none */
    bool has_hours;
    bool business_hours;
    char local_time[40];
};

struct enrichment_stats {
    uint64_t suppressed;     /* new clients recorded without an alert by allow rules */
    uint64_t intel_alerts;   /* alerts with at least one intel match */
    uint64_t reloads;        /* intel reloads done */
    uint64_t reload_errors;  /* lists that failed to reload */
};

/* Set by the SIGHUP handler; enrichment_tick() reloads the intel lists. */
extern volatile sig_atomic_t enrichment_reload_requested;

struct enrichment;

/*
 * Build the enrichment from @p cfg: load intel lists, open the GeoIP
 * databases and the PTR socket, parse the allow rules and business hours.
 * Returns 0 (with *out NULL when nothing is configured), or an error with
 * the reason, naming the file, in @p err.
 */
int enrichment_create(const struct config *cfg, struct enrichment **out, char *err,
                      size_t err_size);
void enrichment_destroy(struct enrichment *en);

/* Describe what is loaded, for the start-up log. */
void enrichment_describe(const struct enrichment *en, char *buf, size_t size);

/*
 * Decide whether a new client is suppressed by an allow rule that matches
 * its address, AS number or country (and server). When it is not, starts
 * its PTR lookup. Returns true when suppressed; the rule's count goes up.
 */
bool enrichment_suppress_new(struct enrichment *en, const struct dns_message *query);

/*
 * Take the reverse name from @p response, a response to a PTR query seen in
 * traffic, into the PTR cache with its record's TTL. Call it during the
 * emit callback, while response->wire is valid. Does nothing without a PTR
 * cache (no ptr-resolver and no client-key ptr-domain).
 */
void enrichment_note_response(struct enrichment *en, const struct dns_message *response);

/*
 * Return the registrable domain of the cached reverse name of @p client, or
 * NULL (also when @p en is NULL). Reads the cache only: never waits.
 */
const char *enrichment_client_domain(struct enrichment *en, const struct addr *client);

/*
 * Fill @p out for the alert of @p query. Returns false when an allow rule
 * on the client's reverse name suppresses the alert (its count goes up).
 */
bool enrichment_fill(struct enrichment *en, const struct dns_message *query,
                     struct alert_enrichment *out);

/*
 * Work between packets: a reload after SIGHUP, and with intel-watch a
 * reload of changed files at most once a second. Failures go to @p report.
 */
void enrichment_tick(struct enrichment *en, intel_report_fn report, void *ctx);

/* Reload the intel lists now; a list that fails keeps its old entries. */
void enrichment_reload(struct enrichment *en, intel_report_fn report, void *ctx);

/* Install the SIGHUP handler that sets enrichment_reload_requested. */
void enrichment_install_sighup(void);

const struct enrichment_stats *enrichment_stats(const struct enrichment *en);

/* Print "suppressed RULE N" lines and PTR counters for the summary. */
void enrichment_print_summary(const struct enrichment *en, FILE *out);

/*
 * Write the alert's "source", "destination" and "network" objects, with the
 * enrichment fields inside "source", as ecs_write_endpoints() writes them
 * without enrichment.
 */
void enrich_json_write_endpoints(struct json_writer *w, const struct dns_message *m,
                                 const struct alert_enrichment *e);

/* Write "threat": {"enrichments": [...]} when an intel list matched. */
void enrich_json_write_threat(struct json_writer *w, const struct alert_enrichment *e);

/* Write the dnsfirst.* enrichment members into the open "dnsfirst" object. */
void enrich_json_write_dnsfirst(struct json_writer *w, const struct alert_enrichment *e);
