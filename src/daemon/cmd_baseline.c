/* SPDX-License-Identifier: MIT */
/*
 * cmd_baseline.c - "dnsfirst baseline": look at and edit the baseline.
 *
 * list, stats and export open the file read-only, so they work while a
 * "run" is writing it. forget, prune and import need it to themselves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/baseline_open.h"
#include "daemon/commands.h"
#include "daemon/options.h"
#include "store/baseline_io.h"
#include "util/error.h"
#include "util/log.h"

static const struct command_options baseline_options = {
    .command = "baseline",
    .usage = "dnsfirst baseline list|stats|export [-c CONFIG] [--state PATH] [-o FILE]\n"
             "       dnsfirst baseline forget ADDRESS [--state PATH]\n"
             "       dnsfirst baseline prune --older-than DURATION|--storm [--state PATH]\n"
             "       dnsfirst baseline import FILE [--state PATH]",
    .summary = "list: one line per client (scope, client key, first and last seen, queries, "
               "flags, first query name). stats: totals, with learned, alerted and storm "
               "clients counted as list shows them. forget: remove every client whose key "
               "contains ADDRESS, so its next query alerts again. prune: remove clients last "
               "seen more than DURATION (above 0) before the newest last-seen time in the "
               "baseline; with --storm, remove the storm clients: those first seen during an "
               "alert storm that have not queried again outside a storm. export: one JSON "
               "object per client. import: merge such a file in one transaction (earliest "
               "first seen and latest last seen win).",
    .flags = OPT_CONFIG,
    .output_help = "File that list, stats and export write to, replacing it; - is standard "
                   "output.",
};

/* RFC 3339 UTC without a fraction: the baseline keeps whole seconds. */
static void format_seconds(int64_t sec, char *buf, size_t size)
{
    time_t t = (time_t)sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, size, "%lld", (long long)sec);
    }
}

/* Kind of baseline entry, shown in the FLAGS column of list and counted by stats. */
enum row_kind {
    ROW_ALERTED,
    ROW_LEARNED,
    ROW_STORM, /* also when the learned flag is set */
};

static enum row_kind row_kind_of(uint32_t flags)
{
    if (flags & STORE_CLIENT_STORM) {
        return ROW_STORM;
    }
    return (flags & STORE_CLIENT_LEARNED) ? ROW_LEARNED : ROW_ALERTED;
}

static const char *row_kind_name(enum row_kind kind)
{
    static const char *const names[] = { "alerted", "learned", "storm" };
    return names[kind];
}

static int print_row(void *ctx, const struct store_client *row)
{
    FILE *out = ctx;
    char first[40];
    char last[40];
    format_seconds(row->first_seen, first, sizeof(first));
    format_seconds(row->last_seen, last, sizeof(last));
    fprintf(out, "%-40s %-44s %s %s %8llu %-7s %s\n", row->scope, row->client, first, last,
            (unsigned long long)row->query_count,
            row_kind_name(row_kind_of(row->flags)), row->first_query);
    return ferror(out) ? DF_EOUTPUT : 0;
}

static int do_list(struct store *st, FILE *out)
{
    fprintf(out, "%-40s %-44s %-20s %-20s %8s %-7s %s\n", "SCOPE", "CLIENT", "FIRST_SEEN",
            "LAST_SEEN", "QUERIES", "FLAGS", "FIRST_QUERY");
    return st->ops->list(st, print_row, out);
}

static int do_stats(struct store *st, FILE *out)
{
    struct store_stats s;
    int ret = st->ops->stats(st, &s);
    if (ret != 0) {
        return ret;
    }

    char oldest[40] = "-";
    char newest[40] = "-";
    if (s.clients > 0) {
        format_seconds(s.oldest_first_seen, oldest, sizeof(oldest));
        format_seconds(s.newest_last_seen, newest, sizeof(newest));
    }
    fprintf(out, "clients %llu\nscopes %llu\nlearned %llu\nalerted %llu\nstorm %llu\n"
                 "outbox %llu\noldest_first_seen %s\nnewest_last_seen %s\n",
            (unsigned long long)s.clients, (unsigned long long)s.scopes,
            (unsigned long long)s.learned,
            (unsigned long long)(s.clients - s.learned - s.storm), (unsigned long long)s.storm,
            (unsigned long long)s.outbox, oldest, newest);
    return 0;
}

