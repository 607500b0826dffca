/* SPDX-License-Identifier: MIT */
/*
 * intel.h - threat intelligence lists: domain names and address prefixes
 * that alerts are checked against.
 *
 * Domain sets (intel_domains.c) are hash sets of lower-cased wire-form
 * names; a lookup hashes each label suffix of the query name, so its cost
 * grows with the number of labels, not with the list. Address sets
 * (intel_addresses.c) keep one sorted array per family and prefix length;
 * a lookup binary-searches the lengths present, longest first, so the
 * first hit is the longest prefix that matches.
 *
 * intel_lists.c groups the configured lists into one immutable struct
 * intel_set and swaps it for a rebuilt one on reload (see intel_reload()).
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "decode/dns_message.h"
#include "enrich/enrich_config.h"
#include "util/addr.h"

/* What a domain entry matches. Plain lists set both; RPZ sets one per record. */
#define INTEL_MATCH_SELF 0x1       /* the listed name itself */
#define INTEL_MATCH_SUBDOMAINS 0x2 /* names below it ("*.name" in RPZ) */

/* Size of the error text of a load: "FILE:LINE: reason". */
#define INTEL_ERR_MAX 1024

/* ---- domain sets ------------------------------------------------------ */

struct intel_domain_set;

/* Create an empty set. Returns 0 or -ENOMEM. */
int intel_domain_set_create(struct intel_domain_set **out);
void intel_domain_set_free(struct intel_domain_set *set);

/* Entries in the set. */
size_t intel_domain_set_count(const struct intel_domain_set *set);

/*
 * Add the text name @p text of @p len bytes ("example.com", a trailing dot
 * allowed) with INTEL_MATCH_* @p flags, added to the flags of an entry that
 * exists. Returns 0, DF_EPARSE for an invalid name, or -ENOMEM.
 */
int intel_domain_set_add(struct intel_domain_set *set, const char *text, size_t len,
                         uint8_t flags);

/*
 * Look up the wire-form name @p qname (any case). On a match stores in
 * *match_offset the offset in @p qname of the listed name (0 when the name
 * itself is listed) and returns true. The most specific listed name wins.
 */
bool intel_domain_set_lookup(const struct intel_domain_set *set, const uint8_t *qname,
                             size_t qname_len, size_t *match_offset);

/*
 * Read a domain list file; the format of each line is detected by itself:
 * one name per line, hosts file lines ("0.0.0.0 name [name...]"), adblock
 * rules ("||name^"), or RPZ zone records (owner names relative to
 * $ORIGIN, "*.name" for subdomains, SOA and NS records skipped,
 * "CNAME rpz-passthru." skipped). Comments start with "#", ";" or "!".
 * Returns 0, or DF_EPARSE / -errno with "FILE:LINE: reason" in @p err.
 */
int intel_domains_load(const char *path, struct intel_domain_set **out, char *err,
                       size_t err_size);

/* ---- address sets ----------------------------------------------------- */

struct intel_addr_set;

int intel_addr_set_create(struct intel_addr_set **out);
void intel_addr_set_free(struct intel_addr_set *set);
size_t intel_addr_set_count(const struct intel_addr_set *set);

/* Add @p p. Call intel_addr_set_finish() after the last add. Returns 0 or -ENOMEM. */
int intel_addr_set_add(struct intel_addr_set *set, const struct prefix *p);

/* Sort the prefixes and drop duplicates; needed before any lookup. */
void intel_addr_set_finish(struct intel_addr_set *set);

/* Find the longest prefix that contains @p a; stores it in *matched. */
bool intel_addr_set_lookup(const struct intel_addr_set *set, const struct addr *a,
                           struct prefix *matched);

/*
 * Read an address list: one address or CIDR per line, comments after ";"
 * or "#" (Spamhaus DROP "1.2.3.0/24 ; SBL123", FireHOL netsets).
 * Returns 0, or DF_EPARSE / -errno with "FILE:LINE: reason" in @p err.
 */
int intel_addresses_load(const char *path, struct intel_addr_set **out, char *err,
                         size_t err_size);

/* ---- configured lists and reload -------------------------------------- */

enum intel_kind {
    INTEL_KIND_DOMAINS = 0,
    INTEL_KIND_ADDRESSES,
};

/* One loaded list. Immutable once loaded; shared by sets through refs. */
struct intel_list {
    atomic_uint refs;
    enum intel_kind kind;
    char name[ENRICH_LIST_NAME_MAX];
    char path[CONFIG_ENRICH_ITEM_MAX];
    enum intel_severity severity;
    int64_t mtime_ns; /* file modification time when loaded */
    struct intel_domain_set *domains;
    struct intel_addr_set *addresses;
};

/* The lists in force: immutable, replaced as a whole. */
struct intel_set {
    size_t count;
    struct intel_list *lists[2 * CONFIG_ENRICH_LISTS_MAX];
};

/* A list that matched one alert. Strings point into the list or the buffers here. */
struct intel_match {
    const struct intel_list *list;
    char indicator[DNS_NAME_MAX * 4 + 1]; /* listed name, or prefix as text */
    const char *field;                    /* "dns.question.name" or "source.ip" */
    const char *type;                     /* "domain-name", "ipv4-addr", "ipv6-addr" */
};

struct intel {
    _Atomic(struct intel_set *) current;
    const struct config *cfg;
    bool watch;
    int64_t next_watch_ms; /* wall clock of the next mtime check */
};

/* Report one list that failed to reload; @p message is "FILE:LINE: reason". */
typedef void (*intel_report_fn)(void *ctx, const char *message);

/*
 * Load every list named in @p cfg. Any list that fails is an error: the
 * message is in @p err. Returns 0, DF_EPARSE, -errno or -ENOMEM.
 */
int intel_create(const struct config *cfg, struct intel **out, char *err, size_t err_size);
void intel_destroy(struct intel *in);

/*
 * Rebuild the lists into a new set and swap it in. A list that fails to
 * load keeps its old contents, and @p report is called with the reason.
 * With @p only_changed, lists whose file mtime is unchanged are kept
 * without reading them. Returns the number of lists that failed.
 *
 * Threads: readers take intel->current with an acquire load and use it
 * until they return to their packet loop. The old set is freed right after
 * the swap, which is safe only because the one thread that reads the set is
 * the one that calls intel_reload(), between packets. With several packet
 * threads the old set must wait until each thread has passed a quiescent
 * point (RCU style) before intel_set_release() frees it.
 */
size_t intel_reload(struct intel *in, bool only_changed, intel_report_fn report, void *ctx);

/*
 * With intel-watch on, reload lists whose file changed, at most once per
 * second of the wall clock @p now_ms. Returns the number that failed.
 */
size_t intel_watch_poll(struct intel *in, int64_t now_ms, intel_report_fn report, void *ctx);

/* Total entries and lists in force, for the start-up log. */
void intel_counts(const struct intel *in, size_t *lists, size_t *entries);

/*
 * Check the query name and the client address of @p m against every list.
 * Writes at most @p max matches, one per list, and returns their number.
 */
size_t intel_match(const struct intel *in, const struct dns_message *m,
                   struct intel_match *out, size_t max);
