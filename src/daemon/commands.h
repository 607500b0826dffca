/* SPDX-License-Identifier: MIT */
/* commands.h - entry points of the dnsfirst commands; each returns an exit code. */
#pragma once

int cmd_run(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_baseline(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
