/* SPDX-License-Identifier: MIT */
/*
 * dnstap_message.h - one dnstap protobuf message as a struct dns_message.
 *
 * CLIENT_QUERY and AUTH_QUERY become queries: the client is query_address
 * and query_port, the server response_address and response_port, the time
 * query_time. CLIENT_RESPONSE and AUTH_RESPONSE become responses (QR set)
 * from the server to the client at response_time, or at query_time when the
 * server sent no response time. The DNS message inside goes through
 * dns_wire_parse(), the parser captures use. The other message types
 * (RESOLVER_*, FORWARDER_*, STUB_*, TOOL_*, UPDATE_*) describe the server's
 * own upstream traffic, so they are counted and dropped.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "decode/dns_message.h"

/* Message types of dnstap.proto, Message.Type 1 to 14; 0 counts unknown types. */
#define DNSTAP_TYPE_COUNT 15

enum dnstap_result {
    DNSTAP_RESULT_QUERY = 0,     /* *msg is a query to check */
    DNSTAP_RESULT_RESPONSE,      /* *msg is a response, for response matching */
    DNSTAP_RESULT_OTHER_TYPE,    /* resolver, forwarder, stub, tool or update message */
    DNSTAP_RESULT_NOT_MESSAGE,   /* a Dnstap record of a type other than MESSAGE */
    DNSTAP_RESULT_NO_WIRE,       /* no query_message or response_message to parse */
    DNSTAP_RESULT_NO_ADDRESS,    /* client or server address missing or of a bad length */
    DNSTAP_RESULT_NO_TIME,       /* neither query_time nor response_time */
    DNSTAP_RESULT_BAD_DNS,       /* the DNS message does not parse */
    DNSTAP_RESULT_BAD_PROTOBUF,  /* the frame is not a dnstap protobuf message */
    DNSTAP_RESULT_COUNT,
};

/* Short name of a result, as the summary prints it. */
const char *dnstap_result_name(enum dnstap_result result);

/* Name of dnstap message type @p type ("CLIENT_QUERY"), or "unknown". */
const char *dnstap_type_name(unsigned type);

/*
 * Decode the dnstap frame @p frame into @p msg (fully overwritten; origin
 * left zero for the caller). Sets *type to the message type (0 when there is
 * none). Returns the result; only DNSTAP_RESULT_QUERY and _RESPONSE fill
 * @p msg. The identity and version strings are interned in a table of
 * static storage, so messages and alerts may keep them for the whole run;
 * past DNSTAP_OBSERVER_MAX distinct strings, new ones read as NULL.
 */
enum dnstap_result dnstap_message_decode(const uint8_t *frame, size_t len,
                                         struct dns_message *msg, unsigned *type);

#define DNSTAP_OBSERVER_MAX 64

/* Counters of one run's dnstap inputs, for the summary. */
struct dnstap_counters {
    uint64_t used;                 /* dnstap files read or endpoints listened on */
    uint64_t connections;          /* connections accepted */
    uint64_t connections_rejected; /* closed at once: too many connections */
    uint64_t connection_errors;    /* closed for a protocol or message error */
    uint64_t partial_frames;       /* frames cut short by a disconnect or file end */
    uint64_t control_frames;
    uint64_t data_frames;
    uint64_t file_errors;          /* dnstap files that ended in an error */
    uint64_t types[DNSTAP_TYPE_COUNT];
    uint64_t results[DNSTAP_RESULT_COUNT];
};
