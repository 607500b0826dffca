/* SPDX-License-Identifier: MIT */
/*
 * live_run.c - capture threads, detector shards and the main thread's
 * signal loop of a live sensor. The thread layout and why messages are
 * sharded by client key are described in live_run.h; reloads, metrics and
 * the memory budget are in live_ops.c.
 *
 * Time: detectors run on the kernel's capture time stamps. Every
 * LIVE_TICK_NS of wall time, each detector's clock is also advanced to the
 * wall clock (detector_advance), so that alerts waiting for a response
 * leave on time on a quiet link.
 */
#include "daemon/live_internal.h"
#include "daemon/capture_loop.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/baseline_open.h"
#include "daemon/metrics.h"
#include "daemon/options.h"
#include "daemon/privileges.h"
#include "enrich/intel.h"
#include "detect/scope.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"

int64_t live_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- single-producer single-consumer queue ----------------------------- */

static int queue_init(struct msg_queue *q)
{
    q->slots = malloc(LIVE_QUEUE_CAPACITY * sizeof(*q->slots));
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    return q->slots != NULL ? 0 : -ENOMEM;
}

static bool queue_push(struct msg_queue *q, const struct dns_message *m)
{
    uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (tail - head == LIVE_QUEUE_CAPACITY) {
        return false;
    }
    /* The copy outlives the frame, so its records are parsed now (see dns_message.h). */
    struct dns_message *slot = &q->slots[tail & (LIVE_QUEUE_CAPACITY - 1)];
    *slot = *m;
    dns_message_parse_records(slot);
    slot->wire = NULL;
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    return true;
}

/* Return the oldest message, or NULL; queue_pop_done() frees its slot. */
static const struct dns_message *queue_peek(struct msg_queue *q)
{
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (head == tail) {
        return NULL;
    }
    return &q->slots[head & (LIVE_QUEUE_CAPACITY - 1)];
}

static void queue_pop_done(struct msg_queue *q)
{
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
}

/* ---- detector shards --------------------------------------------------- */

static void on_storm_event(void *ctx, uint32_t scope, bool started,
                           const struct storm_report *report)
{
    struct shard *s = ctx;
    const char *key = detector_scope_key(s->det, scope);
    if (started) {
        atomic_fetch_add(&s->live->storms_active, 1);
        log_warning("storm, scope '%s' began: more than %u new clients per minute%s; "
                    "aggregating alerts every %llds", key, s->cfg->storm_threshold,
                    s->live->shard_count > 1 ? " in one shard" : "",
                    (long long)s->cfg->storm_interval_s);
        return;
    }
    atomic_fetch_sub(&s->live->storms_active, 1);
    log_notice("storm, scope '%s' ended after %llu new clients; single alerts again", key,
               (unsigned long long)report->count);
}

/* Copy what the metrics and the stats line read, under the snapshot lock. */
static void shard_publish(struct shard *s)
{
    pthread_mutex_lock(&s->snap_lock);
    s->snap = *detector_stats(s->det);
    s->snap_clients = detector_client_count(s->det);
    pthread_mutex_unlock(&s->snap_lock);
}

/* Once per LIVE_TICK_NS: take a reloaded config, advance the clock, publish. */
static void log_intel_reload_error(void *ctx, const char *message)
{
    (void)ctx;
    log_err("intel, cannot reload %s; keeping the loaded list", message);
}

static void shard_tick(struct shard *s, int64_t now_ns)
{
    struct config *next = atomic_exchange(&s->next_cfg, NULL);
    if (next != NULL) {
        detector_reconfigure(s->det, next);
        free(s->cfg);
        s->cfg = next;
    }
    if (atomic_exchange(&s->intel_reload, false)) {
        enrichment_reload(s->enrichment, log_intel_reload_error, NULL);
    }
    enrichment_tick(s->enrichment, log_intel_reload_error, NULL);
    detector_advance(s->det, now_ns);
    shard_publish(s);
    s->last_tick_ns = now_ns;
}

/* Process up to LIVE_BATCH messages of each queue. Returns how many. */
static unsigned shard_drain(struct shard *s)
{
    unsigned done = 0;
    for (uint32_t c = 0; c < s->live->capture_count; c++) {
        struct msg_queue *q = &s->queues[c];
        const struct dns_message *m;
        for (unsigned n = 0; n < LIVE_BATCH && (m = queue_peek(q)) != NULL; n++) {
            detector_message(s->det, m);
            queue_pop_done(q);
            done++;
        }
    }
    return done;
}

