/* SPDX-License-Identifier: MIT */
#include "daemon/baseline_open.h"

#include "store/sqlite_store.h"
#include "util/error.h"
#include "util/log.h"

/* What the user can do about each failure to open the baseline. */
static const char *open_advice(int ret)
{
    switch (ret) {
    case DF_ENOTFOUND:
        return "run 'dnsfirst run' first to create it, or pass --state";
    case DF_ESTORE_CORRUPT:
        return "the file was left unchanged; restore it from a backup or an export, "
               "or pass --state with a new path";
    case DF_ESTORE_LOCKED:
        return "another dnsfirst is using it; stop that one or pass another --state";
    case DF_ESTORE_READONLY:
        return "make the file and its directory writable, or pass another --state";
    case DF_ESTORE_VERSION:
        return "the file belongs to another program or a newer dnsfirst; it was left "
               "unchanged, so pass another --state";
    default:
        return "check the path and its permissions";
    }
}

int baseline_open(const struct config *cfg, bool read_only, struct store **out)
{
    struct sqlite_store_options opts = {
        .batch_max = cfg->store_batch_max,
        .queue_max = cfg->store_queue_max,
    };
    char err[512] = "";
    enum sqlite_store_mode mode = read_only ? SQLITE_STORE_READ_ONLY : SQLITE_STORE_READ_WRITE;
    int ret = sqlite_store_open_with(cfg->state_path, mode, &opts, out, err, sizeof(err));
    if (ret != 0) {
        log_err("baseline, cannot open '%s' (%s: %s); %s", cfg->state_path, df_strerror(ret),
                err, open_advice(ret));
    }
    return ret;
}
