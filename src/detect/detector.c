/* SPDX-License-Identifier: MIT */
#include "detect/detector.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/dns_text.h"
#include "decode/dns_answers.h"
#include "detect/client_domain.h"
#include "detect/client_snapshot.h"
#include "detect/client_table.h"
#include "detect/networks.h"
#include "detect/pending.h"
#include "detect/scope.h"
#include "detect/storm.h"
#include "enrich/enrichment.h"
#include "output/alert.h"
#include "util/error.h"

#define NS_PER_SEC 1000000000LL

/* networks_init() indexes at most NETWORKS_MAX prefixes per family. */
_Static_assert(CONFIG_INTERNAL_MAX <= NETWORKS_MAX, "internal networks past the index");

/* Alerts waiting for responses at once; see pending.h for what happens past it. */
#define PENDING_CAPACITY DETECTOR_PENDING_MAX

struct detector {
    const struct config *cfg;
    struct store *store;
    struct networks internal;
    struct scope_registry scopes;
    struct client_table clients;
    struct client_domains domains; /* text of domain keys (client-key ptr-domain) */
    struct pending_queue pending;
    struct storm storm;
    struct enrichment *enrichment; /* NULL = no enrichment or allow rules */

    int64_t now_ns;          /* latest capture time seen */
    int64_t next_second_ns;  /* the clock's second changes at or after this time */
    int64_t storm_sec;       /* detector time of the last storm tick */
    int64_t flush_sec;       /* capture second of the last flush step; INT64_MIN before */
    uint64_t flush_cursor;   /* next slot the flush visits */
    const char *const *input_names;
    size_t input_count;
    int first_error;         /* first store error, reported by detector_finish */
    uint8_t dns_ports[65536 / 8];
    char load_scope_key[STORE_KEY_MAX]; /* scope of the last row loaded */
    uint32_t load_scope_id;
    struct detector_stats stats;
    char snapshot_path[4096];  /* "" = no snapshot of the client table */
    const char *snapshot_note; /* why the snapshot was not used or written */
    uint64_t snapshot_generation; /* of the snapshot loaded, when snapshot_loaded */
    bool snapshot_loaded;
    char snapshot_error[160];
};

static void release_alert(void *ctx, struct pending_alert *a);
static int submit_storm_row(void *ctx, uint32_t scope, const struct store_client *row,
                            const struct storm_report *report);

int detector_create(const struct config *cfg, struct store *st, struct detector **out)
{
    struct detector *det = calloc(1, sizeof(*det));
    if (det == NULL) {
        return -ENOMEM;
    }
    det->cfg = cfg;
    det->store = st;
    networks_init(&det->internal, cfg->internal, cfg->internal_count);
    for (size_t i = 0; i < cfg->dns_port_count; i++) {
        det->dns_ports[cfg->dns_ports[i] / 8] |= (uint8_t)(1u << (cfg->dns_ports[i] % 8));
    }
    det->flush_sec = INT64_MIN;
    storm_init(&det->storm, cfg->storm_threshold, cfg->storm_interval_s, submit_storm_row, det);

    int ret = scope_registry_init(&det->scopes, cfg->scope, cfg->site_name);
    if (ret == 0) {
        ret = client_table_init(&det->clients, 0, cfg->max_clients);
        client_domains_init(&det->domains, cfg->max_clients);
    }
    if (ret == 0) {
        ret = pending_init(&det->pending, PENDING_CAPACITY, release_alert, det);
    }
    if (ret != 0) {
        detector_destroy(det);
        return ret;
    }
    *out = det;
    return 0;
}

void detector_destroy(struct detector *det)
{
    if (det == NULL) {
        return;
    }
    pending_free(&det->pending);
    storm_free(&det->storm);
    client_table_free(&det->clients);
    client_domains_free(&det->domains);
    scope_registry_free(&det->scopes);
    free(det);
}

void detector_set_enrichment(struct detector *det, struct enrichment *en)
{
    det->enrichment = en;
}

void detector_set_inputs(struct detector *det, const char *const *names, size_t count)
{
    det->input_names = names;
    det->input_count = count;
}

const struct detector_stats *detector_stats(const struct detector *det)
{
    return &det->stats;
}

