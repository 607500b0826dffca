/* SPDX-License-Identifier: MIT */
/* baseline_open.h - open the configured baseline store, logging what to do on failure. */
#pragma once

#include <stdbool.h>

#include "daemon/config.h"
#include "store/store.h"

/* Open cfg->state_path. Returns 0, or the store's error after logging it. */
int baseline_open(const struct config *cfg, bool read_only, struct store **out);

/*
 * Open cfg->state_path for writing, as baseline_open(), but fail with
 * DF_ENOTFOUND instead of creating it when the file is missing.
 */
int baseline_open_existing(const struct config *cfg, struct store **out);

/*
 * Open cfg->state_path for reading and writing without PRAGMA quick_check,
 * for run, which loads every client row right after. Returns as baseline_open().
 */
int baseline_open_for_run(const struct config *cfg, struct store **out);
