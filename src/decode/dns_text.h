/* SPDX-License-Identifier: MIT */
/*
 * dns_text.h - presentation form of names, types, classes and codes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "decode/dns_message.h"

/* Longest presentation form of a name: every byte as "\DDD", plus dots. */
#define DNS_NAME_TEXT_MAX (DNS_NAME_MAX * 4 + 1)

/*
 * Write the wire-form name as zone-file text: labels joined by ".", with
 * "." and "\" in labels escaped as "\." and "\\", and bytes outside
 * printable ASCII as "\DDD". The root name is ".". Other names have no
 * trailing dot. Returns the text length.
 */
size_t dns_name_format(const uint8_t *name, size_t name_len, char *buf, size_t size);

/* Mnemonic of a record type ("AAAA"), or "TYPEnnn" (RFC 3597) in @p buf. */
const char *dns_type_name(uint16_t type, char buf[16]);

/* Mnemonic of a class ("IN"), or "CLASSnnn" (RFC 3597) in @p buf. */
const char *dns_class_name(uint16_t qclass, char buf[16]);

/* Mnemonic of a response code ("NXDOMAIN"), or "RCODEnnn" in @p buf. */
const char *dns_rcode_name(unsigned rcode, char buf[16]);

/* Mnemonic of an opcode ("QUERY", "UPDATE"), or "OPCODEnn" in @p buf. */
const char *dns_opcode_name(unsigned opcode, char buf[16]);
