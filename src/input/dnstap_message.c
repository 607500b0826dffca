/* SPDX-License-Identifier: MIT */
#include "input/dnstap_message.h"

#include <string.h>

#include "decode/dns_wire.h"
#include "dnstap.pb-c.h"

/*
 * Values of SocketProtocol that newer dnstap.proto versions add after DOH;
 * protobuf-c keeps an unknown enum value as its number, so they need no
 * newer .proto to be read.
 */
#define SOCKET_PROTOCOL_DNSCRYPT_UDP 5
#define SOCKET_PROTOCOL_DNSCRYPT_TCP 6
#define SOCKET_PROTOCOL_DOQ 7

static const char *const type_names[DNSTAP_TYPE_COUNT] = {
    "unknown", "AUTH_QUERY", "AUTH_RESPONSE", "RESOLVER_QUERY", "RESOLVER_RESPONSE",
    "CLIENT_QUERY", "CLIENT_RESPONSE", "FORWARDER_QUERY", "FORWARDER_RESPONSE",
    "STUB_QUERY", "STUB_RESPONSE", "TOOL_QUERY", "TOOL_RESPONSE", "UPDATE_QUERY",
    "UPDATE_RESPONSE",
};

static const char *const result_names[DNSTAP_RESULT_COUNT] = {
    "query", "response", "other type", "not a message", "no dns message",
    "no address", "no time", "malformed dns", "malformed protobuf",
};

const char *dnstap_type_name(unsigned type)
{
    return type < DNSTAP_TYPE_COUNT ? type_names[type] : type_names[0];
}

const char *dnstap_result_name(enum dnstap_result result)
{
    return (unsigned)result < DNSTAP_RESULT_COUNT ? result_names[result] : "unknown";
}

/* ---- observer strings -------------------------------------------------- */

#define OBSERVER_TEXT_MAX 256

/*
 * Interned identity and version strings. Servers send the same one or two
 * strings in every message, so a linear search over a few entries is cheap;
 * the table is never freed because pending alerts and queued rows point
 * into it until the process exits. Only one thread decodes dnstap.
 */
static char observer_table[DNSTAP_OBSERVER_MAX][OBSERVER_TEXT_MAX];
static size_t observer_count;