static void *shard_main(void *arg)
{
    struct shard *s = arg;
    const struct timespec nap = { .tv_nsec = LIVE_IDLE_SLEEP_NS };
    for (;;) {
        unsigned done = shard_drain(s);
        int64_t now = live_wall_ns();
        if (now - s->last_tick_ns >= LIVE_TICK_NS) {
            shard_tick(s, now);
        }
        if (done == 0) {
            if (atomic_load(&s->live->captures_done)) {
                break; /* the producers stopped and every queue is empty */
            }
            nanosleep(&nap, NULL);
        }
    }
    shard_publish(s);
    return NULL;
}

/* ---- capture threads --------------------------------------------------- */

/* The shard that decides @p m: by the client key, the source of a query. */
static uint32_t shard_of(const struct live *lv, const struct dns_message *m)
{
    const struct addr *client = dns_message_is_response(m) ? &m->dst : &m->src;
    struct prefix key;
    scope_client_prefix(lv->cfg, client, &key);
    uint64_t h = hash_bytes(key.addr.bytes, sizeof(key.addr.bytes)) ^ key.len;
    return (uint32_t)(hash_mix64(h) % lv->shard_count);
}

static void route_message(struct capture *cap, const struct dns_message *m)
{
    struct live *lv = cap->live;
    struct msg_queue *q = &lv->shards[shard_of(lv, m)].queues[cap->index];
    const struct timespec nap = { .tv_nsec = LIVE_FULL_SLEEP_NS };

    /* A full queue blocks the capture thread, and the kernel ring buffers meanwhile. */
    while (!queue_push(q, m)) {
        cap->queue_waits++;
        if (atomic_load(&lv->stopping)) {
            cap->queue_dropped++;
            return;
        }
        nanosleep(&nap, NULL);
    }
}

static void on_message(void *ctx, const struct dns_message *m)
{
    struct capture *cap = ctx;
    cap->counters.messages++;
    if (dns_message_is_response(m)) {
        cap->counters.responses++;
    } else {
        cap->counters.queries++;
    }
    if (cap->inline_shard != NULL) {
        detector_message(cap->inline_shard->det, m);
    } else {
        route_message(cap, m);
    }
}

static void on_packet(void *ctx, const struct packet *pkt)
{
    struct capture *cap = ctx;
    cap->counters.packets++;
    enum decode_skip skip = decoder_packet(cap->dec, pkt, on_message, cap);
    cap->counters.skipped[skip]++;
}

static void capture_publish(struct capture *cap)
{
    struct live_stats ks;
    bool have_stats = live_input_stats(cap->in, &ks) == 0;
    pthread_mutex_lock(&cap->snap_lock);
    cap->snap = cap->counters;
    if (have_stats) {
        cap->kernel = ks;
    }
    cap->snap_queue_waits = cap->queue_waits;
    pthread_mutex_unlock(&cap->snap_lock);
}

static void capture_tick(struct capture *cap, int64_t now)
{
    capture_publish(cap);
    if (cap->inline_shard != NULL) {
        shard_tick(cap->inline_shard, now);
    }
    cap->last_tick_ns = now;
}

static void *capture_main(void *arg)
{
    struct capture *cap = arg;
    char err[512];
    struct pollfd pfd = { .fd = live_input_fd(cap->in), .events = POLLIN };
    while (!atomic_load(&cap->live->stopping)) {
        poll(&pfd, 1, LIVE_TICK_NS / 1000000);
        int n = live_input_dispatch(cap->in, on_packet, cap, err, sizeof(err));
        if (n < 0) {
            log_err("input, %s: %s; stopping", cap->interface, err);
            atomic_store(&cap->live->failed, true);
            atomic_store(&cap->live->stopping, true);
            break;
        }
        int64_t now = live_wall_ns();
        if (now - cap->last_tick_ns >= LIVE_TICK_NS) {
            capture_tick(cap, now);
        }
    }

    /* Packets already in the ring still count. */
    live_input_dispatch(cap->in, on_packet, cap, err, sizeof(err));
    capture_publish(cap);
    return NULL;
}

/* ---- set-up ------------------------------------------------------------ */

/* The store calls this on its writer thread after the alert's row committed. */
static int write_alert(void *ctx, const char *json, size_t len)
{
    struct live *lv = ctx;
    pthread_mutex_lock(&lv->sink_lock);
    int ret = sink_write_line(lv->sink, json, len);
    if (ret != 0) {
        log_err("output, cannot write alert to '%s' (%m)", sink_path(lv->sink));
    }
    pthread_mutex_unlock(&lv->sink_lock);
    return ret;
}