static int do_forget(struct store *st, const char *address)
{
    uint64_t removed = 0;
    int ret = st->ops->forget(st, address, &removed);
    if (ret == 0) {
        fprintf(stderr, "dnsfirst baseline: forgot %llu client(s) matching %s\n",
                (unsigned long long)removed, address);
    }
    return ret;
}

static int do_prune_storm(struct store *st)
{
    uint64_t removed = 0;
    int ret = st->ops->prune_flagged(st, STORE_CLIENT_STORM, &removed);
    if (ret == 0) {
        fprintf(stderr, "dnsfirst baseline: pruned %llu storm client(s) that have not "
                        "queried again outside a storm\n",
                (unsigned long long)removed);
    }
    return ret;
}

static int do_prune(struct store *st, int64_t older_than)
{
    struct store_stats s;
    int ret = st->ops->stats(st, &s);
    if (ret != 0 || s.clients == 0) {
        return ret;
    }
    uint64_t removed = 0;
    ret = st->ops->prune(st, s.newest_last_seen - older_than, &removed);
    if (ret == 0) {
        fprintf(stderr, "dnsfirst baseline: pruned %llu client(s)\n", (unsigned long long)removed);
    }
    return ret;
}

static int do_import(struct store *st, const char *path)
{
    char err[512] = "";
    uint64_t rows = 0;
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (in == NULL) {
        log_err("baseline, cannot open '%s' for import (%m)", path);
        return -errno;
    }
    int ret = baseline_io_import(st, in, path, &rows, err, sizeof(err));
    if (in != stdin) {
        fclose(in);
    }
    if (ret != 0) {
        log_err("baseline, import of '%s' failed, nothing was changed (%s)", path, err);
        return ret;
    }
    fprintf(stderr, "dnsfirst baseline: imported %llu client(s) from %s\n",
            (unsigned long long)rows, path);
    return 0;
}

/* Remove "--storm" from argv. Returns true when it was there. */
static bool take_storm_flag(int *argc, char **argv)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--storm") == 0) {
            memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i - 1) * sizeof(*argv));
            *argc -= 1;
            return true;
        }
    }
    return false;
}

/* Pull "--older-than DURATION" out of argv before the common parser sees it. */
static int take_older_than(int *argc, char **argv, int64_t *seconds, bool *given)
{
    *given = false;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--older-than") != 0) {
            continue;
        }
        if (i + 1 >= *argc || config_parse_duration(argv[i + 1], seconds) != 0) {
            fprintf(stderr, "dnsfirst baseline: --older-than needs a duration such as 90d\n");
            return EXIT_USAGE;
        }
        /* 0 would remove every client but those last seen in the newest second. */
        if (*seconds == 0) {
            fprintf(stderr, "dnsfirst baseline: invalid --older-than 0 (it would keep only the "
                            "clients last seen in the newest second); give a duration above 0 "
                            "such as 90d\n");
            return EXIT_USAGE;
        }
        memmove(&argv[i], &argv[i + 2], (size_t)(*argc - i - 2) * sizeof(*argv));
        *argc -= 2;
        *given = true;
        return EXIT_OK;
    }
    return EXIT_OK;
}

/* Run list, stats or export into the -o file (replaced, not appended), or standard output. */
static int print_to_output(const char *sub, struct store *st, const char *path)
{
    bool to_stdout = path[0] == '\0' || strcmp(path, "-") == 0;
    FILE *out = to_stdout ? stdout : fopen(path, "w");
    if (out == NULL) {
        log_err("baseline, cannot open '%s' for writing (%m)", path);
        return DF_EOUTPUT;
    }

    int ret = 0;
    if (strcmp(sub, "export") == 0) {
        uint64_t rows = 0;
        ret = baseline_io_export(st, out, &rows);
    } else if (strcmp(sub, "list") == 0) {
        ret = do_list(st, out);
    } else {
        ret = do_stats(st, out);
    }
    if (fflush(out) != 0 || (!to_stdout && fclose(out) != 0)) {
        ret = ret != 0 ? ret : DF_EOUTPUT;
    }
    return ret;
}

