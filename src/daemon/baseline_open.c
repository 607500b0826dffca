/* SPDX-License-Identifier: MIT */
#include "daemon/baseline_open.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "store/sqlite_store.h"
#include "util/error.h"
#include "util/log.h"

/*
 * Write into @p buf what is wrong with the directory of @p path: missing,
 * or not a directory. Returns false, leaving @p buf alone, when it is a
 * directory or cannot be checked.
 */
static bool describe_directory_problem(const char *path, char *buf, size_t size)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return false; /* the current directory */
    }
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= sizeof(dir)) {
        return false;
    }
    memcpy(dir, path, len);
    dir[len] = '\0';

    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            return false;
        }
        snprintf(buf, size, "the directory '%s' does not exist, so create it or pass --state "
                            "with a path in an existing directory", dir);
        return true;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(buf, size, "'%s' is not a directory, so pass --state with a path in a "
                            "directory", dir);
        return true;
    }
    return false;
}

/*
 * Return what the user can do about failure @p ret to open @p path. Advice
 * about the directory is written into @p buf and returned from there.
 */
static const char *open_advice(int ret, const char *path, bool read_only, char *buf,
                               size_t size)
{
    switch (ret) {
    case DF_ENOTFOUND:
        if (describe_directory_problem(path, buf, size)) {
            return buf;
        }
        return read_only ? "run 'dnsfirst run' first to create it, or pass --state"
                         : "check the path and its permissions";
    case DF_ESTORE_CORRUPT:
        return "the file was left unchanged; restore it from a backup or an export, "
               "or pass --state with a new path";
    case DF_ESTORE_LOCKED:
        return "stop that process or pass another --state";
    case DF_ESTORE_READONLY:
        return "make the file and its directory writable, or pass another --state";
    case DF_ESTORE_VERSION:
        return "the file was left unchanged"; /* the store's message gives the next step */
    default:
        if (describe_directory_problem(path, buf, size)) {
            return buf;
        }
        return "check the path and its permissions";
    }
}

static int baseline_open_with(const struct config *cfg, bool read_only, bool quick_check,
                              bool log_failure, struct store **out)
{
    struct sqlite_store_options opts = {
        .batch_max = cfg->store_batch_max,
        .queue_max = cfg->store_queue_max,
        .skip_quick_check = !quick_check,
    };
    char err[512] = "";
    enum sqlite_store_mode mode = read_only ? SQLITE_STORE_READ_ONLY : SQLITE_STORE_READ_WRITE;
    int ret = sqlite_store_open_with(cfg->state_path, mode, &opts, out, err, sizeof(err));
    if (ret != 0 && log_failure) {
        char advice[4096 + 128];
        log_err("baseline, cannot open '%s' (%s: %s); %s", cfg->state_path, df_strerror(ret),
                err, open_advice(ret, cfg->state_path, read_only, advice, sizeof(advice)));
    }
    return ret;
}

int baseline_open(const struct config *cfg, bool read_only, struct store **out)
{
    return baseline_open_with(cfg, read_only, true, true, out);
}

int baseline_open_existing(const struct config *cfg, struct store **out)
{
    struct stat sb;
    if (stat(cfg->state_path, &sb) != 0 && errno == ENOENT) {
        char buf[512];
        log_err("baseline, cannot open '%s' (%s); %s", cfg->state_path,
                df_strerror(DF_ENOTFOUND),
                open_advice(DF_ENOTFOUND, cfg->state_path, true, buf, sizeof(buf)));
        return DF_ENOTFOUND;
    }
    return baseline_open(cfg, false, out);
}

/*
 * PRAGMA quick_check reads the whole file before the load reads every row
 * again: about 1.5 s of a 10-million-row start. The load reads every leaf
 * page of the clients table, and SQLite reports the corruption it meets
 * there, so run skips the check and keeps the header, application_id and
 * schema checks. Overflow pages of long first_query values, the other
 * tables and free pages go unchecked until a command that runs quick_check
 * (import, forget, prune) opens the file.
 */
int baseline_open_for_run(const struct config *cfg, struct store **out)
{
    return baseline_open_with(cfg, false, false, true, out);
}
