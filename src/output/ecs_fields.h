/* SPDX-License-Identifier: MIT */
/*
 * ecs_fields.h - Elastic Common Schema fields that alerts and decoded
 * messages share, so both spell the same fact the same way.
 *
 * Each function writes one member (or a few) into an open JSON object and
 * leaves out whatever the message does not know.
 */
#pragma once

#include <stdint.h>

#include "decode/dns_message.h"
#include "output/json_writer.h"

/* "@timestamp": the capture time, omitted when it cannot be formatted. */
void ecs_write_timestamp(struct json_writer *w, int64_t sec, uint32_t nsec);

/* "source", "destination" and "network" from the message's addresses. */
void ecs_write_endpoints(struct json_writer *w, const struct dns_message *m);

/* Writes more members into an object that is open, such as "source". */
typedef void (*ecs_extra_fn)(struct json_writer *w, const void *ctx);

/* As ecs_write_endpoints(), with @p source_extra adding members to "source". */
void ecs_write_endpoints_with(struct json_writer *w, const struct dns_message *m,
                              ecs_extra_fn source_extra, const void *ctx);

/*
 * "header_flags": the set flags among AA TC RD RA AD CD, then DO when the
 * message carried EDNS with the DO bit.
 */
void ecs_write_header_flags(struct json_writer *w, const struct dns_message *m);

/* "question": {"name","type","class"}, omitted when there is no question. */
void ecs_write_question(struct json_writer *w, const struct dns_message *m);

/* "op_code": the opcode mnemonic of the message. */
void ecs_write_op_code(struct json_writer *w, const struct dns_message *m);

/* "response_code": the mnemonic of @p rcode (12 bits with EDNS). */
void ecs_write_response_code(struct json_writer *w, unsigned rcode);

/* "input": {"name","packet"} under "dnsfirst", omitted when both are unknown. */
void ecs_write_input(struct json_writer *w, const char *input_name,
                     const struct dns_message *m);

/* Write "tunnel": the outermost encapsulation and its addresses, when there was one. */
void ecs_write_tunnel(struct json_writer *w, const struct dns_message *m);