static int open_captures(struct live *lv)
{
    const struct config *cfg = lv->cfg;
    char filter[2048];
    if (cfg->bpf_filter[0] != '\0') {
        snprintf(filter, sizeof(filter), "%s", cfg->bpf_filter);
    } else {
        live_filter_default(cfg->dns_ports, cfg->dns_port_count, filter, sizeof(filter));
    }
    log_info("input, bpf-filter '%s'", filter);

    for (uint32_t i = 0; i < lv->capture_count; i++) {
        struct capture *cap = &lv->captures[i];
        uint32_t iface = i / cfg->workers;
        struct live_options o = {
            .interface = cfg->interfaces[iface],
            .filter = filter,
            .snaplen = cfg->snaplen,
            .buffer_mib = cfg->buffer_size_mib,
            .promiscuous = cfg->promiscuous,
            .fanout_group = cfg->workers > 1 ? (uint16_t)((getpid() + iface * 7919) | 1) : 0,
            .input_index = iface,
        };
        char err[512];
        int ret = live_input_open(&o, &cap->in, err, sizeof(err));
        if (ret != 0) {
            log_err("input, %s", err);
            return ret;
        }
        cap->live = lv;
        cap->index = i;
        cap->interface = cfg->interfaces[iface];
        pthread_mutex_init(&cap->snap_lock, NULL);
        cap->dec = capture_create_decoder(cfg);
        if (cap->dec == NULL) {
            log_err("decoder, out of memory");
            return -ENOMEM;
        }
    }
    log_notice("input, capturing on %zu interface%s with %u capture thread%s",
               cfg->interface_count, cfg->interface_count == 1 ? "" : "s",
               lv->capture_count, lv->capture_count == 1 ? "" : "s");
    return 0;
}

static int open_shards(struct live *lv)
{
    for (uint32_t i = 0; i < lv->shard_count; i++) {
        struct shard *s = &lv->shards[i];
        s->live = lv;
        s->index = i;
        pthread_mutex_init(&s->snap_lock, NULL);
        s->cfg = live_shard_config(lv, lv->cfg);
        if (s->cfg == NULL) {
            return -ENOMEM;
        }
        atomic_init(&s->next_cfg, NULL);

        int ret = detector_create(s->cfg, lv->store, &s->det);
        if (ret == 0) {
            ret = detector_load(s->det);
        }
        if (ret != 0) {
            log_err("baseline, cannot load '%s' (%s)", lv->cfg->state_path, df_strerror(ret));
            return ret;
        }
        detector_set_inputs(s->det, (const char *const *)lv->input_names,
                            lv->cfg->interface_count);
        detector_set_storm_events(s->det, on_storm_event, s);

        /* Enrichment is single-threaded, so each shard has its own: lv->cfg lives
         * for the whole run. NOTE: N shards hold N copies of the intel lists. */
        char err[INTEL_ERR_MAX];
        ret = enrichment_create(lv->cfg, &s->enrichment, err, sizeof(err));
        if (ret != 0) {
            log_err("enrichment, %s", err);
            return ret;
        }
        atomic_init(&s->intel_reload, false);
        detector_set_enrichment(s->det, s->enrichment);

        if (!lv->inline_mode) {
            s->queues = calloc(lv->capture_count, sizeof(*s->queues));
            if (s->queues == NULL) {
                return -ENOMEM;
            }
            for (uint32_t c = 0; c < lv->capture_count; c++) {
                if (queue_init(&s->queues[c]) != 0) {
                    return -ENOMEM;
                }
            }
        }
    }
    if (lv->inline_mode) {
        lv->captures[0].inline_shard = &lv->shards[0];
    }
    return 0;
}

/*
 * Every shard loads the whole baseline: a client's rows may be in any
 * shard's scope and loading is cheap next to the per-shard hash. Rows that
 * hash to another shard only cost table space.
 * NOTE: with several shards each shard holds every loaded row, so the
 * loaded part of the baseline takes shard_count times the memory.
 */
static int open_state(struct live *lv)
{
    if (sink_open(lv->cfg->output_path, &lv->sink) != 0) {
        log_err("output, cannot open '%s' (%m)", lv->cfg->output_path);
        return DF_EOUTPUT;
    }
    pthread_mutex_init(&lv->sink_lock, NULL);
    int ret = baseline_open(lv->cfg, false, &lv->store);
    if (ret != 0) {
        return ret;
    }
    lv->store->alert_fn = write_alert;
    lv->store->alert_ctx = lv;
    ret = lv->store->ops->replay_outbox(lv->store);
    if (ret != 0) {
        log_err("baseline, cannot write the alerts left by the previous run (%s)",
                df_strerror(ret));
    }
    return ret;
}