static void note_store_error(struct detector *det, int ret)
{
    if (ret != 0) {
        det->stats.store_errors++;
        if (det->first_error == 0) {
            det->first_error = ret;
        }
    }
}

/* ---- snapshot of the client table ------------------------------------ */

void detector_use_snapshot(struct detector *det, const char *state_path)
{
    int n = snprintf(det->snapshot_path, sizeof(det->snapshot_path), "%s%s", state_path,
                     CLIENT_SNAPSHOT_SUFFIX);
    if (n < 0 || (size_t)n >= sizeof(det->snapshot_path)) {
        det->snapshot_path[0] = '\0';
    }
}

const char *detector_snapshot_path(const struct detector *det)
{
    return det->snapshot_path[0] != '\0' ? det->snapshot_path : NULL;
}

const char *detector_snapshot_note(const struct detector *det)
{
    return det->snapshot_note;
}

/* Load the table from the snapshot: 1 when used, 0 when not, or a negative code. */
static int snapshot_load(struct detector *det)
{
    uint64_t generation = 0;
    det->snapshot_note = NULL;
    if (det->snapshot_path[0] == '\0') {
        return 0;
    }
    if (det->store->ops->generation == NULL ||
        det->store->ops->generation(det->store, &generation) != 0) {
        det->snapshot_note = "the baseline keeps no generation";
        return 0;
    }
    if (client_snapshot_read(det->snapshot_path, generation, &det->clients, &det->scopes,
                             &det->snapshot_note) != 0) {
        /* A rejected file may have registered some of its scopes. */
        scope_registry_free(&det->scopes);
        return scope_registry_init(&det->scopes, det->cfg->scope, det->cfg->site_name);
    }
    det->stats.clients_loaded = det->clients.count;
    det->snapshot_generation = generation;
    det->snapshot_loaded = true;
    return 1;
}

/* Return the reason the table may differ from the baseline's rows, or NULL when it matches them. */
static const char *snapshot_mismatch(const struct detector *det)
{
    if (det->first_error != 0) {
        return "the baseline reported an error";
    }
    if (det->stats.table_full > 0 || det->stats.clients_evicted > 0) {
        return "the table did not hold every client (max-clients)";
    }
    if (det->domains.count > 0) {
        return "domain client keys are not kept in a snapshot";
    }
    return NULL;
}

/*
 * Start the snapshot before the last flush, when one may be written, so
 * that its slots are written while the writer commits the flush. A
 * baseline unchanged since its snapshot was loaded starts none here: if
 * the flush changes it, snapshot_save() writes the file in one go.
 */
static struct client_snapshot_writer *snapshot_begin(struct detector *det, int *ret)
{
    uint64_t generation = 0;
    *ret = 0;
    if (det->snapshot_path[0] == '\0' || snapshot_mismatch(det) != NULL ||
        det->store->ops->generation == NULL ||
        det->store->ops->generation(det->store, &generation) != 0 ||
        (det->snapshot_loaded && generation == det->snapshot_generation)) {
        return NULL;
    }
    struct client_snapshot_writer *w = NULL;
    *ret = client_snapshot_begin(det->snapshot_path, &det->clients, &det->scopes, &w);
    return w;
}

/*
 * Finish the snapshot after the last sync. When the table contains exactly
 * the baseline's clients, commit @p w with the store's generation, or
 * write the whole file when @p w is NULL. Otherwise remove an older
 * snapshot. @p begin_ret is what snapshot_begin() returned.
 */
static void snapshot_save(struct detector *det, struct client_snapshot_writer *w, int begin_ret)
{
    uint64_t generation = 0;
    if (det->snapshot_path[0] == '\0') {
        return;
    }
    det->snapshot_note = snapshot_mismatch(det);
    if (det->snapshot_note == NULL && (det->store->ops->generation == NULL ||
                                       det->store->ops->generation(det->store, &generation) != 0)) {
        det->snapshot_note = "the baseline keeps no generation";
    }
    if (det->snapshot_note != NULL) {
        client_snapshot_abort(w);
        (void)unlink(det->snapshot_path);
        return;
    }

    /* Nothing committed since the load: the file on disk still matches. */
    if (det->snapshot_loaded && generation == det->snapshot_generation) {
        client_snapshot_abort(w);
        det->snapshot_note = "the baseline did not change since the load, so it is still valid";
        return;
    }
    int ret = begin_ret;
    if (ret == 0) {
        ret = w != NULL ? client_snapshot_commit(w, generation)
                        : client_snapshot_write(det->snapshot_path, &det->clients, &det->scopes,
                                                generation);
    }
    if (ret != 0) {
        snprintf(det->snapshot_error, sizeof(det->snapshot_error), "cannot write the file (%s)",
                 df_strerror(ret));
        det->snapshot_note = det->snapshot_error;
        (void)unlink(det->snapshot_path);
    }
}