static int run_subcommand(const char *sub, const char *arg, const struct config *cfg,
                          int64_t older_than, bool storm)
{
    bool read_only = strcmp(sub, "list") == 0 || strcmp(sub, "stats") == 0 ||
                     strcmp(sub, "export") == 0;
    struct store *st = NULL;
    /* forget and prune edit a baseline; only import may start a new one. */
    bool must_exist = strcmp(sub, "forget") == 0 || strcmp(sub, "prune") == 0;
    int open_ret = must_exist ? baseline_open_existing(cfg, &st) : baseline_open(cfg, read_only, &st);
    if (open_ret != 0) {
        return EXIT_RUNTIME;
    }

    int ret = 0;
    if (strcmp(sub, "export") == 0 || strcmp(sub, "list") == 0 || strcmp(sub, "stats") == 0) {
        ret = print_to_output(sub, st, cfg->output_path);
    } else if (strcmp(sub, "forget") == 0) {
        ret = do_forget(st, arg);
    } else if (strcmp(sub, "prune") == 0) {
        ret = storm ? do_prune_storm(st) : do_prune(st, older_than);
    } else {
        ret = do_import(st, arg);
    }
    st->ops->close(st);
    if (ret == DF_EPARSE && strcmp(sub, "forget") == 0) {
        fprintf(stderr, "dnsfirst baseline forget: invalid address '%s' (expected an address, "
                        "a prefix such as 203.0.113.0/24, or a client key)\n", arg);
        return EXIT_USAGE;
    }
    if (ret != 0 && strcmp(sub, "import") != 0) {
        log_err("baseline, %s on '%s' failed (%s)", sub, cfg->state_path, df_strerror(ret));
    }
    return ret == 0 ? EXIT_OK : EXIT_RUNTIME;
}

int cmd_baseline(int argc, char **argv)
{
    int64_t older_than = 0;
    bool older_given = false;
    bool storm = take_storm_flag(&argc, argv);
    if (take_older_than(&argc, argv, &older_than, &older_given) != EXIT_OK) {
        return EXIT_USAGE;
    }
    struct config cfg;
    int first_arg = 0;
    int ret = options_parse(&baseline_options, argc, argv, &cfg, &first_arg);
    if (ret != EXIT_OK) {
        return ret < 0 ? EXIT_OK : ret;
    }

    static const struct {
        const char *name;
        int args;
    } subs[] = { { "list", 0 }, { "stats", 0 }, { "export", 0 }, { "forget", 1 },
                 { "prune", 0 }, { "import", 1 } };
    const char *sub = first_arg < argc ? argv[first_arg] : "";
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(sub, subs[i].name) != 0) {
            continue;
        }
        if (argc - first_arg - 1 != subs[i].args) {
            fprintf(stderr, "dnsfirst baseline %s: expected %d argument(s); see "
                            "'dnsfirst baseline --help'\n", sub, subs[i].args);
            return EXIT_USAGE;
        }
        if (strcmp(sub, "prune") == 0 && older_given == storm) {
            fprintf(stderr, "dnsfirst baseline prune: give either --older-than DURATION or "
                            "--storm\n");
            return EXIT_USAGE;
        }
        if (storm && strcmp(sub, "prune") != 0) {
            fprintf(stderr, "dnsfirst baseline %s: --storm applies to prune only\n", sub);
            return EXIT_USAGE;
        }
        return run_subcommand(sub, subs[i].args ? argv[first_arg + 1] : NULL, &cfg, older_than,
                              storm);
    }
    fprintf(stderr, "dnsfirst baseline: unknown subcommand '%s'; see 'dnsfirst baseline "
                    "--help'\n", sub);
    return EXIT_USAGE;
}
