#!/bin/bash
# dnstap from a real BIND 9 named (authoritative: AUTH_QUERY, CLIENT_RESPONSE).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dnstap_lib.sh"
require_dnsfirst
require_tool named named-checkconf dig jq

PORT=25355
bind_config "$TMP" "$PORT" "$TMP/dnstap.sock" bind-test
named-checkconf "$TMP/named.conf" || fail "named-checkconf rejected the config"
server_case "$PORT" bind-test 3 named -g -c "$TMP/named.conf"
note "4 alerts from bind dnstap as expected"
