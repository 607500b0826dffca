/* SPDX-License-Identifier: MIT */
/* cmd_check_config.c - "dnsfirst check-config": validate settings and print them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/commands.h"
#include "daemon/options.h"
#include "enrich/enrichment.h"
#include "enrich/intel.h"

static const struct command_options check_options = {
    .command = "check-config",
    .usage = "dnsfirst check-config -c CONFIG [settings]\n"
             "       dnsfirst check-config --markdown",
    .summary = "Read the config file and any setting flags, check every value, and print "
               "the effective settings as 'key = value' lines. Exits 2 with the file and "
               "line of the first invalid setting. --markdown prints the reference table of "
               "every setting instead.",
    .flags = OPT_CONFIG | OPT_ALL_SETTINGS,
};

int cmd_check_config(int argc, char **argv)
{
    /* The README's settings table is this output, so the two cannot drift apart. */
    if (argc == 2 && strcmp(argv[1], "--markdown") == 0) {
        config_print_markdown(stdout);
        return EXIT_OK;
    }
    struct config cfg;
    int first_arg = 0;
    int ret = options_parse(&check_options, argc, argv, &cfg, &first_arg);
    if (ret != EXIT_OK) {
        return ret < 0 ? EXIT_OK : ret;
    }
    if (first_arg < argc) {
        fprintf(stderr, "dnsfirst check-config: unexpected argument '%s'\n", argv[first_arg]);
        return EXIT_USAGE;
    }
    /* Load what run would load at start, so a missing list or database shows here. */
    struct enrichment *enrichment = NULL;
    char err[INTEL_ERR_MAX];
    ret = enrichment_create(&cfg, &enrichment, err, sizeof(err));
    if (ret != 0) {
        fprintf(stderr, "dnsfirst check-config: %s\n", err);
        return ret == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    enrichment_destroy(enrichment);

    config_print(&cfg, stdout);
    fprintf(stderr, "dnsfirst check-config: configuration is valid\n");
    return EXIT_OK;
}