static int start_metrics(struct live *lv)
{
    if (lv->cfg->metrics_address[0] == '\0') {
        return 0;
    }
    char err[256];
    int ret = metrics_start(lv->cfg->metrics_address, live_metrics_render, lv, &lv->metrics,
                            err, sizeof(err));
    if (ret != 0) {
        log_err("metrics, %s", err);
        return ret;
    }
    const char *address = lv->cfg->metrics_address;
    log_notice("metrics, serving http://%s%s/metrics",
               strchr(address, ':') == NULL ? METRICS_DEFAULT_HOST ":" : "", address);
    return 0;
}

/*
 * Hand the files this run created as root (the baseline with its -wal and
 * -shm files, the alert file) to @p user, so that the next start as that
 * user can open them. Files owned by anyone else are left alone.
 */
static void give_files_to(const struct config *cfg, const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        return; /* privileges_drop() reports the unknown user */
    }
    const char *suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char path[sizeof(cfg->state_path) + 8];
        snprintf(path, sizeof(path), "%s%s", cfg->state_path, suffixes[i]);
        struct stat st;
        if (stat(path, &st) == 0 && st.st_uid == 0) {
            if (chown(path, pw->pw_uid, pw->pw_gid) != 0) {
                log_warning("privileges, cannot hand '%s' to user '%s' (%m)", path, user);
            }
        }
    }
    struct stat st;
    const char *out = cfg->output_path;
    if (out[0] != '\0' && strcmp(out, "-") != 0 && stat(out, &st) == 0 && st.st_uid == 0 &&
        chown(out, pw->pw_uid, pw->pw_gid) != 0) {
        log_warning("privileges, cannot hand '%s' to user '%s' (%m)", out, user);
    }
}

