/* SPDX-License-Identifier: MIT */
/*
 * options.h - the command line of each command, built on the settings table.
 *
 * Every setting in the table is also a long flag (--learning-period 7d).
 * A config file named with -c is read first; flags then override it, so
 * a one-off run needs no file.
 */
#pragma once

#include <stdbool.h>

#include "daemon/config.h"

/* Exit codes of every command. */
#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* Command-specific flags a command accepts besides the settings. */
#define OPT_READ 0x01   /* -r FILE, repeatable */
#define OPT_CONFIG 0x02 /* -c FILE */
#define OPT_ALL_SETTINGS 0x08 /* every setting of the table as a flag */

struct command_options {
    const char *command;   /* for messages: "run", "baseline list" */
    const char *usage;     /* synopsis line for --help */
    const char *summary;   /* one paragraph for --help */
    unsigned flags;        /* OPT_* */
    const char *output_help; /* help of -o when it is not the alert file, or NULL */
};

/*
 * Parse argv of a command into @p cfg (defaults, then -c file, then flags).
 * Positional arguments are left in argv[*first_arg .. argc-1].
 * Returns EXIT_OK, EXIT_USAGE after an error message, or -1 after --help
 * was printed (the caller exits 0).
 */
int options_parse(const struct command_options *cmd, int argc, char **argv, struct config *cfg,
                  int *first_arg);