/* ---- loading ---------------------------------------------------------- */

static int load_row(void *ctx, const struct store_client *row)
{
    struct detector *det = ctx;

    /* Rows come in (scope, client) order, so the scope of the last row is
     * nearly always this one's. Rows of the other scope mode, or of a
     * different site, stay on disk. */
    uint32_t scope = det->load_scope_id;
    if (strcmp(row->scope, det->load_scope_key) != 0) {
        scope = scope_registry_lookup_key(&det->scopes, row->scope);
        snprintf(det->load_scope_key, sizeof(det->load_scope_key), "%s", row->scope);
        det->load_scope_id = scope;
    }
    struct prefix key;
    /* A client text that does not parse as a prefix is a domain key (client-key ptr-domain). */
    if (scope == 0 || (prefix_parse(row->client, &key) != 0 &&
                       client_domains_key(&det->domains, row->client, &key) != 0)) {
        return 0;
    }

    struct client_entry *e = client_table_find(&det->clients, scope, &key);
    if (e == NULL) {
        e = client_table_insert(&det->clients, scope, &key);
    }
    if (e == NULL) {
        det->stats.table_full++;
        return 0;
    }
    e->last_seen = (uint32_t)row->last_seen;
    if (row->flags & STORE_CLIENT_LEARNED) {
        e->flags |= CLIENT_LEARNED;
    }
    if (row->flags & STORE_CLIENT_STORM) {
        e->flags |= CLIENT_STORM;
    }
    det->stats.clients_loaded++;
    return 0;
}

int detector_load(struct detector *det)
{
    int used = snapshot_load(det);
    if (used < 0) {
        return used;
    }
    /* Size the table once instead of doubling it a dozen times during the load. */
    struct store_stats stats;
    if (!used && det->store->ops->stats(det->store, &stats) == 0 && stats.clients > 0) {
        uint64_t expected = stats.clients < det->cfg->max_clients ? stats.clients
                                                                  : det->cfg->max_clients;
        (void)client_table_reserve(&det->clients, expected);
    }

    det->load_scope_key[0] = '\0';
    det->load_scope_id = 0;
    int ret = used ? 0 : det->store->ops->load(det->store, load_row, det);
    if (ret != 0) {
        return ret;
    }

    /* Each scope's learning period continues from when its traffic began. */
    for (uint32_t id = 1; id <= det->scopes.count; id++) {
        struct scope *s = scope_registry_get(&det->scopes, id);
        if (det->store->ops->scope_start_get(det->store, s->key, &s->start) == 0) {
            s->start_known = true;
        }
    }
    return 0;
}

/* ---- alerts ----------------------------------------------------------- */

static const char *scope_mode_name(enum scope_mode mode)
{
    return mode == SCOPE_SITE ? "site" : "server";
}

