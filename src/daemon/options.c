/* SPDX-License-Identifier: MIT */
#include "daemon/options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"

/* getopt_long values of the command-specific flags, above any character. */
enum {
    FLAG_SETTING_BASE = 2000, /* FLAG_SETTING_BASE + index into the settings table */
};

#define MAX_LONG_OPTIONS 128

static bool setting_allowed(const struct command_options *cmd, const char *name)
{
    if (cmd->flags & OPT_ALL_SETTINGS) {
        return true;
    }
    /* Commands that read no traffic still need to find the baseline and log;
     * decode needs to know which traffic is DNS. */
    if (strcmp(name, "state") == 0 || strcmp(name, "log-level") == 0 ||
        strcmp(name, "output") == 0) {
        return true;
    }
    return (cmd->flags & OPT_READ) &&
           (strcmp(name, "dns-port") == 0 || strcmp(name, "doh-server") == 0);
}

static size_t build_long_options(const struct command_options *cmd, struct option *opts)
{
    size_t n = 0;
    for (size_t i = 0; i < config_setting_count() && n < MAX_LONG_OPTIONS - 4; i++) {
        const struct config_setting *s = config_setting_at(i);
        if (!setting_allowed(cmd, s->name)) {
            continue;
        }
        /* A bool flag alone means true: "--learn" is "--learn=true". */
        int has_arg = s->type == CONFIG_TYPE_BOOL ? optional_argument : required_argument;
        opts[n++] = (struct option){ s->name, has_arg, NULL, FLAG_SETTING_BASE + (int)i };
    }
    if (cmd->flags & OPT_CONFIG) {
        opts[n++] = (struct option){ "config", required_argument, NULL, 'c' };
    }
    if (cmd->flags & OPT_READ) {
        opts[n++] = (struct option){ "read", required_argument, NULL, 'r' };
    }
    opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
    opts[n] = (struct option){ NULL, 0, NULL, 0 };
    return n;
}

/* Print @p text wrapped at 78 columns, each line indented by @p indent spaces. */
static void print_wrapped(const char *text, int indent)
{
    int col = 0;
    while (*text != '\0') {
        size_t word = strcspn(text, " ");
        if (col > 0 && col + 1 + (int)word > 78) {
            putchar('\n');
            col = 0;
        }
        if (col == 0) {
            col = printf("%*s", indent, "");
        } else {
            col += printf(" ");
        }
        col += printf("%.*s", (int)word, text);
        text += word;
        text += strspn(text, " ");
    }
    putchar('\n');
}

static void print_setting_help(const struct command_options *cmd,
                               const struct config_setting *s)
{
    char flag[96];
    const char *short_flag = strcmp(s->name, "output") == 0 ? "-o, " : "    ";
    if (strcmp(s->name, "interface") == 0) {
        short_flag = "-i, ";
    }
    if (s->type == CONFIG_TYPE_BOOL) {
        snprintf(flag, sizeof(flag), "  %s--%s", short_flag, s->name);
    } else {
        snprintf(flag, sizeof(flag), "  %s--%s %s", short_flag, s->name, s->value_name);
    }
    puts(flag);

    char help[1024];
    const char *text = s->help;
    if (strcmp(s->name, "output") == 0 && cmd->output_help != NULL) {
        text = cmd->output_help;
    }
    snprintf(help, sizeof(help), "%s%s Default: %s.", text,
             s->repeatable ? " Repeatable." : "",
             s->default_text[0] != '\0' ? s->default_text : "none");
    print_wrapped(help, 10);
}

