/* SPDX-License-Identifier: MIT */
/*
 * client_key.h - the text form of a client key, without stdio.
 *
 * The store keys its rows by text such as "192.0.2.7/32". The detector
 * formats a key for every new client and every last-seen update, and
 * prefix_format() spends about 2,800 instructions on one, measured with
 * callgrind on glibc 2.36 (inet_ntop() writes each IPv6 word and the whole
 * IPv4 address through sprintf, and so does the "/len"). This writes both
 * families digit by digit, in about 180 instructions a key on the c1m
 * benchmark capture (callgrind, IPv4 and IPv6 keys mixed). Its output is
 * byte for byte that of prefix_format(), which tests/unit/test_client_key.c
 * checks on random addresses.
 */
#pragma once

#include <stddef.h>

#include "util/addr.h"

/*
 * Write "address/len" for @p p into @p buf, NUL-terminated, as
 * prefix_format() does. Returns the length written.
 */
size_t client_key_format(const struct prefix *p, char *buf, size_t size);
