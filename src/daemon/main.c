/* SPDX-License-Identifier: MIT */
/*
 * main.c - dnsfirst: alert when an external client queries a DNS server
 * for the first time. This file only dispatches to the commands.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/commands.h"
#include "daemon/options.h"

#ifndef DNSFIRST_VERSION
#define DNSFIRST_VERSION "unknown"
#endif

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    { "run", cmd_run, "detect new external clients in captures and alert" },
    { "decode", cmd_decode, "print every DNS message of captures as JSON lines" },
    { "baseline", cmd_baseline, "list, show stats of, forget, prune, export or import clients" },
    { "check-config", cmd_check_config, "validate a config file and print the settings" },
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: dnsfirst COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].help);
    }
    fprintf(out, "\n'dnsfirst COMMAND --help' describes each command.\n"
                 "exit codes: 0 success, 1 runtime error, 2 usage or configuration error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("dnsfirst %s\n", DNSFIRST_VERSION);
        return EXIT_OK;
    }

    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "dnsfirst: unknown command '%s'\n\n", name);
    print_usage(stderr);
    return EXIT_USAGE;
}
