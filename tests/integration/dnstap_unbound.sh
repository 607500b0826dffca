#!/bin/bash
# dnstap from a real unbound: external clients alert once each, with the
# transport and the server's identity; the internal client does not.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dnstap_lib.sh"
require_dnsfirst
require_tool unbound dig jq

PORT=25353
SOCK=$TMP/dnstap.sock
unbound_config "$TMP" "$PORT" "$SOCK" ub-test
unbound-checkconf "$TMP/unbound.conf" >/dev/null || fail "unbound-checkconf rejected the config"

start_dnsfirst "$TMP" "unix:$SOCK"
wait_socket "$SOCK" || fail "dnsfirst did not create $SOCK"
unbound -d -c "$TMP/unbound.conf" 2>"$TMP/unbound.log" &
SRV=$!
trap 'stop_pid $SRV; stop_pid $DF_PID; cleanup_tmp' EXIT

wait_dns 127.0.0.1 "$PORT" || fail "unbound does not answer on port $PORT"
send_queries "$PORT"
# The same clients again: no second alert.
send_queries "$PORT"
wait_grep "$TMP/dnsfirst.log" "connected" || fail "unbound never connected"
sleep 2
stop_pid "$SRV"
stop_pid "$DF_PID"

EXPECTED="127.0.0.3 udp ub-test
127.0.0.9 tcp ub-test
127.1.2.3 udp ub-test
::1 udp ub-test"
check_alerts "$TMP/alerts.json" "$EXPECTED" || { cat "$TMP/dnsfirst.log"; fail "wrong alerts"; }
jq -e 'select(.dnsfirst.input.name != "dnstap:unix:'"$SOCK"'")' "$TMP/alerts.json" \
    >/dev/null && fail "alert input name is not dnstap:unix:$SOCK"
jq -e 'select(.observer.version == null or .dns.response_code != "NOERROR")' \
    "$TMP/alerts.json" >/dev/null && fail "alert without server version or response code"
grep -q "dnstap type CLIENT_QUERY" "$TMP/dnsfirst.log" || fail "no CLIENT_QUERY counted"
[ -e "$SOCK" ] && fail "dnsfirst left $SOCK behind"
note "4 alerts from unbound dnstap as expected"
