/* SPDX-License-Identifier: MIT */
/*
 * config.h - every setting of dnsfirst, from one table.
 *
 * The table in config_table.c lists each setting once: name (the config file
 * key), command-line flag, type, default, bounds and help text. The config
 * file parser, the command-line parser, check-config and the settings
 * reference in the README are all produced from that table.
 *
 * The config file is INI-style text read with inih: "key = value" lines,
 * comments on lines that start with "#" or ";", and " ;" comments after a
 * value. Keys that take lists (internal, internal-add, dns-port) may repeat,
 * and each line may also list several values separated by commas.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/addr.h"

#define CONFIG_INTERNAL_MAX 256
#define CONFIG_PORTS_MAX 32
#define CONFIG_DOH_SERVERS_MAX 16 /* as DECODER_DOH_SERVERS_MAX */
#define CONFIG_INPUTS_MAX 64
#define CONFIG_DNSTAP_MAX 16
#define CONFIG_DNSTAP_TEXT_MAX 128 /* "unix:" and a socket path of up to 107 bytes */
#define CONFIG_INTERFACES_MAX 16
#define CONFIG_ENRICH_LISTS_MAX 32  /* intel-domains, intel-addresses, intel-severity */
#define CONFIG_ENRICH_ITEM_MAX 512  /* one such item, or one allow rule, as text */
#define CONFIG_HOLIDAYS_MAX 128
#define CONFIG_ALLOW_MAX 128

enum scope_mode {
    SCOPE_SERVER = 0, /* a client is new to one server address */
    SCOPE_SITE = 1,   /* a client is new to every server this sensor watches */
};

/* Client identity: the key that a client counts under (src/detect/client_domain.h). */
enum client_key_mode {
    CLIENT_KEY_ADDRESS = 0,    /* its address prefix */
    CLIENT_KEY_PTR_DOMAIN = 1, /* the registrable domain of its reverse name, when cached */
};

struct config {
    /* Detection. */
    enum scope_mode scope;
    int64_t learning_period_s; /* 0 disables the learning period */
    int64_t expiry_s;          /* forget clients unseen this long */
    int64_t response_wait_ms;  /* capture time an alert waits for the response */
    size_t internal_count;
    struct prefix internal[CONFIG_INTERNAL_MAX];
    size_t dns_port_count;
    uint16_t dns_ports[CONFIG_PORTS_MAX];
    size_t doh_server_count;
    struct addr doh_servers[CONFIG_DOH_SERVERS_MAX];
    size_t dnstap_count; /* dnstap listening sockets, as given: "unix:PATH" */
    char dnstap[CONFIG_DNSTAP_MAX][CONFIG_DNSTAP_TEXT_MAX];
    uint8_t client_prefix_v4;
    uint8_t client_prefix_v6;
    char site_name[64]; /* scope key under SCOPE_SITE */
    enum client_key_mode client_key;

    /* Enrichment and suppression (src/enrich/); list items are kept as text. */
    size_t intel_domains_count;
    char intel_domains[CONFIG_ENRICH_LISTS_MAX][CONFIG_ENRICH_ITEM_MAX];   /* [NAME=]FILE */
    size_t intel_addresses_count;
    char intel_addresses[CONFIG_ENRICH_LISTS_MAX][CONFIG_ENRICH_ITEM_MAX]; /* [NAME=]FILE */
    size_t intel_severity_count;
    char intel_severity[CONFIG_ENRICH_LISTS_MAX][CONFIG_ENRICH_ITEM_MAX];  /* NAME=LEVEL */
    bool intel_watch;            /* reload a list whose file mtime changed */
    char geoip_city[4096];       /* "" = no city database */
    char geoip_country[4096];
    char geoip_asn[4096];
    char ptr_resolver[64];       /* ADDRESS[:PORT]; "" = no reverse lookups */
    int64_t ptr_timeout_ms;      /* wall time an alert waits for its PTR answer */
    uint32_t ptr_rate;           /* PTR queries per second, at most */
    char business_hours[128];    /* "TZ DAYS HH:MM-HH:MM"; "" = off */
    size_t holiday_count;
    char holidays[CONFIG_HOLIDAYS_MAX][16]; /* YYYY-MM-DD */
    size_t allow_count;
    char allow[CONFIG_ALLOW_MAX][CONFIG_ENRICH_ITEM_MAX]; /* [RULE:] MATCH [@SERVER] */
    bool learn_only;    /* run --learn: record without alerting */

    /* Baseline store. */
    char state_path[4096];
    int64_t flush_interval_s;   /* capture time between last-seen flushes */
    uint32_t store_batch_max;   /* rows per transaction, at most */
    uint32_t store_queue_max;   /* rows waiting for the writer thread */
    uint32_t max_clients;       /* clients kept in memory, at most */

    /* Output. */
    char output_path[4096]; /* "" or "-" is standard output */
    int log_level;          /* syslog level, 3 (err) to 7 (debug) */

    /* Inputs of "run" and "decode" (command line only). */
    size_t input_count;
    const char *inputs[CONFIG_INPUTS_MAX];

    /* "internal = none" was given: no address is internal, on purpose. */
    bool internal_none;

    /*
     * Parser state for lists, reset by config_source_begin(). Within one
     * source (a file, the command line) the first "internal" or "dns-port"
     * replaces the list that earlier sources or the defaults built, and
     * later ones add to it.
     */
    uint8_t lists_replaced;    /* CONFIG_LIST_* bits */
    size_t internal_inherited; /* internal[] entries from earlier sources */