/* Copy a scope key, cut to @p size - 1 bytes as snprintf("%s") would cut it. */
static void key_copy(char *dst, size_t size, const char *src)
{
    size_t len = strnlen(src, size - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void fill_row(struct detector *det, uint32_t scope, const struct prefix *key,
                     const struct dns_message *query, uint32_t flags, struct store_client *row)
{
    /* Every field is set below or by the memset: first_query stays "" without a question. */
    row->first_query[0] = '\0';
    memset(row, 0, offsetof(struct store_client, first_query));
    key_copy(row->scope, sizeof(row->scope), scope_registry_get(&det->scopes, scope)->key);
    client_domains_format(&det->domains, key, row->client, sizeof(row->client));
    row->first_seen = query->ts_sec;
    row->last_seen = query->ts_sec;
    row->query_count = 1;
    row->flags = flags;
    if (query->has_question) {
        dns_name_format(query->qname, query->qname_len, row->first_query,
                        sizeof(row->first_query));
    }
}

/*
 * Point @p c at the key (@p scope, @p key). The key stays binary unless it
 * is a domain key: its text is kept only in the detector's domain
 * registry, so it is written into @p client_text here.
 */
static void change_key(struct detector *det, uint32_t scope, const struct prefix *key,
                       char client_text[STORE_KEY_MAX], struct store_change *c)
{
    c->scope = scope_registry_get(&det->scopes, scope)->key;
    c->client = *key;
    c->client_text = NULL;
    if (key->addr.family == ADDR_FAMILY_NAME) {
        client_domains_format(&det->domains, key, client_text, STORE_KEY_MAX);
        c->client_text = client_text;
    }
}

/* Submit the row of a client first seen in @p query, without an alert. */
static void submit_new_row(struct detector *det, uint32_t scope, const struct prefix *key,
                           const struct dns_message *query, uint32_t flags)
{
    char client_text[STORE_KEY_MAX];
    struct store_change c = {
        .kind = STORE_CHANGE_NEW,
        .first_seen = query->ts_sec,
        .last_seen = query->ts_sec,
        .query_count = 1,
        .flags = flags,
    };
    change_key(det, scope, key, client_text, &c);
    if (query->has_question) {
        c.first_qname = query->qname;
        c.first_qname_len = query->qname_len;
    }
    note_store_error(det, det->store->ops->submit(det->store, &c, NULL, 0));
}

static const char *input_name(const struct detector *det, const struct dns_message *m)
{
    if (m->origin.input_index < det->input_count) {
        return det->input_names[m->origin.input_index];
    }
    return NULL;
}

/* Called by the pending queue when an alert's response arrived or its wait ended. */
static void release_alert(void *ctx, struct pending_alert *a)
{
    struct detector *det = ctx;
    struct store_client row;
    fill_row(det, a->scope, &a->client_key, &a->query, 0, &row);

    struct alert alert = {
        .query = &a->query,
        .response_seen = a->response_seen,
        .response_rcode = a->response_rcode,
        .response_flags = a->response_flags,
        .response_answers = a->response_answers,
        .scope_mode = scope_mode_name(det->cfg->scope),
        .scope_key = row.scope,
        .client_key = row.client,
        .input_name = input_name(det, &a->query),
        .baseline_size = a->baseline_size,
    };

    /* An allow rule on the client's reverse name records the row without the alert. */
    struct alert_enrichment enrichment;
    if (det->enrichment != NULL) {
        if (!enrichment_fill(det->enrichment, &a->query, &enrichment)) {
            det->stats.clients_new--; /* counted when the alert was queued */
            det->stats.clients_suppressed++;
            note_store_error(det, store_submit_row(det->store, &row, NULL, 0));
            return;
        }
        alert.enrichment = &enrichment;
    }
    char json[ALERT_JSON_MAX];
    size_t len = alert_json_format(&alert, json, sizeof(json));
    if (len == 0) {
        note_store_error(det, DF_EOUTPUT);
        return;
    }
    note_store_error(det, store_submit_row(det->store, &row, json, len));
}

/* Called by storm control with each storm row and, once per interval, its alert. */
static int submit_storm_row(void *ctx, uint32_t scope, const struct store_client *row,
                            const struct storm_report *report)
{
    struct detector *det = ctx;
    if (report == NULL) {
        return store_submit_row(det->store, row, NULL, 0);
    }

    char json[ALERT_JSON_MAX];
    const char *key = scope_registry_get(&det->scopes, scope)->key;
    size_t len = storm_report_json(report, scope_mode_name(det->cfg->scope), key,
                                   det->cfg->scope == SCOPE_SERVER, json, sizeof(json));
    if (len == 0) {
        note_store_error(det, store_submit_row(det->store, row, NULL, 0));
        return DF_EOUTPUT;
    }
    det->stats.storm_alerts++;
    return store_submit_row(det->store, row, json, len);
}

void detector_set_storm_events(struct detector *det, storm_event_fn fn, void *ctx)
{
    det->storm.event = fn;
    det->storm.event_ctx = ctx;
}

const char *detector_scope_key(struct detector *det, uint32_t scope_id)
{
    return scope_registry_get(&det->scopes, scope_id)->key;
}

void detector_reconfigure(struct detector *det, const struct config *cfg)
{
    det->cfg = cfg;
    storm_configure(&det->storm, cfg->storm_threshold, cfg->storm_interval_s);

    /* The old config is freed after this: nothing may still point into it. */
    networks_init(&det->internal, cfg->internal, cfg->internal_count);
    memset(det->dns_ports, 0, sizeof(det->dns_ports));
    for (size_t i = 0; i < cfg->dns_port_count; i++) {
        det->dns_ports[cfg->dns_ports[i] / 8] |= (uint8_t)(1u << (cfg->dns_ports[i] % 8));
    }
}

size_t detector_client_count(const struct detector *det)
{
    return det->clients.count;
}

/* ---- per query -------------------------------------------------------- */

static int64_t message_time_ns(const struct dns_message *m)
{
    return m->ts_sec * NS_PER_SEC + m->ts_nsec;
}

/* Resolve the scope of a query, starting its learning period when new. */
static struct scope *query_scope(struct detector *det, const struct dns_message *m,
                                 uint32_t *id)
{
    bool created = false;
    *id = scope_registry_lookup(&det->scopes, &m->dst, &created);
    if (*id == 0) {
        det->stats.scope_full++;
        return NULL;
    }
    struct scope *s = scope_registry_get(&det->scopes, *id);
    if (created && det->store->ops->scope_start_get(det->store, s->key, &s->start) == 0) {
        s->start_known = true;
    }
    if (!s->start_known) {
        s->start = m->ts_sec;
        s->start_known = true;
        note_store_error(det, det->store->ops->scope_start_set(det->store, s->key, s->start));
    }
    return s;
}

static bool in_learning_period(const struct detector *det, const struct scope *s, int64_t now)
{
    if (det->cfg->learn_only) {
        return true;
    }
    return now < s->start + det->cfg->learning_period_s;
}

static bool is_expired(const struct detector *det, const struct client_entry *e, int64_t now)
{
    return det->cfg->expiry_s > 0 && now - (int64_t)e->last_seen > det->cfg->expiry_s;
}

static void touch_known(struct detector *det, struct client_entry *e, int64_t now)
{
    if (!(e->flags & CLIENT_SEEN_RUN)) {
        e->flags |= CLIENT_SEEN_RUN;
        det->stats.clients_seen++;
    }
    if ((int64_t)e->last_seen < now) {
        e->last_seen = (uint32_t)now;
    }
    e->unflushed++;
    e->flags |= CLIENT_DIRTY;
}

/* A new client during its scope's storm: a flagged row and an aggregated alert. */
static void record_storm(struct detector *det, uint32_t scope_id, const struct prefix *key,
                         struct client_entry *e, const struct dns_message *m)
{
    struct store_client row;
    e->flags |= CLIENT_STORM;
    det->stats.clients_storm++;
    fill_row(det, scope_id, key, m, STORE_CLIENT_STORM, &row);
    note_store_error(det, storm_record(&det->storm, scope_id, &row, key));
}

static void record_new(struct detector *det, uint32_t scope_id, const struct scope *s,
                       const struct prefix *key, struct client_entry *e,
                       const struct dns_message *m)
{
    /* An expired or confirmed storm client may have been counted already. */
    if (!(e->flags & CLIENT_SEEN_RUN)) {
        det->stats.clients_seen++;
    }
    e->last_seen = (uint32_t)m->ts_sec;
    e->unflushed = 0;
    e->flags = CLIENT_SEEN_RUN;

    if (in_learning_period(det, s, m->ts_sec)) {
        e->flags |= CLIENT_LEARNED;
        det->stats.clients_learned++;
        submit_new_row(det, scope_id, key, m, STORE_CLIENT_LEARNED);
        return;
    }

    /* A client that an allow rule matches is recorded without an alert. */
    if (det->enrichment != NULL && enrichment_suppress_new(det->enrichment, m)) {
        det->stats.clients_suppressed++;
        submit_new_row(det, scope_id, key, m, 0);
        return;
    }

    if (storm_note_new(&det->storm, scope_id, m->ts_sec)) {
        record_storm(det, scope_id, key, e, m);
        return;
    }

    det->stats.clients_new++;
    struct pending_alert *a = pending_reserve(&det->pending);
    a->query = *m;
    dns_message_parse_records(&a->query); /* the copy outlives the frame */
    a->query.wire = NULL;
    a->scope = scope_id;
    a->client_key = *key;
    a->baseline_size = det->clients.count;
    a->deadline_ns = message_time_ns(m) + det->cfg->response_wait_ms * 1000000LL;
    pending_commit(&det->pending, a);
}

static bool is_dns_port(const struct detector *det, uint16_t port)
{
    return (det->dns_ports[port / 8] >> (port % 8)) & 1;
}

/* Queue the last-seen update gathered in @p e. */
static void submit_entry_seen(struct detector *det, struct client_entry *e)
{
    struct prefix key;
    char client_text[STORE_KEY_MAX];
    struct store_change c = {
        .kind = STORE_CHANGE_SEEN,
        .last_seen = e->last_seen,
        .query_count = e->unflushed,
    };
    client_entry_prefix(e, &key);
    change_key(det, e->scope, &key, client_text, &c);
    note_store_error(det, det->store->ops->submit(det->store, &c, NULL, 0));
    e->unflushed = 0;
    e->flags &= (uint8_t)~CLIENT_DIRTY;
}

/*
 * Make room in a full table by evicting one client. The victim's row stays
 * in the store, so it is only forgotten in memory. There is no store lookup
 * on a miss (a flood of spoofed sources would turn into a flood of disk
 * reads), so an evicted client that queries again alerts again, and its row
 * is rewritten with the new first_seen; clients_evicted counts evictions.
 */
static struct client_entry *evict_and_insert(struct detector *det, uint32_t scope_id,
                                             const struct prefix *key)
{
    struct client_entry *victim = client_table_pick_victim(&det->clients, scope_id, key);
    if (victim == NULL) {
        return NULL;
    }
    if (victim->flags & CLIENT_DIRTY) {
        submit_entry_seen(det, victim);
    }
    client_table_remove(&det->clients, victim);
    det->stats.clients_evicted++;
    return client_table_insert(&det->clients, scope_id, key);
}

/*
 * Out of line so that detector_message() saves no registers for a
 * response, which it handles in a few instructions.
 */
__attribute__((noinline)) static void process_query(struct detector *det,
                                                    const struct dns_message *m)
{
    det->stats.queries++;
    /* A query the server itself reported (dnstap) is to a DNS server on any port,
     * and so is an encrypted-DNS handshake (port 853, or 443 of a DoH server). */
    bool encrypted = m->transport == DNS_TRANSPORT_DOT || m->transport == DNS_TRANSPORT_DOH;
    if (!is_dns_port(det, m->dport) && !m->observer.server_reported && !encrypted) {
        det->stats.queries_not_to_server++;
        return;
    }

    uint32_t scope_id;
    struct scope *s = query_scope(det, m, &scope_id);
    if (s == NULL) {
        return;
    }
    if (networks_contains(&det->internal, &m->src)) {
        det->stats.queries_internal++;
        return;
    }

    struct prefix key;
    client_domains_derive(&det->domains, det->cfg, det->enrichment, &m->src, &key);
    struct client_entry *e = client_table_find(&det->clients, scope_id, &key);
    if (e != NULL && !is_expired(det, e, m->ts_sec)) {
        /*
         * A storm client that returns after the storm is confirmed: see
         * storm.h. A query no later than its last one is no return: a
         * replay of the capture that recorded it would confirm every such
         * client again.
         */
        if (!(e->flags & CLIENT_STORM) || storm_active(&det->storm, scope_id) ||
            m->ts_sec <= (int64_t)e->last_seen) {
            touch_known(det, e, m->ts_sec);
            return;
        }
        det->stats.storm_confirmed++;
    } else if (e != NULL) {
        det->stats.clients_expired++;
    } else {
        e = client_table_insert(&det->clients, scope_id, &key);
        if (e == NULL) {
            e = evict_and_insert(det, scope_id, &key);
        }
        if (e == NULL) {
            det->stats.table_full++;
            return;
        }
    }
    record_new(det, scope_id, s, &key, e, m);
}

/* ---- time ------------------------------------------------------------- */

/*
 * Visit @p count slots from det->flush_cursor on, wrapping around, and
 * forget expired clients. The last-seen updates gathered in memory are
 * submitted for every client when @p all_updates is set, else only for the
 * expired ones, before they are forgotten.
 */
static void visit_slots(struct detector *det, int64_t now, uint64_t count, bool all_updates)
{
    struct client_table *t = &det->clients;
    uint64_t i = det->flush_cursor < t->capacity ? det->flush_cursor : 0;
    uint64_t visited = 0;
    while (visited < count) {
        struct client_entry *e = &t->slots[i];
        bool expired = e->scope != 0 && is_expired(det, e, now);
        if (e->scope != 0 && (e->flags & CLIENT_DIRTY) && (all_updates || expired)) {
            submit_entry_seen(det, e);
        }
        if (expired) {
            /* The entry that shifts into this slot is visited next, in its place. */
            client_table_remove(t, e);
            det->stats.clients_expired++;
            continue;
        }
        i = i + 1 < t->capacity ? i + 1 : 0;
        visited++;
    }
    det->flush_cursor = i;
}

/* Submit the last-seen updates gathered in memory, and forget expired clients. */
static void flush_slots(struct detector *det, int64_t now, uint64_t count)
{
    visit_slots(det, now, count, true);
}

/* Slots the last flush submits before it writes them to the snapshot. */
#define FINAL_FLUSH_CHUNK_SLOTS 65536

/* Forget every expired client, submitting the updates of those that have any. */
static void forget_expired(struct detector *det, int64_t now)
{
    det->flush_cursor = 0;
    visit_slots(det, now, det->clients.capacity, false);
}

/*
 * Flush the whole table, as at the end of a run, after forget_expired(),
 * so that the table keeps its layout. The updates are submitted chunk by
 * chunk, and each chunk is then ready for @p snapshot (when not NULL),
 * whose thread writes it while the writer commits the updates. On the
 * 10M-packet capture the snapshot took 23 to 161 ms on the packet thread.
 */
static void flush_seen(struct detector *det, int64_t now, struct client_snapshot_writer *snapshot)
{
    uint64_t capacity = det->clients.capacity;
    for (uint64_t first = 0; first < capacity; first += FINAL_FLUSH_CHUNK_SLOTS) {
        uint64_t n = capacity - first < FINAL_FLUSH_CHUNK_SLOTS ? capacity - first
                                                                : FINAL_FLUSH_CHUNK_SLOTS;
        det->flush_cursor = first;
        visit_slots(det, now, n, true);
        if (snapshot != NULL) {
            client_snapshot_ready(snapshot, first + n); /* the commit reports an error */
        }
    }
}

/*
 * Flush the share of the table that @p seconds of capture time are due, so
 * that the cursor sweeps the whole table once per flush interval. A flush
 * of every client at once would hand the writer hundreds of thousands of
 * updates in one burst, and the packet path would wait on the full queue.
 * On the 10M-packet benchmark capture it waited 15 to 30 times a run, and 6
 * or 7 times with the flush spread (2-core VM).
 */
static void flush_seen_share(struct detector *det, int64_t now, int64_t seconds)
{
    uint64_t capacity = det->clients.capacity;
    uint64_t interval = det->cfg->flush_interval_s > 0 ? (uint64_t)det->cfg->flush_interval_s : 1;
    uint64_t due = (uint64_t)seconds >= interval ? capacity
                                                 : (capacity * (uint64_t)seconds + interval - 1) /
                                                       interval;
    flush_slots(det, now, due);
}

/*
 * Return the time at which now_ns / NS_PER_SEC next changes. Division truncates
 * towards zero, so before 1970, and where the next second would overflow,
 * every later time counts as a change.
 */
static int64_t next_second_start(int64_t now_ns)
{
    int64_t now = now_ns / NS_PER_SEC;
    if (now_ns < 0 || now >= INT64_MAX / NS_PER_SEC - 1) {
        return now_ns == INT64_MAX ? INT64_MAX : now_ns + 1;
    }
    return (now + 1) * NS_PER_SEC;
}

/*
 * Do the work due when the clock's second changes: storm ticks and
 * last-seen flushes, which both count whole seconds. Sets the time of the
 * next change. Out of line, like process_query(), to keep
 * detector_message() small.
 */
__attribute__((noinline)) static void second_tick(struct detector *det, int64_t now_ns)
{
    int64_t now = now_ns / NS_PER_SEC;
    det->next_second_ns = next_second_start(now_ns);
    if (now != det->storm_sec) {
        det->storm_sec = now;
        note_store_error(det, storm_tick(&det->storm, now));
    }
    if (det->flush_sec != INT64_MIN && now > det->flush_sec) {
        flush_seen_share(det, now, now - det->flush_sec);
    }
    if (det->flush_sec == INT64_MIN || now > det->flush_sec) {
        det->flush_sec = now;
    }
}

/*
 * Move the clock to @p now_ns. Most messages arrive within the current
 * second with no alert pending, and cost two compares here.
 */
static inline void clock_advance(struct detector *det, int64_t now_ns)
{
    if (now_ns <= det->now_ns) {
        return;
    }
    det->now_ns = now_ns;
    if (det->pending.used > 0) {
        pending_expire(&det->pending, now_ns);
    }
    if (now_ns >= det->next_second_ns) {
        second_tick(det, now_ns);
    }
}

void detector_advance(struct detector *det, int64_t now_ns)
{
    clock_advance(det, now_ns);
}

/*
 * Table size from which detector_prefetch() prefetches. With a 48 MiB table
 * (10M-packet capture) prefetching took 12 to 26% off a run, and with a
 * 4 MiB one (1M-packet capture, mostly in L3) the run was 4% faster without.
 */
#define PREFETCH_TABLE_MIN_BYTES ((uint64_t)8 << 20)

bool detector_prefetch(const struct detector *det, const struct addr *client,
                       const struct addr *server)
{
    if (det->clients.capacity * sizeof(struct client_entry) < PREFETCH_TABLE_MIN_BYTES) {
        return false;
    }
    uint32_t scope = scope_registry_peek(&det->scopes, server);
    if (scope == 0) {
        return true;
    }
    struct prefix key;
    scope_client_prefix(det->cfg, client, &key);
    client_table_prefetch(&det->clients, scope, &key);
    return true;
}

void detector_message(struct detector *det, const struct dns_message *msg)
{
    clock_advance(det, message_time_ns(msg));
    if (dns_message_is_response(msg)) {
        det->stats.responses++;
        if (msg->qtype == DNS_TYPE_PTR && det->enrichment != NULL) {
            enrichment_note_response(det->enrichment, msg); /* names seen in traffic */
        }
        if (det->pending.live > 0 && pending_match_response(&det->pending, msg)) {
            det->stats.responses_matched++;
        }
        return;
    }
    process_query(det, msg);
}

/*
 * A --learn run trains the baseline on purpose, so the scopes it saw leave
 * their learning period with it: a later run on newer traffic alerts at once
 * instead of learning for another learning-period.
 */
static void end_learning_periods(struct detector *det, int64_t now)
{
    for (uint32_t id = 1; id <= det->scopes.count; id++) {
        struct scope *s = scope_registry_get(&det->scopes, id);
        if (!s->start_known || s->start + det->cfg->learning_period_s <= now) {
            continue;
        }
        s->start = now - det->cfg->learning_period_s;
        note_store_error(det, det->store->ops->scope_start_set(det->store, s->key, s->start));
    }
}

int detector_finish(struct detector *det)
{
    note_store_error(det, storm_flush(&det->storm, det->now_ns / NS_PER_SEC));
    pending_flush(&det->pending);
    det->stats.pending_evicted = det->pending.evicted;

    int64_t now = det->now_ns / NS_PER_SEC;
    if (det->cfg->learn_only) {
        end_learning_periods(det, now);
    }
    forget_expired(det, now);
    int begin_ret = 0;
    struct client_snapshot_writer *snapshot = snapshot_begin(det, &begin_ret);
    if (snapshot != NULL) {
        /* Without a thread, flush_seen() writes the snapshot itself. */
        (void)client_snapshot_follow(snapshot);
    }
    flush_seen(det, now, snapshot);

    /* Prune only after the last-seen updates above committed, or it could
     * delete rows those updates were about to refresh. */
    note_store_error(det, det->store->ops->sync(det->store));
    if (det->cfg->expiry_s > 0 && det->now_ns > 0) {
        uint64_t removed = 0;
        note_store_error(det, det->store->ops->prune(det->store, now - det->cfg->expiry_s,
                                                     &removed));
    }
    note_store_error(det, det->store->ops->sync(det->store));
    snapshot_save(det, snapshot, begin_ret);
    return det->first_error;
}