static void print_help(const struct command_options *cmd)
{
    printf("usage: %s\n\n", cmd->usage);
    print_wrapped(cmd->summary, 0);
    printf("\noptions:\n");
    if (cmd->flags & OPT_READ) {
        printf("  -r, --read FILE\n");
        print_wrapped("Read a pcap or pcapng capture. Repeatable; files are merged by "
                      "capture time.", 10);
    }
    if (cmd->flags & OPT_CONFIG) {
        printf("  -c, --config FILE\n");
        print_wrapped("Read settings from FILE first; flags override it.", 10);
    }
    printf("  -h, --help\n");
    print_wrapped("Print this help and exit.", 10);
    for (size_t i = 0; i < config_setting_count(); i++) {
        const struct config_setting *s = config_setting_at(i);
        if (setting_allowed(cmd, s->name)) {
            print_setting_help(cmd, s);
        }
    }
    printf("\nexit codes: 0 success, 1 runtime error, 2 usage or configuration error\n");
}

/* First pass: only -c and --help, so the file is read before flags override it. */
static int find_config_file(const struct command_options *cmd, int argc, char **argv,
                            const struct option *opts, const char **path)
{
    *path = NULL;
    opterr = 0;
    optind = 0; /* 0, not 1: makes glibc's getopt start over completely */
    int c;
    while ((c = getopt_long(argc, argv, "r:i:c:o:h", opts, NULL)) != -1) {
        if (c == 'c') {
            *path = optarg;
        } else if (c == 'h') {
            print_help(cmd);
            return -1;
        }
    }
    return EXIT_OK;
}

static int apply_flag(const struct command_options *cmd, struct config *cfg, int c,
                      const char *arg)
{
    char err[256] = "";
    const char *name = NULL;
    if (c == 'o') {
        name = "output";
    } else if (c == 'i') {
        name = "interface";
    } else if (c >= FLAG_SETTING_BASE) {
        name = config_setting_at((size_t)(c - FLAG_SETTING_BASE))->name;
    }

    if (name != NULL) {
        if (arg == NULL) {
            arg = "true";
        }
        if (config_set(cfg, name, arg, err, sizeof(err)) != 0) {
            fprintf(stderr, "dnsfirst %s: --%s: %s\n", cmd->command, name, err);
            return EXIT_USAGE;
        }
        return EXIT_OK;
    }
    if (c == 'r') {
        if (cfg->input_count == CONFIG_INPUTS_MAX) {
            fprintf(stderr, "dnsfirst %s: too many -r files (at most %d)\n", cmd->command,
                    CONFIG_INPUTS_MAX);
            return EXIT_USAGE;
        }
        cfg->inputs[cfg->input_count++] = arg;
        return EXIT_OK;
    }
    if (c == 'c') {
        return EXIT_OK; /* read in the first pass */
    }
    fprintf(stderr, "dnsfirst %s: invalid option; see 'dnsfirst %s --help'\n", cmd->command,
            cmd->command);
    return EXIT_USAGE;
}

int options_parse(const struct command_options *cmd, int argc, char **argv, struct config *cfg,
                  int *first_arg)
{
    struct option opts[MAX_LONG_OPTIONS];
    build_long_options(cmd, opts);
    config_init(cfg);

    const char *config_path = NULL;
    int ret = find_config_file(cmd, argc, argv, opts, &config_path);
    if (ret != EXIT_OK) {
        return ret;
    }
    if (config_path != NULL) {
        char err[512];
        if (config_load_file(cfg, config_path, err, sizeof(err)) != 0) {
            fprintf(stderr, "dnsfirst %s: %s\n", cmd->command, err);
            return EXIT_USAGE;
        }
    }

    /* Second pass: every flag, in order, over the file's values. */
    config_source_begin(cfg);
    const char *short_opts = (cmd->flags & OPT_READ) ? "r:i:c:o:h" : "c:o:h";
    opterr = 1;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, short_opts, opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            fprintf(stderr, "dnsfirst %s: see 'dnsfirst %s --help'\n", cmd->command,
                    cmd->command);
            return EXIT_USAGE;
        }
        ret = apply_flag(cmd, cfg, c, optarg);
        if (ret != EXIT_OK) {
            return ret;
        }
    }

    char err[512];
    if (config_validate(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "dnsfirst %s: %s\n", cmd->command, err);
        return EXIT_USAGE;
    }
    log_set_level((enum log_level)cfg->log_level);
    *first_arg = optind;
    return EXIT_OK;
}