    /* Live capture and sensor operation (run -i), see src/input/live_input.h. */
    size_t interface_count;
    char interfaces[CONFIG_INTERFACES_MAX][16]; /* IFNAMSIZ */
    char bpf_filter[1024];       /* "" = built from dns-port, fragments included */
    uint32_t snaplen;            /* bytes kept of each packet */
    uint32_t buffer_size_mib;    /* kernel ring per capture thread, MiB */
    bool promiscuous;
    uint32_t workers;            /* capture threads per interface */
    char user[64];               /* "" = keep the starting user */
    bool allow_root;             /* decode packets as root on purpose */
    uint32_t memory_limit_mib;   /* 0 = no limit; else table caps derive from it */
    uint32_t storm_threshold;    /* new clients per minute per scope that start a storm */
    int64_t storm_interval_s;    /* wall time between aggregated storm alerts */
    char metrics_address[128];   /* "" = off; "PORT" or "ADDRESS:PORT" */
    int64_t stats_interval_s;    /* wall time between stats lines; 0 = never */
};

#define CONFIG_LIST_INTERNAL 0x1
#define CONFIG_LIST_DNS_PORT 0x2
#define CONFIG_LIST_DNSTAP 0x4
#define CONFIG_LIST_INTERFACE 0x8

/* Durations are capped so that capture time plus a duration cannot overflow. */
#define CONFIG_DURATION_MAX_S (36500 * INT64_C(86400)) /* 36500d, about 100 years */

enum config_type {
    CONFIG_TYPE_ENUM,        /* one word from a fixed list */
    CONFIG_TYPE_DURATION,    /* seconds; "90s", "90m", "24h", "7d", bare number = s */
    CONFIG_TYPE_DURATION_MS, /* milliseconds; "500ms", "2s", bare number = ms */
    CONFIG_TYPE_UINT,        /* unsigned integer within bounds */
    CONFIG_TYPE_CIDR_LIST,   /* prefixes such as 10.0.0.0/8 */
    CONFIG_TYPE_PORT_LIST,   /* port numbers 1 to 65535 */
    CONFIG_TYPE_PATH,
    CONFIG_TYPE_STRING,
    CONFIG_TYPE_BOOL,        /* true/false, yes/no, on/off, 1/0 */
};

/* One word of a CONFIG_TYPE_ENUM setting and the value stored for it. */
struct config_choice {
    const char *word;
    int value;
};

/*
 * One setting. The config key is also the long command-line flag:
 * key "learning-period" is the flag --learning-period.
 */
struct config_setting {
    const char *name;
    enum config_type type;
    const char *value_name;   /* placeholder in help text, "DURATION" */
    const char *default_text; /* the default as a user would write it */
    const char *help;         /* one sentence, with the unit */
    bool repeatable;          /* may be given more than once; values add up */

    /*
     * Parse @p value into @p cfg. Returns 0, or DF_ECONFIG with the reason
     * (without the key) in @p err.
     */
    int (*set)(struct config *cfg, const struct config_setting *s, const char *value,
               char *err, size_t err_size);
    /* Write the effective value as config text; NULL for add-only settings. */
    void (*format)(const struct config *cfg, const struct config_setting *s, char *buf,
                   size_t size);

    /* Storage location and bounds, used by the generic setters. */
    size_t offset;                      /* field in struct config */
    size_t field_size;                  /* bytes of that field */
    uint64_t min;                       /* bounds of CONFIG_TYPE_UINT */
    uint64_t max;
    const struct config_choice *choices; /* CONFIG_TYPE_ENUM, ends with a NULL word */
};

/* Number of settings in the table, and the setting at index @p i. */
size_t config_setting_count(void);
const struct config_setting *config_setting_at(size_t i);

/* Return the setting named @p name (key, or flag without the dashes), or NULL. */
const struct config_setting *config_setting_find(const char *name);

/* Fill @p cfg with the defaults of every setting. */
void config_init(struct config *cfg);

/*
 * Start a new source of settings. config_init() and config_load_file() call
 * it, so a caller that applies the defaults, then the file, then the command
 * line needs no call of its own: the command line's first --internal then
 * replaces the file's list.
 */
void config_source_begin(struct config *cfg);

/*
 * Read the config file at @p path into @p cfg. Keys may stand before any
 * section or inside a [dnsfirst] section. On failure writes
 * "FILE:LINE: key 'x': reason" (or "FILE: reason" when the file cannot be
 * read) into @p err, leaves @p cfg unchanged and returns DF_ECONFIG.
 */
int config_load_file(struct config *cfg, const char *path, char *err, size_t err_size);

/*
 * Apply one setting given by its config key (or long flag name without the
 * dashes) and text value, as the config file and the command line do.
 * Returns 0 or DF_ECONFIG with the reason in @p err.
 */
int config_set(struct config *cfg, const char *key, const char *value, char *err,
               size_t err_size);

/* Check settings that depend on each other. Returns 0 or DF_ECONFIG. */
int config_validate(const struct config *cfg, char *err, size_t err_size);

/*
 * Parse "0", "90s", "90m", "24h", "7d" (a bare number is seconds; "ms" is
 * accepted for whole seconds) into seconds, at most CONFIG_DURATION_MAX_S.
 * Returns 0 or DF_EPARSE.
 */
int config_parse_duration(const char *text, int64_t *seconds);

/* Parse "500ms", "2s", "1m" (a bare number is milliseconds) into milliseconds. */
int config_parse_duration_ms(const char *text, int64_t *ms);

/*
 * Write the effective settings as "key = value" lines that load back as a
 * config file. A long list value is split over several lines of its key.
 */
void config_print(const struct config *cfg, FILE *out);

/* Write a Markdown table of every setting: key, flag, default, meaning. */
void config_print_markdown(FILE *out);
