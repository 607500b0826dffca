/* SPDX-License-Identifier: MIT */
/*
 * live_ops.c - the parts of a live run outside the packet path: the memory
 * budget, SIGHUP reloads, the stats line, the Prometheus text and the
 * summary.
 */
#include "daemon/live_internal.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/options.h"
#include "detect/client_table.h"
#include "detect/pending.h"
#include "store/write_queue.h"
#include "util/error.h"
#include "util/log.h"

#define MIB (1024ull * 1024ull)

/* ---- memory budget ----------------------------------------------------- */

/*
 * Peak bytes per client-table slot, counted as if growth copied the table
 * (old and new array together), which it does below 256 MiB. Larger
 * tables grow in place with mremap(), so this overestimates them and the
 * derived cap stays on the safe side.
 */
#define SLOT_PEAK_BYTES (sizeof(struct client_entry) * 3 / 2)

static uint64_t fixed_bytes(const struct live *lv)
{
    const struct config *cfg = lv->cfg;
    uint64_t rings = (uint64_t)cfg->buffer_size_mib * MIB * lv->capture_count;
    uint64_t pending = (uint64_t)lv->shard_count * DETECTOR_PENDING_MAX *
                       sizeof(struct pending_alert);
    uint64_t queues = lv->inline_mode ? 0
                                      : (uint64_t)lv->capture_count * lv->shard_count *
                                            LIVE_QUEUE_CAPACITY * sizeof(struct dns_message);
    return rings + pending + queues + LIVE_BASE_MEMORY_MIB * MIB;
}

/*
 * Split what memory-limit leaves after the fixed parts: a quarter to the
 * store's write queue, the rest to the client tables. C is the largest
 * power of two with 2C slots in the budget, and a table takes at most 5/8 C
 * clients. Growing by half at a load of 4/5 puts them in at most 1.17 C
 * slots, so old and new array together stay under the 2C budgeted.
 */
int live_apply_memory_limit(struct live *lv)
{
    struct config *cfg = lv->cfg;
    if (cfg->memory_limit_mib == 0) {
        return 0;
    }
    uint64_t limit = (uint64_t)cfg->memory_limit_mib * MIB;
    uint64_t fixed = fixed_bytes(lv);
    if (limit < fixed + 16 * MIB) {
        log_err("memory, memory-limit %u MiB is too small: capture rings, queues and "
                "pending alerts need about %llu MiB plus 16 MiB for tables; raise it or "
                "lower buffer-size", cfg->memory_limit_mib,
                (unsigned long long)(fixed / MIB));
        return DF_ECONFIG;
    }

    uint64_t rest = limit - fixed;
    uint64_t queue_rows = rest / 4 / sizeof(struct write_item);
    if (queue_rows < cfg->store_queue_max) {
        cfg->store_queue_max = (uint32_t)queue_rows;
    }
    if (cfg->store_batch_max > cfg->store_queue_max) {
        cfg->store_batch_max = cfg->store_queue_max;
    }

    uint64_t per_shard = rest * 3 / 4 / lv->shard_count;
    uint64_t capacity = 1024;
    while (capacity * 2 * SLOT_PEAK_BYTES <= per_shard) {
        capacity *= 2;
    }
    uint64_t clients = capacity * 5 / 8;
    if (clients < cfg->max_clients) {
        cfg->max_clients = (uint32_t)clients;
    }

    log_notice("memory, limit %u MiB: %u clients per detector (%u detector%s), store queue "
               "%u rows, capture rings %u MiB each, %u pending alerts per detector",
               cfg->memory_limit_mib, cfg->max_clients, lv->shard_count,
               lv->shard_count == 1 ? "" : "s", cfg->store_queue_max, cfg->buffer_size_mib,
               DETECTOR_PENDING_MAX);
    return 0;
}

struct config *live_shard_config(const struct live *lv, const struct config *cfg)
{
    struct config *copy = malloc(sizeof(*copy));
    if (copy == NULL) {
        return NULL;
    }
    *copy = *cfg;

