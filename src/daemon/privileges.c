/* SPDX-License-Identifier: MIT */
#include "daemon/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util/error.h"

static int fail(char *err, size_t err_size, const char *what, const char *user, int errnum)
{
    snprintf(err, err_size, "%s '%s' (%s)", what, user, strerror(errnum));
    return -errnum;
}

int privileges_effective_caps(unsigned long long *caps)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -errno;
    }
    char line[256];
    int ret = DF_ENOTFOUND;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "CapEff: %llx", caps) == 1) {
            ret = 0;
            break;
        }
    }
    fclose(f);
    return ret;
}

int privileges_drop(const char *user, char *err, size_t err_size)
{
    char buf[4096];
    struct passwd pw;
    struct passwd *found = NULL;
    int ret = getpwnam_r(user, &pw, buf, sizeof(buf), &found);
    if (found == NULL) {
        return fail(err, err_size, "cannot find user", user, ret != 0 ? ret : ENOENT);
    }

    /* Groups first: after setuid() there is no right left to change them. */
    if (setgroups(1, &pw.pw_gid) != 0 || setgid(pw.pw_gid) != 0) {
        return fail(err, err_size, "cannot switch to the group of", user, errno);
    }
    if (setuid(pw.pw_uid) != 0) {
        return fail(err, err_size, "cannot switch to user", user, errno);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return fail(err, err_size, "cannot set no_new_privs after switching to", user, errno);
    }

    /* Check rather than trust: root must be gone, with every capability. */
    unsigned long long caps = 0;
    if (pw.pw_uid != 0 && (setuid(0) == 0 || privileges_effective_caps(&caps) != 0 ||
                           caps != 0)) {
        return fail(err, err_size, "capabilities remain after switching to", user, EPERM);
    }
    return 0;
}
