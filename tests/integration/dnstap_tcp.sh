#!/bin/bash
# dnstap over TCP from a real unbound (dnstap-ip, no TLS): the same alerts as
# over a unix socket, and the input is named after the TCP endpoint.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dnstap_lib.sh"
require_dnsfirst
require_tool unbound dig jq ss

PORT=25360
TAP_PORT=25361
unbound_config "$TMP" "$PORT" "$TMP/unused.sock" ub-tcp
# Send dnstap to dnsfirst's TCP listener on loopback instead of a unix socket.
sed -i "s|dnstap-socket-path: .*|dnstap-ip: 127.0.0.1@$TAP_PORT\n    dnstap-tls: no|" \
    "$TMP/unbound.conf"
unbound-checkconf "$TMP/unbound.conf" >/dev/null || fail "unbound-checkconf rejected the config"

start_dnsfirst "$TMP" "tcp:127.0.0.1:$TAP_PORT"
for i in $(seq 1 50); do
    ss -ltn "sport = :$TAP_PORT" | grep -q LISTEN && break
    sleep 0.1
done
ss -ltn "sport = :$TAP_PORT" | grep -q LISTEN || fail "dnsfirst does not listen on $TAP_PORT"
unbound -d -c "$TMP/unbound.conf" 2>"$TMP/unbound.log" &
SRV=$!
trap 'stop_pid $SRV; stop_pid $DF_PID; cleanup_tmp' EXIT

wait_dns 127.0.0.1 "$PORT" || fail "unbound does not answer on port $PORT"
send_queries "$PORT"
wait_grep "$TMP/dnsfirst.log" "connected" || fail "unbound never connected over TCP"
sleep 2
stop_pid "$SRV"
stop_pid "$DF_PID"

EXPECTED="127.0.0.3 udp ub-tcp
127.0.0.9 tcp ub-tcp
127.1.2.3 udp ub-tcp
::1 udp ub-tcp"
check_alerts "$TMP/alerts.json" "$EXPECTED" || { cat "$TMP/dnsfirst.log"; fail "wrong alerts"; }
jq -e 'select(.dnsfirst.input.name != "dnstap:tcp:127.0.0.1:'"$TAP_PORT"'")' \
    "$TMP/alerts.json" >/dev/null && fail "alert input name is not dnstap:tcp:127.0.0.1:$TAP_PORT"
note "4 alerts from unbound dnstap over TCP as expected"
