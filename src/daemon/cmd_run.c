/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - "dnsfirst run": captures in, alerts out.
 *
 * Order of work: open the alert sink, open the baseline, write alerts a
 * previous run committed but did not write, load the baseline into the
 * detector, read the captures, then release pending alerts and wait until
 * every row and alert is committed and written before printing the summary.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/baseline_open.h"
#include "daemon/capture_loop.h"
#include "daemon/commands.h"
#include "daemon/dnstap_loop.h"
#include "daemon/live_run.h"
#include "daemon/options.h"
#include "daemon/summary.h"
#include "detect/detector.h"
#include "enrich/enrichment.h"
#include "output/sink.h"
#include "util/error.h"
#include "util/log.h"

static const struct command_options run_options = {
    .command = "run",
    .usage = "dnsfirst run -r FILE [-r FILE ...] [-c CONFIG] [--state PATH] [-o FILE] "
             "[--learn] [settings]\n"
             "       dnsfirst run --dnstap ENDPOINT [--dnstap ENDPOINT ...] [-c CONFIG] "
             "[--state PATH] [-o FILE] [--learn] [settings]\n"
             "       dnsfirst run -i IFACE [-i IFACE ...] [-c CONFIG] [--user NAME] "
             "[--workers N] [settings]",
    .summary = "Read captures (pcap, pcapng or dnstap files) in time order, or dnstap from "
               "DNS servers until SIGINT or SIGTERM, detect external clients that query a DNS "
               "server for the first time, and write one JSON alert per line (standard "
               "output unless -o is given). Logs and the summary go to standard error.",
    .flags = OPT_READ | OPT_CONFIG | OPT_ALL_SETTINGS,
};

/* The store calls this on its writer thread, after the alert's row committed. */
static int write_alert(void *ctx, const char *json, size_t len)
{
    struct sink *sink = ctx;
    int ret = sink_write_line(sink, json, len);
    if (ret != 0) {
        log_err("output, cannot write alert to '%s' (%m)", sink_path(sink));
    }
    return ret;
}

static void on_message(void *ctx, const struct dns_message *msg)
{
    detector_message(ctx, msg);
}

static bool on_prefetch(void *ctx, const struct addr *client, const struct addr *server)
{
    return detector_prefetch(ctx, client, server);
}

static void on_idle_clock(void *ctx, int64_t now_ns)
{
    detector_advance(ctx, now_ns);
}

struct run_state {
    struct sink *sink;
    struct store *store;
    struct detector *detector;
    struct enrichment *enrichment; /* NULL when no enrichment is configured */
};

static void log_intel_reload_error(void *ctx, const char *message)
{
    (void)ctx;
    log_err("intel, cannot reload %s; keeping the loaded list", message);
}

/* Between packets: intel reloads after SIGHUP or a changed file (intel-watch). */
static void on_between_packets(void *ctx)
{
    enrichment_tick(ctx, log_intel_reload_error, NULL);
}

/*
 * SIGHUP in a file or dnstap run: reopen the alert file (log rotation) and
 * reload the intel lists. Settings are reloaded by live sensors only.
 */
static void on_hangup(void *ctx)
{
    struct run_state *rs = ctx;
    if (sink_reopen(rs->sink) != 0) {
        log_err("output, cannot reopen '%s' (%m); still writing to the old file",
                sink_path(rs->sink));
    } else {
        log_notice("output, reopened '%s' after SIGHUP", sink_path(rs->sink));
    }
    if (rs->enrichment != NULL) {
        enrichment_reload_requested = 1;
    }
}