/* Copy @p b as printable ASCII, so that any bytes make valid JSON text. */
static void observer_text(const ProtobufCBinaryData *b, char *out)
{
    size_t len = b->len < OBSERVER_TEXT_MAX - 1 ? b->len : OBSERVER_TEXT_MAX - 1;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = b->data[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[len] = '\0';
}

static const char *observer_intern(protobuf_c_boolean has, const ProtobufCBinaryData *b)
{
    if (!has || b->len == 0) {
        return NULL;
    }
    char text[OBSERVER_TEXT_MAX];
    observer_text(b, text);
    for (size_t i = 0; i < observer_count; i++) {
        if (strcmp(observer_table[i], text) == 0) {
            return observer_table[i];
        }
    }
    if (observer_count == DNSTAP_OBSERVER_MAX) {
        return NULL;
    }
    memcpy(observer_table[observer_count], text, strlen(text) + 1);
    return observer_table[observer_count++];
}

/* ---- message fields ---------------------------------------------------- */

static enum dns_transport transport_of(const Dnstap__Message *m)
{
    if (!m->has_socket_protocol) {
        return DNS_TRANSPORT_UDP;
    }
    switch ((int)m->socket_protocol) {
    case DNSTAP__SOCKET_PROTOCOL__TCP:
        return DNS_TRANSPORT_TCP;
    case DNSTAP__SOCKET_PROTOCOL__DOT:
        return DNS_TRANSPORT_DOT;
    case DNSTAP__SOCKET_PROTOCOL__DOH:
        return DNS_TRANSPORT_DOH;
    case SOCKET_PROTOCOL_DNSCRYPT_UDP:
        return DNS_TRANSPORT_DNSCRYPT_UDP;
    case SOCKET_PROTOCOL_DNSCRYPT_TCP:
        return DNS_TRANSPORT_DNSCRYPT_TCP;
    case SOCKET_PROTOCOL_DOQ:
        return DNS_TRANSPORT_DOQ;
    default:
        return DNS_TRANSPORT_UDP;
    }
}

static void set_address(struct addr *out, uint8_t family, const uint8_t *bytes, size_t len)
{
    memset(out, 0, sizeof(*out));
    out->family = family;
    memcpy(out->bytes, bytes, len);
}

/* Take an address of 4 or 16 bytes; socket_family, when present, must agree. */
static bool address_of(const Dnstap__Message *m, protobuf_c_boolean has,
                       const ProtobufCBinaryData *b, struct addr *out)
{
    if (!has) {
        return false;
    }
    bool v6_family = m->has_socket_family && m->socket_family == DNSTAP__SOCKET_FAMILY__INET6;
    if (b->len == 4 && !v6_family) {
        set_address(out, ADDR_FAMILY_IPV4, b->data, 4);
        return true;
    }
    if (b->len == 16 && (v6_family || !m->has_socket_family)) {
        set_address(out, ADDR_FAMILY_IPV6, b->data, 16);
        return true;
    }
    return false;
}

/*
 * Set the message time: the response time for a response and the query
 * time for a query, each falling back to the other when the server left it
 * out. Returns false when neither is a usable time.
 */
static bool time_of(const Dnstap__Message *m, bool response, struct dns_message *msg)
{
    bool has_query = m->has_query_time_sec;
    bool has_response = m->has_response_time_sec;
    uint64_t sec;
    if (has_response && (response || !has_query)) {
        sec = m->response_time_sec;
        msg->ts_nsec = m->has_response_time_nsec ? m->response_time_nsec : 0;
    } else if (has_query) {
        sec = m->query_time_sec;
        msg->ts_nsec = m->has_query_time_nsec ? m->query_time_nsec : 0;
    } else {
        return false;
    }

    /* The detector counts nanoseconds in an int64_t. */
    if (msg->ts_nsec >= 1000000000u || sec > (uint64_t)INT64_MAX / 1000000000u - 1) {
        return false;
    }
    msg->ts_sec = (int64_t)sec;
    return true;
}

static enum dnstap_result fill_message(const Dnstap__Message *m, bool response,
                                       struct dns_message *msg)
{
    /* The wire message first: without it there is nothing to check. */
    protobuf_c_boolean has_wire = response ? m->has_response_message : m->has_query_message;
    const ProtobufCBinaryData *wire = response ? &m->response_message : &m->query_message;
    if (!has_wire || wire->len == 0) {
        return DNSTAP_RESULT_NO_WIRE;
    }

    /* The client sent the query; the server sent the response. */
    struct addr client, server;
    if (!address_of(m, m->has_query_address, &m->query_address, &client) ||
        !address_of(m, m->has_response_address, &m->response_address, &server)) {
        return DNSTAP_RESULT_NO_ADDRESS;
    }
    uint16_t client_port = m->has_query_port ? (uint16_t)m->query_port : 0;
    uint16_t server_port = m->has_response_port ? (uint16_t)m->response_port : 0;
    msg->src = response ? server : client;
    msg->dst = response ? client : server;
    msg->sport = response ? server_port : client_port;
    msg->dport = response ? client_port : server_port;
    msg->transport = (uint8_t)transport_of(m);
    if (!time_of(m, response, msg)) {
        return DNSTAP_RESULT_NO_TIME;
    }

    /* As for captures: a message whose question parsed is still usable. */
    enum dns_wire_error err = dns_wire_parse(wire->data, wire->len, msg);
    if (err != DNS_WIRE_OK && !msg->has_question) {
        return DNSTAP_RESULT_BAD_DNS;
    }
    if (response) {
        msg->flags |= DNS_FLAG_QR;
        return DNSTAP_RESULT_RESPONSE;
    }
    return DNSTAP_RESULT_QUERY;
}

enum dnstap_result dnstap_message_decode(const uint8_t *frame, size_t len,
                                         struct dns_message *msg, unsigned *type)
{
    memset(msg, 0, sizeof(*msg));
    *type = 0;
    Dnstap__Dnstap *d = dnstap__dnstap__unpack(NULL, len, frame);
    if (d == NULL) {
        return DNSTAP_RESULT_BAD_PROTOBUF;
    }

    enum dnstap_result result = DNSTAP_RESULT_NOT_MESSAGE;
    if (d->type != DNSTAP__DNSTAP__TYPE__MESSAGE || d->message == NULL) {
        goto out;
    }
    const Dnstap__Message *m = d->message;
    unsigned t = (unsigned)m->type;
    *type = t < DNSTAP_TYPE_COUNT ? t : 0;

    switch (t) {
    case DNSTAP__MESSAGE__TYPE__CLIENT_QUERY:
    case DNSTAP__MESSAGE__TYPE__AUTH_QUERY:
        result = fill_message(m, false, msg);
        break;
    case DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE:
    case DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE:
        result = fill_message(m, true, msg);
        break;
    default:
        result = DNSTAP_RESULT_OTHER_TYPE;
        break;
    }
    if (result == DNSTAP_RESULT_QUERY || result == DNSTAP_RESULT_RESPONSE) {
        msg->observer.server_reported = true;
        msg->observer.name = observer_intern(d->has_identity, &d->identity);
        msg->observer.version = observer_intern(d->has_version, &d->version);
    }

out:
    dnstap__dnstap__free_unpacked(d, NULL);
    return result;
}
