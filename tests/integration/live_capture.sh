#!/bin/bash
# Live capture on a veth pair: unbound serves a local zone in one namespace,
# dnsfirst captures there, dig queries from several client addresses in the
# other. Checks that each new client's alert is written within one second,
# that the metrics endpoint answers, that SIGHUP reloads the config and
# reopens the alert file, that SIGTERM flushes, and that SIGKILL loses no
# committed client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live_lib.sh"

require_dnsfirst
require_tool dig curl unbound
netns_up
unbound_up

STATE=$TMP/state.db
ALERTS=$TMP/alerts.json
CONF=$TMP/dnsfirst.conf
METRICS_PORT=9553
cat > "$CONF" <<EOF
learning-period = 0
storm-threshold = 100
EOF
# The live path enriches alerts too: the zone's name is on an intel list.
echo "example.test" > "$TMP/intel.txt"
COMMON=(-c "$CONF" --state "$STATE" -o "$ALERTS" --allow-root --response-wait 500ms
        --metrics-address "$METRICS_PORT" --stats-interval 1s --client-prefix-v6 128
        --intel-domains "testlist=$TMP/intel.txt")

# The ready probe above came from 192.0.2.14 before dnsfirst ran, so it is no alert.
dnsfirst_up "$TMP/run1.log" "${COMMON[@]}"

# 1. One alert per new client, each within one second of its query.
for src in 192.0.2.11 192.0.2.12 192.0.2.13 2001:db8:53::12; do
    server=192.0.2.1
    case "$src" in *:*) server=2001:db8:53::1 ;; esac
    ip netns exec "$NS_CLI" dig +short +time=1 +tries=1 "@$server" -b "$src" \
        www.example.test | grep -q 192.0.2.10 || fail "dig from $src got no answer"
    took=$(wait_for_line "$ALERTS" "\"client_key\":\"$src/" 1) \
        || fail "no alert for $src within 1 s; log: $(cat "$TMP/run1.log")"
    note "alert for $src after ${took} ms"
done
# A client's second query raises nothing.
ip netns exec "$NS_CLI" dig +short +time=1 +tries=1 @192.0.2.1 -b 192.0.2.11 \
    www.example.test >/dev/null
sleep 0.5
[ "$(wc -l < "$ALERTS")" -eq 4 ] || fail "expected 4 alerts, got: $(cat "$ALERTS")"
grep -q '"response_seen":true' "$ALERTS" || fail "alerts lack the response: $(cat "$ALERTS")"
[ "$(grep -c '"provider":"testlist"' "$ALERTS")" -eq 4 ] \
    || fail "live alerts lack the intel match: $(head -1 "$ALERTS")"

# 2. Metrics answer while running, and count the kernel drops.
text=$(scrape_metrics "$METRICS_PORT") || fail "metrics endpoint did not answer"
echo "$text" | grep -q '^dnsfirst_new_clients_total 4$' \
    || fail "metrics miss the 4 new clients: $text"
echo "$text" | grep -q '^dnsfirst_kernel_drops_total{kind="ring"} ' \
    || fail "metrics miss kernel drops"
code=$(ip netns exec "$NS_SRV" curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$METRICS_PORT/other")
[ "$code" = 404 ] || fail "unknown path answered $code, expected 404"
wait_for_line "$TMP/run1.log" "stats, packets" 3 >/dev/null || fail "no stats line in the log"

# 3. SIGHUP: a changed config is reloaded, restart-only changes are ignored,
# and the alert file is reopened after rotation.
mv "$ALERTS" "$ALERTS.1"
cat > "$CONF" <<EOF
learning-period = 0
storm-threshold = 50
workers = 2
EOF
kill -HUP "$DNSFIRST_PID"
wait_for_line "$TMP/run1.log" "config, reloaded '$CONF'" 2 >/dev/null \
    || fail "no reload message: $(cat "$TMP/run1.log")"
grep -q "config, 'storm-threshold' is now '50'" "$TMP/run1.log" || fail "storm-threshold not reloaded"
grep -q "config, 'workers' changed to '2' but needs a restart; ignored" "$TMP/run1.log" \
    || fail "restart-only change not reported"
ip netns exec "$NS_CLI" dig +short +time=1 +tries=1 @2001:db8:53::1 -b 2001:db8:53::13 \
    www.example.test AAAA >/dev/null
wait_for_line "$ALERTS" '"client_key":"2001:db8:53::13/' 1 >/dev/null \
    || fail "no alert in the reopened file"
# An IPv4 client whose first byte (192) matches an internal prefix makes the
# detector scan the reloaded internal networks: they must not be the freed ones.
ip netns exec "$NS_CLI" dig +short +time=1 +tries=1 @192.0.2.1 -b 192.0.2.11 \
    www.example.test A >/dev/null
sleep 0.3
kill -0 "$DNSFIRST_PID" 2>/dev/null || fail "dnsfirst died after SIGHUP: $(tail -5 "$TMP/run1.log")"

# A config error keeps the old config.
echo "storm-threshold = many" >> "$CONF"
kill -HUP "$DNSFIRST_PID"
wait_for_line "$TMP/run1.log" "config, cannot reload '$CONF'; keeping the old config" 2 \
    >/dev/null || fail "invalid config not reported"

# 4. SIGTERM: clean exit with the summary, every client in the baseline.
stop_dnsfirst TERM
[ "$DNSFIRST_RC" -eq 0 ] || fail "exit $DNSFIRST_RC after SIGTERM: $(cat "$TMP/run1.log")"
grep -q "kernel dropped" "$TMP/run1.log" || fail "summary lacks kernel drops"
rows=$("$DNSFIRST" baseline list --state "$STATE" | grep -c "192.0.2.1[123]\|2001:db8:53::")
[ "$rows" -ge 5 ] || fail "baseline has $rows of 5 clients: $("$DNSFIRST" baseline list --state "$STATE")"

# 5. SIGKILL after the alert: the committed client survives.
dnsfirst_up "$TMP/run2.log" --state "$STATE" -o "$ALERTS" --allow-root --learning-period 0 \
    --client-prefix-v6 128
ip netns exec "$NS_CLI" dig +short +time=1 +tries=1 @2001:db8:53::1 -b 2001:db8:53::14 \
    www.example.test AAAA >/dev/null
wait_for_line "$ALERTS" '"client_key":"2001:db8:53::14/' 1 >/dev/null \
    || fail "no alert for 2001:db8:53::14"
stop_dnsfirst KILL
"$DNSFIRST" baseline list --state "$STATE" | grep -q "2001:db8:53::14" \
    || fail "SIGKILL lost the committed client 2001:db8:53::14"

# 6. Root without --allow-root or --user is rejected before capturing.
rc=0
ip netns exec "$NS_SRV" "$DNSFIRST" run -i "$VETH_SRV" --state "$STATE" -o "$ALERTS" \
    2>"$TMP/root.log" || rc=$?
[ "$rc" -eq 2 ] || fail "root without --allow-root: exit $rc, expected 2"
grep -q "refusing to decode live packets as root" "$TMP/root.log" || fail "no root message"

note "ok"