/* Switch to the configured user, then check that the baseline stays writable. */
static int drop_privileges(struct live *lv)
{
    const struct config *cfg = lv->cfg;
    if (cfg->user[0] == '\0') {
        return 0;
    }
    if (geteuid() == 0) {
        give_files_to(cfg, cfg->user);
    }
    char err[256];
    int ret = privileges_drop(cfg->user, err, sizeof(err));
    if (ret != 0) {
        log_err("privileges, %s", err);
        return ret;
    }
    log_notice("privileges, running as user '%s' with no capabilities", cfg->user);

    /* SQLite creates and removes its -wal and -shm files next to the baseline. */
    char dir[sizeof(cfg->state_path)];
    snprintf(dir, sizeof(dir), "%s", cfg->state_path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    if (access(cfg->state_path, W_OK) != 0 || access(dir, W_OK) != 0) {
        log_warning("privileges, user '%s' cannot write '%s' or its directory; the open "
                    "baseline keeps working, but make both writable by that user so that "
                    "checkpoints and the next start succeed", cfg->user, cfg->state_path);
    }
    return 0;
}

static int start_threads(struct live *lv)
{
    /* Signals go to the main thread only: block them before any thread starts. */
    for (uint32_t i = 0; i < lv->shard_count && !lv->inline_mode; i++) {
        int ret = pthread_create(&lv->shards[i].thread, NULL, shard_main, &lv->shards[i]);
        if (ret != 0) {
            log_err("run, cannot start a detector thread (%s)", strerror(ret));
            return -ret;
        }
        lv->shards_started++;
    }
    for (uint32_t i = 0; i < lv->capture_count; i++) {
        int ret = pthread_create(&lv->captures[i].thread, NULL, capture_main, &lv->captures[i]);
        if (ret != 0) {
            log_err("run, cannot start a capture thread (%s)", strerror(ret));
            return -ret;
        }
        lv->captures_started++;
    }
    return 0;
}

/* Stop capturing, let the shards drain their queues, then finish each detector. */
static int stop_threads(struct live *lv)
{
    atomic_store(&lv->stopping, true);
    for (uint32_t i = 0; i < lv->captures_started; i++) {
        pthread_join(lv->captures[i].thread, NULL);
    }
    atomic_store(&lv->captures_done, true);
    for (uint32_t i = 0; i < lv->shards_started; i++) {
        pthread_join(lv->shards[i].thread, NULL);
    }

    int first = 0;
    for (uint32_t i = 0; i < lv->shard_count; i++) {
        if (lv->shards[i].det == NULL) {
            continue;
        }
        int ret = detector_finish(lv->shards[i].det);
        shard_publish(&lv->shards[i]);
        if (ret != 0 && first == 0) {
            first = ret;
        }
    }
    if (first != 0) {
        log_err("baseline, failed to record clients in '%s' (%s)", lv->cfg->state_path,
                df_strerror(first));
    }
    return first;
}

/* ---- main thread ------------------------------------------------------- */

static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Wait for SIGINT or SIGTERM (or a failed capture), serving SIGHUP and the stats line. */
static void wait_for_stop(struct live *lv, const sigset_t *set)
{
    int64_t next_stats = live_wall_ns() + lv->cfg->stats_interval_s * 1000000000LL;
    for (;;) {
        const struct timespec wait = { .tv_nsec = LIVE_TICK_NS };
        int sig = sigtimedwait(set, NULL, &wait);
        if (sig == SIGINT || sig == SIGTERM) {
            log_notice("run, stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
            return;
        }
        if (sig == SIGHUP) {
            live_reload(lv);
            next_stats = live_wall_ns() + lv->cfg->stats_interval_s * 1000000000LL;
        }
        if (atomic_load(&lv->stopping)) {
            return;
        }
        int64_t now = live_wall_ns();
        if (lv->cfg->stats_interval_s > 0 && now >= next_stats) {
            live_log_stats(lv);
            next_stats = now + lv->cfg->stats_interval_s * 1000000000LL;
        }
    }
}

static void live_free(struct live *lv)
{
    metrics_stop(lv->metrics);
    for (uint32_t i = 0; i < lv->capture_count; i++) {
        live_input_close(lv->captures[i].in);
        decoder_destroy(lv->captures[i].dec);
    }
    if (lv->store != NULL) {
        lv->store->ops->close(lv->store);
    }
    for (uint32_t i = 0; i < lv->shard_count; i++) {
        struct shard *s = &lv->shards[i];
        detector_destroy(s->det);
        enrichment_print_summary(s->enrichment, stderr);
        enrichment_destroy(s->enrichment);
        for (uint32_t c = 0; s->queues != NULL && c < lv->capture_count; c++) {
            free(s->queues[c].slots);
        }
        free(s->queues);
        free(s->cfg);
        free(atomic_load(&s->next_cfg));
    }
    sink_close(lv->sink);
    free(lv->captures);
    free(lv->shards);
    free(lv->input_names);
}

/* Refuse to decode as root unless asked to, since the decoder parses hostile input. */
static bool root_allowed(const struct config *cfg)
{
    if (geteuid() != 0 || cfg->user[0] != '\0' || cfg->allow_root) {
        return true;
    }
    log_err("run, refusing to decode live packets as root; set 'user' (--user NAME) to "
            "switch users after opening the interfaces, or 'allow-root' (--allow-root)");
    return false;
}

static int live_setup(struct live *lv)
{
    int ret = open_state(lv);
    if (ret == 0) {
        ret = open_captures(lv);
    }
    if (ret == 0) {
        ret = start_metrics(lv);
    }
    if (ret == 0) {
        ret = drop_privileges(lv);
    }
    if (ret == 0) {
        ret = open_shards(lv);
    }
    return ret;
}

int live_run(const struct command_options *cmd, struct config *cfg, int argc, char **argv)
{
    if (!root_allowed(cfg)) {
        return EXIT_USAGE;
    }
    struct live lv;
    memset(&lv, 0, sizeof(lv));
    lv.cfg = cfg;
    lv.cmd = cmd;
    lv.argc = argc;
    lv.argv = argv;
    lv.capture_count = (uint32_t)cfg->interface_count * cfg->workers;
    lv.shard_count = cfg->workers;
    lv.inline_mode = lv.capture_count == 1;
    if (live_apply_memory_limit(&lv) != 0) {
        return EXIT_USAGE;
    }

    lv.captures = calloc(lv.capture_count, sizeof(*lv.captures));
    lv.shards = calloc(lv.shard_count, sizeof(*lv.shards));
    lv.input_names = calloc(cfg->interface_count, sizeof(*lv.input_names));
    if (lv.captures == NULL || lv.shards == NULL || lv.input_names == NULL) {
        log_err("run, out of memory");
        live_free(&lv);
        return EXIT_RUNTIME;
    }
    for (size_t i = 0; i < cfg->interface_count; i++) {
        lv.input_names[i] = cfg->interfaces[i];
    }

    sigset_t set;
    block_signals(&set);
    int ret = live_setup(&lv);
    if (ret == 0) {
        ret = start_threads(&lv);
    }
    if (ret == 0) {
        log_notice("run, sensor started (pid %d)", (int)getpid());
        wait_for_stop(&lv, &set);
    }
    int finish = stop_threads(&lv);
    live_print_summary(&lv, stderr);
    live_free(&lv);

    if (ret != 0 || finish != 0 || atomic_load(&lv.failed)) {
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}