/* Load lists and databases first: a bad file is a config error (exit 2) before any I/O. */
static int run_open_enrichment(const struct config *cfg, struct run_state *rs)
{
    char err[INTEL_ERR_MAX];
    int ret = enrichment_create(cfg, &rs->enrichment, err, sizeof(err));
    if (ret != 0) {
        log_err("enrichment, %s", err);
        return ret == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    if (rs->enrichment != NULL) {
        char text[256];
        enrichment_describe(rs->enrichment, text, sizeof(text));
        log_info("enrichment, %s", text);
        capture_set_between_packets(on_between_packets, rs->enrichment);
    }
    return EXIT_OK;
}

/* Client table snapshot (client_snapshot.h): say whether it served or was written, and why not. */
static void log_snapshot(const struct detector *det, const char *done, const char *not_done)
{
    const char *path = detector_snapshot_path(det);
    const char *note = detector_snapshot_note(det);
    if (path == NULL) {
        return;
    }
    if (note == NULL) {
        log_info("baseline, snapshot '%s' %s", path, done);
    } else {
        log_info("baseline, snapshot '%s' %s: %s", path, not_done, note);
    }
}

/*
 * Log how the load went. A snapshot that exists but was not used (stale,
 * damaged, of another scope mode) means the start read every row, so the
 * reason is logged at the default level. A missing snapshot file is logged
 * at info only.
 */
static void log_snapshot_load(const struct detector *det)
{
    const char *path = detector_snapshot_path(det);
    const char *note = detector_snapshot_note(det);
    struct stat st;
    if (path == NULL || note == NULL || (stat(path, &st) != 0 && errno == ENOENT)) {
        log_snapshot(det, "used", "not used");
        return;
    }
    log_notice("baseline, snapshot '%s' not used: %s (every row was read instead)", path, note);
}

static int run_open(const struct config *cfg, struct run_state *rs)
{
    int exit_code = run_open_enrichment(cfg, rs);
    if (exit_code != EXIT_OK) {
        return exit_code;
    }
    if (sink_open(cfg->output_path, &rs->sink) != 0) {
        log_err("output, cannot open '%s' (%m)", cfg->output_path);
        return EXIT_RUNTIME;
    }
    if (baseline_open_for_run(cfg, &rs->store) != 0) {
        return EXIT_RUNTIME;
    }
    rs->store->alert_fn = write_alert;
    rs->store->alert_ctx = rs->sink;

    int ret = rs->store->ops->replay_outbox(rs->store);
    if (ret != 0) {
        log_err("baseline, cannot write the alerts left by the previous run (%s)",
                df_strerror(ret));
        return EXIT_RUNTIME;
    }

    /* The load time is for the operator: start-up with a large baseline is a budget. */
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    ret = detector_create(cfg, rs->store, &rs->detector);
    if (ret == 0) {
        detector_use_snapshot(rs->detector, cfg->state_path);
        ret = detector_load(rs->detector);
    }
    if (ret != 0) {
        log_err("baseline, cannot load '%s' (%s)", cfg->state_path, df_strerror(ret));
        return EXIT_RUNTIME;
    }
    struct timespec loaded;
    clock_gettime(CLOCK_MONOTONIC, &loaded);
    log_snapshot_load(rs->detector);
    log_notice("baseline, loaded %llu clients from '%s' in %lld ms",
               (unsigned long long)detector_stats(rs->detector)->clients_loaded,
               cfg->state_path,
               (long long)((loaded.tv_sec - started.tv_sec) * 1000 +
                           (loaded.tv_nsec - started.tv_nsec) / 1000000));
    if (cfg->dnstap_count > 0) {
        detector_set_inputs(rs->detector, dnstap_loop_input_names(cfg), cfg->dnstap_count);
    } else {
        detector_set_inputs(rs->detector, cfg->inputs, cfg->input_count);
    }
    detector_set_enrichment(rs->detector, rs->enrichment);
    return EXIT_OK;
}

/* Storm lines of the summary, with the labels of the live sensor's summary (live_ops.c). */
static void print_storm_summary(FILE *out, const struct detector_stats *d)
{
    fprintf(out, "  %-32s %llu\n", "storm clients", (unsigned long long)d->clients_storm);
    fprintf(out, "  %-32s %llu\n", "storm alerts", (unsigned long long)d->storm_alerts);
    fprintf(out, "  %-32s %llu\n", "storm clients confirmed",
            (unsigned long long)d->storm_confirmed);
}

static void run_close(struct run_state *rs)
{
    if (rs->store != NULL) {
        rs->store->ops->close(rs->store);
    }
    detector_destroy(rs->detector);
    sink_close(rs->sink);
}

int cmd_run(int argc, char **argv)
{
    struct config cfg;
    int first_arg = 0;
    int ret = options_parse(&run_options, argc, argv, &cfg, &first_arg);
    if (ret != EXIT_OK) {
        return ret < 0 ? EXIT_OK : ret;
    }
    if (cfg.input_count > 0 && cfg.dnstap_count > 0) {
        fprintf(stderr, "dnsfirst run: -r and --dnstap cannot be used together; "
                "see 'dnsfirst run --help'\n");
        return EXIT_USAGE;
    }
    /* Live interfaces: a long-running sensor with its own threads (live_run.h). */
    if (cfg.interface_count > 0 && first_arg == argc) {
        return live_run(&run_options, &cfg, argc, argv);
    }
    if (first_arg < argc || (cfg.input_count == 0 && cfg.dnstap_count == 0)) {
        fprintf(stderr, "dnsfirst run: %s; see 'dnsfirst run --help'\n",
                cfg.input_count == 0 ? "no input given (use -r FILE or --dnstap ENDPOINT)"
                                     : "unexpected argument");
        return EXIT_USAGE;
    }

    struct run_state rs;
    memset(&rs, 0, sizeof(rs));
    int exit_code = run_open(&cfg, &rs);
    if (exit_code != EXIT_OK) {
        run_close(&rs);
        enrichment_destroy(rs.enrichment);
        return exit_code;
    }

    capture_install_signals();
    capture_set_hangup(on_hangup, &rs);
    struct capture_counters counters;
    memset(&counters, 0, sizeof(counters));
    if (cfg.dnstap_count > 0) {
        ret = dnstap_loop_listen(&cfg, on_message, on_idle_clock, rs.detector, &counters);
    } else {
        ret = capture_loop_run(&cfg, on_message, on_prefetch, rs.detector, &counters);
    }
    if (ret != 0) {
        exit_code = ret == DF_EUSAGE ? EXIT_USAGE : EXIT_RUNTIME;
    }

    /* Pending alerts leave, rows commit, alerts are written, before the summary. */
    ret = detector_finish(rs.detector);
    log_snapshot(rs.detector, "written", "not written");
    if (ret != 0) {
        log_err("baseline, failed to record clients in '%s' (%s)", cfg.state_path,
                df_strerror(ret));
        exit_code = EXIT_RUNTIME;
    }
    struct store_counters store_counters = rs.store->counters;
    struct detector_stats stats = *detector_stats(rs.detector);
    run_close(&rs);

    summary_print_capture(stderr, &counters);
    summary_print_detection(stderr, &stats, &store_counters);
    print_storm_summary(stderr, &stats);
    enrichment_print_summary(rs.enrichment, stderr);
    enrichment_destroy(rs.enrichment);
    return exit_code;
}
