#!/bin/bash
# Two unbound servers on one dnstap socket, one restarted mid-test: each
# external client alerts once, with the identity of the server it queried,
# and clients that query after the restart still alert.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dnstap_lib.sh"
require_dnsfirst
require_tool unbound dig jq

SOCK=$TMP/dnstap.sock
mkdir -p "$TMP/a" "$TMP/b"
unbound_config "$TMP/a" 25356 "$SOCK" ub-a
unbound_config "$TMP/b" 25357 "$SOCK" ub-b

start_dnsfirst "$TMP" "unix:$SOCK"
wait_socket "$SOCK" || fail "dnsfirst did not create $SOCK"
unbound -d -c "$TMP/a/unbound.conf" 2>"$TMP/a.log" &
A=$!
unbound -d -c "$TMP/b/unbound.conf" 2>"$TMP/b.log" &
B=$!
trap 'stop_pid $A; stop_pid $B; stop_pid $DF_PID; cleanup_tmp' EXIT
wait_dns 127.0.0.1 25356 || fail "unbound a does not answer"
wait_dns 127.0.0.1 25357 || fail "unbound b does not answer"

query() {  # PORT SOURCE
    dig +short +time=2 +tries=1 @127.0.0.1 -p "$1" -b "$2" www.example.test A >/dev/null
}
query 25356 127.0.0.3
query 25357 127.0.0.4
sleep 2

# Restart a: its dnstap connection ends and a new one starts.
stop_pid "$A"
unbound -d -c "$TMP/a/unbound.conf" 2>>"$TMP/a.log" &
A=$!
wait_dns 127.0.0.1 25356 || fail "unbound a does not answer after the restart"
query 25356 127.0.0.3
query 25356 127.0.0.5
query 25357 127.0.0.4
sleep 2
stop_pid "$A"
stop_pid "$B"
stop_pid "$DF_PID"

EXPECTED="127.0.0.3 udp ub-a
127.0.0.4 udp ub-b
127.0.0.5 udp ub-a"
check_alerts "$TMP/alerts.json" "$EXPECTED" || { cat "$TMP/dnsfirst.log"; fail "wrong alerts"; }
connections=$(grep -c " connected$" "$TMP/dnsfirst.log")
[ "$connections" -ge 3 ] || fail "expected at least 3 dnstap connections, saw $connections"
note "two servers and a restart: 3 alerts, no duplicates"