    /* Clients spread evenly over shards, so each sees about 1/N of a storm. */
    uint32_t n = lv->shard_count;
    if (copy->storm_threshold > 0) {
        copy->storm_threshold = (copy->storm_threshold + n - 1) / n;
    }
    return copy;
}

/* ---- reload ------------------------------------------------------------ */

/* Settings a running sensor takes over on SIGHUP; every other one needs a restart. */
static const char *const reloadable[] = {
    "learning-period", "expiry", "response-wait", "flush-interval", "learn",
    "log-level", "storm-threshold", "storm-interval", "stats-interval",
};

static bool is_reloadable(const char *name)
{
    for (size_t i = 0; i < sizeof(reloadable) / sizeof(reloadable[0]); i++) {
        if (strcmp(reloadable[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* The -c argument, for the log; NULL when none was given. */
static const char *config_path(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            return argv[i + 1];
        }
        if (strncmp(argv[i], "--config=", 9) == 0) {
            return argv[i] + 9;
        }
        if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0') {
            return argv[i] + 2;
        }
    }
    return NULL;
}

/* Copy the reloadable settings of @p fresh into @p cfg; log the ignored changes. */
static void merge_reload(struct config *cfg, const struct config *fresh)
{
    for (size_t i = 0; i < config_setting_count(); i++) {
        const struct config_setting *s = config_setting_at(i);
        if (s->format == NULL) {
            continue;
        }
        char old_text[4096];
        char new_text[4096];
        s->format(cfg, s, old_text, sizeof(old_text));
        s->format(fresh, s, new_text, sizeof(new_text));
        if (strcmp(old_text, new_text) == 0) {
            continue;
        }
        if (!is_reloadable(s->name)) {
            log_warning("config, '%s' changed to '%s' but needs a restart; ignored", s->name,
                        new_text);
            continue;
        }
        memcpy((char *)cfg + s->offset, (const char *)fresh + s->offset, s->field_size);
        log_notice("config, '%s' is now '%s'", s->name, new_text);
    }
}

static void reopen_output(struct live *lv)
{
    pthread_mutex_lock(&lv->sink_lock);
    int ret = sink_reopen(lv->sink);
    pthread_mutex_unlock(&lv->sink_lock);
    if (ret != 0) {
        log_err("output, cannot reopen '%s' (%m); still writing to the old file",
                sink_path(lv->sink));
    }
}

void live_reload(struct live *lv)
{
    const char *path = config_path(lv->argc, lv->argv);
    const char *shown = path != NULL ? path : "(command line only)";
    struct config *fresh = malloc(sizeof(*fresh));
    int first_arg = 0;
    if (fresh == NULL || options_parse(lv->cmd, lv->argc, lv->argv, fresh, &first_arg) != EXIT_OK) {
        log_err("config, cannot reload '%s'; keeping the old config", shown);
        free(fresh);
        reopen_output(lv);
        return;
    }

    merge_reload(lv->cfg, fresh);
    free(fresh);
    log_set_level((enum log_level)lv->cfg->log_level);
    for (uint32_t i = 0; i < lv->shard_count; i++) {
        struct config *copy = live_shard_config(lv, lv->cfg);
        if (copy == NULL) {
            log_err("config, out of memory; shard %u keeps the old config", i);
            continue;
        }
        free(atomic_exchange(&lv->shards[i].next_cfg, copy));
    }
    for (uint32_t i = 0; i < lv->shard_count; i++) {
        atomic_store(&lv->shards[i].intel_reload, true);
    }
    reopen_output(lv);
    log_notice("config, reloaded '%s'", shown);
}

/* ---- counters ---------------------------------------------------------- */

struct live_totals {
    struct capture_counters capture;
    struct live_stats kernel;
    uint64_t queue_waits;
    struct detector_stats detect;
    uint64_t clients_in_memory;
};

static void add_detector_stats(struct detector_stats *sum, const struct detector_stats *d)
{
    _Static_assert(sizeof(*d) % sizeof(uint64_t) == 0, "detector_stats holds only uint64_t");
    uint64_t *dst = (uint64_t *)sum;
    const uint64_t *src = (const uint64_t *)d;
    for (size_t i = 0; i < sizeof(*d) / sizeof(uint64_t); i++) {
        dst[i] += src[i];
    }
}

static void add_capture(struct live_totals *t, struct capture *cap)
{
    pthread_mutex_lock(&cap->snap_lock);
    t->capture.packets += cap->snap.packets;
    t->capture.messages += cap->snap.messages;
    t->capture.queries += cap->snap.queries;
    t->capture.responses += cap->snap.responses;
    for (int r = 0; r < DECODE_SKIP_COUNT; r++) {
        t->capture.skipped[r] += cap->snap.skipped[r];
    }
    t->kernel.received += cap->kernel.received;
    t->kernel.dropped += cap->kernel.dropped;
    t->kernel.if_dropped += cap->kernel.if_dropped;
    t->queue_waits += cap->snap_queue_waits;
    pthread_mutex_unlock(&cap->snap_lock);
}

static void gather(const struct live *lv, struct live_totals *t)
{
    memset(t, 0, sizeof(*t));
    for (uint32_t i = 0; i < lv->capture_count; i++) {
        add_capture(t, &lv->captures[i]);
    }
    for (uint32_t i = 0; i < lv->shard_count; i++) {
        struct shard *s = &lv->shards[i];
        pthread_mutex_lock(&s->snap_lock);
        add_detector_stats(&t->detect, &s->snap);
        t->clients_in_memory += s->snap_clients;
        pthread_mutex_unlock(&s->snap_lock);
    }
}

/* The store's writer updates its counters with relaxed atomic adds. */
static uint64_t store_counter(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void live_log_stats(const struct live *lv)
{
    struct live_totals t;
    gather(lv, &t);
    log_notice("stats, packets %llu, dns messages %llu, kernel drops %llu, interface drops "
               "%llu, new clients %llu, storm clients %llu, alerts written %llu, storms "
               "active %u, clients in memory %llu, evictions %llu",
               (unsigned long long)t.capture.packets, (unsigned long long)t.capture.messages,
               (unsigned long long)t.kernel.dropped, (unsigned long long)t.kernel.if_dropped,
               (unsigned long long)t.detect.clients_new,
               (unsigned long long)t.detect.clients_storm,
               (unsigned long long)store_counter(&lv->store->counters.alerts_written),
               atomic_load(&((struct live *)lv)->storms_active),
               (unsigned long long)t.clients_in_memory,
               (unsigned long long)t.detect.clients_evicted);
}

/* ---- Prometheus text --------------------------------------------------- */

static void metric(FILE *out, const char *name, const char *type, const char *help,
                   uint64_t value)
{
    fprintf(out, "# HELP dnsfirst_%s %s\n# TYPE dnsfirst_%s %s\ndnsfirst_%s %llu\n", name,
            help, name, type, name, (unsigned long long)value);
}

static void metrics_capture(FILE *out, const struct live *lv, const struct live_totals *t)
{
    metric(out, "packets_total", "counter", "Packets captured.", t->capture.packets);
    fprintf(out, "# HELP dnsfirst_dns_messages_total DNS messages decoded.\n"
                 "# TYPE dnsfirst_dns_messages_total counter\n"
                 "dnsfirst_dns_messages_total{type=\"query\"} %llu\n"
                 "dnsfirst_dns_messages_total{type=\"response\"} %llu\n",
            (unsigned long long)t->capture.queries, (unsigned long long)t->capture.responses);
    fprintf(out, "# HELP dnsfirst_skipped_total Packets that yielded no DNS message.\n"
                 "# TYPE dnsfirst_skipped_total counter\n");
    for (int r = DECODE_SKIP_NOT_DNS; r < DECODE_SKIP_COUNT; r++) {
        fprintf(out, "dnsfirst_skipped_total{reason=\"%s\"} %llu\n",
                decode_skip_name((enum decode_skip)r),
                (unsigned long long)t->capture.skipped[r]);
    }
    fprintf(out, "# HELP dnsfirst_kernel_drops_total Packets the kernel dropped.\n"
                 "# TYPE dnsfirst_kernel_drops_total counter\n"
                 "dnsfirst_kernel_drops_total{kind=\"ring\"} %llu\n"
                 "dnsfirst_kernel_drops_total{kind=\"interface\"} %llu\n",
            (unsigned long long)t->kernel.dropped, (unsigned long long)t->kernel.if_dropped);
    metric(out, "shard_queue_waits_total", "counter",
           "Times a capture thread waited for a full detector queue.", t->queue_waits);
    (void)lv;
}

static void metrics_detect(FILE *out, const struct live *lv, const struct live_totals *t)
{
    const struct detector_stats *d = &t->detect;
    metric(out, "new_clients_total", "counter", "New clients that raised a single alert.",
           d->clients_new);
    metric(out, "learned_clients_total", "counter", "New clients recorded while learning.",
           d->clients_learned);
    metric(out, "storm_clients_total", "counter", "New clients recorded during a storm.",
           d->clients_storm);
    metric(out, "storm_confirmed_total", "counter",
           "Storm clients that returned after their storm.", d->storm_confirmed);
    metric(out, "storm_alerts_total", "counter", "Aggregated storm alerts.", d->storm_alerts);
    metric(out, "storms_active", "gauge", "Scopes in a storm now.",
           atomic_load(&((struct live *)lv)->storms_active));
    metric(out, "clients_in_memory", "gauge", "Clients in the in-memory tables.",
           t->clients_in_memory);
    metric(out, "client_evictions_total", "counter",
           "Clients forgotten in memory to make room.", d->clients_evicted);
    metric(out, "clients_dropped_total", "counter",
           "New clients not tracked: table full and nothing to evict.", d->table_full);
    metric(out, "store_errors_total", "counter", "Baseline submissions that failed.",
           d->store_errors);
}

static void metrics_store(FILE *out, const struct live *lv)
{
    const struct store_counters *c = &lv->store->counters;
    metric(out, "alerts_written_total", "counter", "Alerts written after their row committed.",
           store_counter(&c->alerts_written));
    metric(out, "baseline_rows_committed_total", "counter", "Baseline rows committed.",
           store_counter(&c->rows_committed));
    metric(out, "baseline_changes_merged_total", "counter",
           "Committed client writes merged into the clients table.",
           store_counter(&c->changes_merged));
    metric(out, "store_queue_full_waits_total", "counter",
           "Times the packet path waited for the baseline writer.",
           store_counter(&c->queue_full_waits));
    metric(out, "baseline_checkpoints_total", "counter",
           "WAL checkpoints finished by the checkpoint thread.",
           store_counter(&c->checkpoints));
}

void live_metrics_render(void *ctx, FILE *out)
{
    const struct live *lv = ctx;
    struct live_totals t;
    gather(lv, &t);
    metrics_capture(out, lv, &t);
    metrics_detect(out, lv, &t);
    metrics_store(out, lv);
}

/* ---- summary ----------------------------------------------------------- */

static void line(FILE *out, const char *label, uint64_t value)
{
    fprintf(out, "  %-32s %llu\n", label, (unsigned long long)value);
}

void live_print_summary(struct live *lv, FILE *out)
{
    struct live_totals t;
    gather(lv, &t);
    summary_print_capture(out, &t.capture);
    line(out, "kernel dropped", t.kernel.dropped);
    line(out, "interface dropped", t.kernel.if_dropped);
    struct store_counters sc;
    memset(&sc, 0, sizeof(sc));
    if (lv->store != NULL) {
        sc = lv->store->counters;
    }
    summary_print_detection(out, &t.detect, &sc);
    line(out, "storm clients", t.detect.clients_storm);
    line(out, "storm alerts", t.detect.storm_alerts);
    line(out, "storm clients confirmed", t.detect.storm_confirmed);
    line(out, "clients evicted", t.detect.clients_evicted);
}
