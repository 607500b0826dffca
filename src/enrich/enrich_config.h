/* SPDX-License-Identifier: MIT */
/*
 * enrich_config.h - setters and printers of the enrichment settings, used by
 * the settings table in daemon/config_table.c.
 *
 * Every setter checks the syntax of its value at once, so check-config
 * rejects a bad allow rule or business-hours value before anything runs.
 * Files named by the settings are read only when "run" starts.
 */
#pragma once

#include <stddef.h>

#include "daemon/config.h"

/* Maximum length of a list name in intel-domains, intel-addresses and intel-severity. */
#define ENRICH_LIST_NAME_MAX 64

/* Intel severities, from "intel-severity = NAME=low|medium|high". */
enum intel_severity {
    INTEL_SEVERITY_NONE = 0, /* not configured */
    INTEL_SEVERITY_LOW,
    INTEL_SEVERITY_MEDIUM,
    INTEL_SEVERITY_HIGH,
};

/*
 * Split "[NAME=]FILE" into @p name (ENRICH_LIST_NAME_MAX bytes) and the
 * file path, which points into @p spec. Without "NAME=" the name is the
 * file's base name without its extension. Returns 0 or DF_EPARSE.
 */
int enrich_list_spec_split(const char *spec, char *name, const char **path);

/* Parse "low", "medium" or "high". Returns 0 or DF_EPARSE. */
int enrich_severity_parse(const char *word, enum intel_severity *out);

/* Severity word for an alert: "Low", "Medium", "High", or NULL for none. */
const char *enrich_severity_confidence(enum intel_severity sev);

int enrich_set_intel_domains(struct config *cfg, const struct config_setting *s,
                             const char *value, char *err, size_t err_size);
int enrich_set_intel_addresses(struct config *cfg, const struct config_setting *s,
                               const char *value, char *err, size_t err_size);
int enrich_set_intel_severity(struct config *cfg, const struct config_setting *s,
                              const char *value, char *err, size_t err_size);
int enrich_set_holiday(struct config *cfg, const struct config_setting *s, const char *value,
                       char *err, size_t err_size);
int enrich_set_allow(struct config *cfg, const struct config_setting *s, const char *value,
                     char *err, size_t err_size);
int enrich_set_business_hours(struct config *cfg, const struct config_setting *s,
                              const char *value, char *err, size_t err_size);
int enrich_set_ptr_resolver(struct config *cfg, const struct config_setting *s,
                            const char *value, char *err, size_t err_size);

/* Printers of the list settings: items joined by ", ". */
void enrich_format_intel_domains(const struct config *cfg, const struct config_setting *s,
                                 char *buf, size_t size);
void enrich_format_intel_addresses(const struct config *cfg, const struct config_setting *s,
                                   char *buf, size_t size);
void enrich_format_intel_severity(const struct config *cfg, const struct config_setting *s,
                                  char *buf, size_t size);
void enrich_format_holiday(const struct config *cfg, const struct config_setting *s,
                           char *buf, size_t size);
void enrich_format_allow(const struct config *cfg, const struct config_setting *s,
                         char *buf, size_t size);
