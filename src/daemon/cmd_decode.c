/* SPDX-License-Identifier: MIT */
/* cmd_decode.c - "dnsfirst decode": every DNS message of the captures as JSON lines. */
#include <stdio.h>
#include <string.h>

#include "daemon/capture_loop.h"
#include "daemon/commands.h"
#include "daemon/options.h"
#include "daemon/summary.h"
#include "output/alert.h"
#include "output/sink.h"
#include "util/error.h"
#include "util/log.h"

static const struct command_options decode_options = {
    .command = "decode",
    .usage = "dnsfirst decode -r FILE [-r FILE ...] [--dns-port N] [-o FILE]",
    .summary = "Decode every DNS message of the captures, in time order, and write one JSON "
               "object per message with the same field names as the alerts. Needs no "
               "baseline. The summary goes to standard error.",
    .flags = OPT_READ,
    .output_help = "File that decoded messages are appended to as JSON lines; - is "
                   "standard output.",
};

struct decode_state {
    const struct config *cfg;
    struct sink *sink;
    int error;
};

static void print_message(void *ctx, const struct dns_message *msg)
{
    struct decode_state *ds = ctx;
    const char *input = NULL;
    if (msg->origin.input_index < ds->cfg->input_count) {
        input = ds->cfg->inputs[msg->origin.input_index];
    }
    struct dns_message full = *msg;
    dns_message_parse_records(&full);
    char json[ALERT_JSON_MAX];
    size_t len = message_json_format(&full, input, json, sizeof(json));
    if (len > 0 && ds->error == 0) {
        ds->error = sink_write_line(ds->sink, json, len);
    }
}

int cmd_decode(int argc, char **argv)
{
    struct config cfg;
    int first_arg = 0;
    int ret = options_parse(&decode_options, argc, argv, &cfg, &first_arg);
    if (ret != EXIT_OK) {
        return ret < 0 ? EXIT_OK : ret;
    }
    if (first_arg < argc || cfg.input_count == 0) {
        fprintf(stderr, "dnsfirst decode: %s; see 'dnsfirst decode --help'\n",
                cfg.input_count == 0 ? "no capture given (use -r FILE)" : "unexpected argument");
        return EXIT_USAGE;
    }

    struct decode_state ds = { .cfg = &cfg };
    if (sink_open(cfg.output_path, &ds.sink) != 0) {
        log_err("output, cannot open '%s' (%m)", cfg.output_path);
        return EXIT_RUNTIME;
    }
    capture_install_signals();
    struct capture_counters counters;
    memset(&counters, 0, sizeof(counters));
    ret = capture_loop_run(&cfg, print_message, NULL, &ds, &counters);
    sink_close(ds.sink);
    summary_print_capture(stderr, &counters);

    if (ds.error != 0) {
        log_err("output, cannot write to '%s'", cfg.output_path);
    }
    if (ret == DF_EUSAGE) {
        return EXIT_USAGE;
    }
    return ret != 0 || ds.error != 0 ? EXIT_RUNTIME : EXIT_OK;
}
