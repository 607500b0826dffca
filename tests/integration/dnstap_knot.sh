#!/bin/bash
# dnstap from a real knotd (mod-dnstap, AUTH_QUERY and AUTH_RESPONSE).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dnstap_lib.sh"
require_dnsfirst
require_tool knotd knotc dig jq
ls /usr/lib/*/knot/modules-*/dnstap.so >/dev/null 2>&1 || skip "knot-module-dnstap not installed"

PORT=25354
knot_config "$TMP" "$PORT" "$TMP/dnstap.sock" knot-test
knotc -c "$TMP/knot.conf" conf-check >/dev/null 2>&1 || fail "knotc conf-check rejected the config"
server_case "$PORT" knot-test 2 knotd -c "$TMP/knot.conf"
grep -q "dnstap type AUTH_QUERY" "$TMP/dnsfirst.log" || fail "no AUTH_QUERY counted"
note "4 alerts from knot dnstap as expected"
