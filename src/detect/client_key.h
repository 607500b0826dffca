/* SPDX-License-Identifier: MIT */
/*
 * client_key.h - the text form of a client key, without stdio.
 *
 * The store keys its rows by text such as "192.0.2.7/32". The detector
 * formats a key for every new client and every last-seen update, and
 * prefix_format() spends about 2,800 instructions on one, measured with
 * callgrind on glibc 2.36 (inet_ntop() of an IPv4 address and the "/len"
 * both go through sprintf). This writes IPv4
 * keys digit by digit and IPv6 keys with inet_ntop() alone, and its output
 * is byte for byte that of prefix_format().
 */
#pragma once

#include <stddef.h>

#include "util/addr.h"

/*
 * Write "address/len" for @p p into @p buf, NUL-terminated, as
 * prefix_format() does. Returns the length written.
 */
size_t client_key_format(const struct prefix *p, char *buf, size_t size);
