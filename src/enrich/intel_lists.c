/* SPDX-License-Identifier: MIT */
/*
 * intel_lists.c - the configured intel lists as one immutable set, and its
 * reload.
 *
 * A struct intel_set holds references to loaded lists. A reload builds a new
 * set: each list whose file loads is replaced, each that fails is carried
 * over with one more reference. The new set is published with an atomic
 * exchange (release order), and readers load the pointer with acquire
 * order, so they see either the whole old set or the whole new one.
 */
#include "enrich/intel.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/dns_text.h"
#include "util/error.h"

static void list_release(struct intel_list *list)
{
    if (list == NULL || atomic_fetch_sub(&list->refs, 1) != 1) {
        return;
    }
    intel_domain_set_free(list->domains);
    intel_addr_set_free(list->addresses);
    free(list);
}

static void set_release(struct intel_set *set)
{
    if (set == NULL) {
        return;
    }
    for (size_t i = 0; i < set->count; i++) {
        list_release(set->lists[i]);
    }
    free(set);
}

/* File modification time in ns, or 0 when stat fails. */
static int64_t file_mtime_ns(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return 0;
    }
    return (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

static enum intel_severity configured_severity(const struct config *cfg, const char *name)
{
    enum intel_severity sev = INTEL_SEVERITY_NONE;
    size_t name_len = strlen(name);
    for (size_t i = 0; i < cfg->intel_severity_count; i++) {
        const char *item = cfg->intel_severity[i];
        if (strncmp(item, name, name_len) == 0 && item[name_len] == '=') {
            enrich_severity_parse(item + name_len + 1, &sev);
        }
    }
    return sev;
}

/* Read the list named by @p spec ("[NAME=]FILE") into a new list with one reference. */
static int list_load(const struct config *cfg, enum intel_kind kind, const char *spec,
                     struct intel_list **out, char *err, size_t err_size)
{
    struct intel_list *list = calloc(1, sizeof(*list));
    if (list == NULL) {
        return -ENOMEM;
    }
    const char *path = NULL;
    if (enrich_list_spec_split(spec, list->name, &path) != 0) {
        snprintf(err, err_size, "%s: invalid list name", spec);
        free(list);
        return DF_EPARSE;
    }
    atomic_init(&list->refs, 1);
    list->kind = kind;
    snprintf(list->path, sizeof(list->path), "%s", path);
    list->severity = configured_severity(cfg, list->name);

    /* Take the mtime first: a write during the read then triggers another reload. */
    list->mtime_ns = file_mtime_ns(path);
    int ret = kind == INTEL_KIND_DOMAINS
                  ? intel_domains_load(path, &list->domains, err, err_size)
                  : intel_addresses_load(path, &list->addresses, err, err_size);
    if (ret != 0) {
        free(list);
        return ret;
    }
    *out = list;
    return 0;
}

/* The configured list specs, domains first, in one sequence. */
static size_t spec_count(const struct config *cfg)
{
    return cfg->intel_domains_count + cfg->intel_addresses_count;
}

static const char *spec_at(const struct config *cfg, size_t i, enum intel_kind *kind)
{
    if (i < cfg->intel_domains_count) {
        *kind = INTEL_KIND_DOMAINS;
        return cfg->intel_domains[i];
    }
    *kind = INTEL_KIND_ADDRESSES;
    return cfg->intel_addresses[i - cfg->intel_domains_count];
}

int intel_create(const struct config *cfg, struct intel **out, char *err, size_t err_size)
{
    struct intel *in = calloc(1, sizeof(*in));
    struct intel_set *set = calloc(1, sizeof(*set));
    if (in == NULL || set == NULL) {
        free(in);
        free(set);
        return -ENOMEM;
    }
    for (size_t i = 0; i < spec_count(cfg); i++) {
        enum intel_kind kind;
        const char *spec = spec_at(cfg, i, &kind);
        int ret = list_load(cfg, kind, spec, &set->lists[set->count], err, err_size);
        if (ret != 0) {
            set_release(set);
            free(in);
            return ret;
        }
        set->count++;
    }
    in->cfg = cfg;
    in->watch = cfg->intel_watch;
    atomic_init(&in->current, set);
    *out = in;
    return 0;
}

void intel_destroy(struct intel *in)
{
    if (in == NULL) {
        return;
    }
    set_release(atomic_load(&in->current));
    free(in);
}

size_t intel_reload(struct intel *in, bool only_changed, intel_report_fn report, void *ctx)
{
    struct intel_set *old = atomic_load_explicit(&in->current, memory_order_acquire);
    struct intel_set *set = calloc(1, sizeof(*set));
    if (set == NULL) {
        report(ctx, "intel lists: out of memory, keeping the loaded lists");
        return old->count;
    }

    size_t failed = 0;
    for (size_t i = 0; i < old->count; i++) {
        struct intel_list *list = old->lists[i];
        struct intel_list *fresh = NULL;
        char err[INTEL_ERR_MAX];
        if (only_changed && file_mtime_ns(list->path) == list->mtime_ns) {
            atomic_fetch_add(&list->refs, 1);
            set->lists[set->count++] = list;
            continue;
        }
        enum intel_kind kind;
        const char *spec = spec_at(in->cfg, i, &kind);
        if (list_load(in->cfg, kind, spec, &fresh, err, sizeof(err)) != 0) {
            /* Keep the old contents; remember the new mtime so a watch does
             * not retry the same broken file every second. */
            report(ctx, err);
            failed++;
            atomic_fetch_add(&list->refs, 1);
            set->lists[set->count++] = list;
            list->mtime_ns = file_mtime_ns(list->path);
            continue;
        }
        set->lists[set->count++] = fresh;
    }

    /* Publish, then free the old set: see intel.h for why this is safe here. */
    old = atomic_exchange_explicit(&in->current, set, memory_order_acq_rel);
    set_release(old);
    return failed;
}

size_t intel_watch_poll(struct intel *in, int64_t now_ms, intel_report_fn report, void *ctx)
{
    if (!in->watch || now_ms < in->next_watch_ms) {
        return 0;
    }
    in->next_watch_ms = now_ms + 1000;
    struct intel_set *set = atomic_load_explicit(&in->current, memory_order_acquire);
    for (size_t i = 0; i < set->count; i++) {
        if (file_mtime_ns(set->lists[i]->path) != set->lists[i]->mtime_ns) {
            return intel_reload(in, true, report, ctx);
        }
    }
    return 0;
}

void intel_counts(const struct intel *in, size_t *lists, size_t *entries)
{
    const struct intel_set *set = atomic_load_explicit(&in->current, memory_order_acquire);
    *lists = set->count;
    *entries = 0;
    for (size_t i = 0; i < set->count; i++) {
        const struct intel_list *l = set->lists[i];
        *entries += l->domains != NULL ? intel_domain_set_count(l->domains)
                                       : intel_addr_set_count(l->addresses);
    }
}

static bool match_domain(const struct intel_list *l, const struct dns_message *m,
                         struct intel_match *out)
{
    size_t offset = 0;
    if (!m->has_question ||
        !intel_domain_set_lookup(l->domains, m->qname, m->qname_len, &offset)) {
        return false;
    }
    dns_name_format(m->qname + offset, m->qname_len - offset, out->indicator,
                    sizeof(out->indicator));
    for (char *p = out->indicator; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    out->field = "dns.question.name";
    out->type = "domain-name";
    return true;
}

static bool match_address(const struct intel_list *l, const struct dns_message *m,
                          struct intel_match *out)
{
    struct prefix p;
    if (!intel_addr_set_lookup(l->addresses, &m->src, &p)) {
        return false;
    }
    prefix_format(&p, out->indicator, sizeof(out->indicator));
    out->field = "source.ip";
    out->type = m->src.family == ADDR_FAMILY_IPV4 ? "ipv4-addr" : "ipv6-addr";
    return true;
}

size_t intel_match(const struct intel *in, const struct dns_message *m,
                   struct intel_match *out, size_t max)
{
    const struct intel_set *set = atomic_load_explicit(&in->current, memory_order_acquire);
    size_t n = 0;
    for (size_t i = 0; i < set->count && n < max; i++) {
        const struct intel_list *l = set->lists[i];
        bool hit = l->kind == INTEL_KIND_DOMAINS ? match_domain(l, m, &out[n])
                                                 : match_address(l, m, &out[n]);
        if (hit) {
            out[n++].list = l;
        }
    }
    return n;
}
