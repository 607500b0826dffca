/* SPDX-License-Identifier: MIT */
/*
 * privileges.h - give up root after the capture sockets are open.
 *
 * Switching from root to another user with setgroups(), setgid() and
 * setuid() makes the kernel clear the permitted, effective and ambient
 * capability sets (no SECBIT_KEEP_CAPS is set), so no libcap call is
 * needed; PR_SET_NO_NEW_PRIVS then keeps exec() from regaining any. Open
 * capture sockets, the baseline and the alert file keep working after the
 * switch; files opened later (a rotated alert file, a config reload) need
 * the new user's permissions.
 */
#pragma once

#include <stddef.h>

/*
 * Switch every thread to @p user and its primary group, keeping no
 * capabilities. Returns 0, or a negative code with the reason in @p err.
 */
int privileges_drop(const char *user, char *err, size_t err_size);

/* Read the effective capability set of this process. Returns 0 or a negative code. */
int privileges_effective_caps(unsigned long long *caps);
