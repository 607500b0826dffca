#!/bin/bash
# tcpreplay of generated captures into a veth pair that dnsfirst captures.
#   1. Ground truth: at top speed, the alerts equal the generator's external
#      (server, client) pairs when no drop is reported; any drop must show in
#      the summary's kernel counters.
#   2. Flood: ~1,000,000 spoofed sources (FLOOD_CLIENTS) replayed with two
#      workers. RSS must stay under memory-limit, storm control must write
#      aggregated alerts, and the metrics endpoint must answer meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live_lib.sh"

FLOOD_CLIENTS=${FLOOD_CLIENTS:-1000000}
MEMORY_LIMIT_MIB=${MEMORY_LIMIT_MIB:-256}

require_dnsfirst
require_tool tcpreplay curl cc python3
GEN_SRC=$REPO/bench/gen-capture.c
[ -f "$GEN_SRC" ] || skip "capture generator source $GEN_SRC not found"
netns_up
cc -O2 -o "$TMP/gen-capture" "$GEN_SRC" -lm || fail "cannot build $GEN_SRC"

json_field() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

summary_value() {
    sed -n "s/^  $2  *\([0-9]*\)$/\1/p" "$1" | head -1
}

replay() {
    ip netns exec "$NS_CLI" tcpreplay -q --topspeed -i "$VETH_CLI" "$1" >"$TMP/tcpreplay.log" 2>&1 \
        || fail "tcpreplay failed: $(cat "$TMP/tcpreplay.log")"
}

# 1. Ground truth at top speed, one worker.
"$TMP/gen-capture" --out "$TMP/truth.pcap" --packets 40000 --clients 4000 --seed 7 \
    --malformed-share 0 --truth "$TMP/truth.json" >/dev/null || fail "generator failed"
expected=$(json_field "$TMP/truth.json" external_pairs)
dnsfirst_up "$TMP/truth.log" --state "$TMP/truth.db" -o "$TMP/truth-alerts.json" \
    --allow-root --promiscuous --learning-period 0 --storm-threshold 0 --response-wait 300ms
replay "$TMP/truth.pcap"
sleep 1.5
stop_dnsfirst TERM
[ "$DNSFIRST_RC" -eq 0 ] || fail "exit $DNSFIRST_RC: $(cat "$TMP/truth.log")"
got=$(grep -c . "$TMP/truth-alerts.json")
drops=$(summary_value "$TMP/truth.log" "kernel dropped")
[ -n "$drops" ] || fail "summary lacks the kernel drop counter: $(cat "$TMP/truth.log")"
note "top speed: $got alerts, $expected expected, kernel dropped $drops"
if [ "$drops" -eq 0 ]; then
    [ "$got" -eq "$expected" ] || fail "$got alerts with no drops, expected $expected"
else
    [ "$got" -le "$expected" ] || fail "$got alerts, more than the $expected expected"
fi

# 2. Flood of spoofed sources, two workers, bounded memory. AddressSanitizer's
# shadow memory and quarantine count in RSS, so the memory bound is checked on
# the build without sanitizers when the caller names one (DNSFIRST_PLAIN).
CHECK_RSS=1
if [ -n "${DNSFIRST_PLAIN:-}" ]; then
    DNSFIRST=$DNSFIRST_PLAIN
elif ldd "$DNSFIRST" 2>/dev/null | grep -q libasan; then
    CHECK_RSS=0
    note "NOTE: $DNSFIRST uses AddressSanitizer and no DNSFIRST_PLAIN was given: RSS not checked"
fi
"$TMP/gen-capture" --out "$TMP/flood.pcap" --packets $((FLOOD_CLIENTS * 2)) \
    --clients "$FLOOD_CLIENTS" --seed 11 --internal-share 0 --loss 0.5 --servers 2 \
    >/dev/null || fail "generator failed"
dnsfirst_up "$TMP/flood.log" --state "$TMP/flood.db" -o "$TMP/flood-alerts.json" \
    --allow-root --promiscuous --learning-period 0 --workers 2 --buffer-size 16 \
    --memory-limit "$MEMORY_LIMIT_MIB" --storm-threshold 100 --storm-interval 2s \
    --metrics-address 9554
replay "$TMP/flood.pcap" &
REPLAY_PID=$!
answered=0
while kill -0 "$REPLAY_PID" 2>/dev/null; do
    if scrape_metrics 9554 | grep -q '^dnsfirst_packets_total'; then
        answered=$((answered + 1))
    fi
    sleep 1
done
wait "$REPLAY_PID" || fail "tcpreplay of the flood failed"
[ "$answered" -gt 0 ] || fail "the metrics endpoint never answered during the flood"
scrape_metrics 9554 > "$TMP/flood.metrics" || fail "metrics did not answer after the flood"
sleep 3
peak_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$DNSFIRST_PID/status")
stop_dnsfirst TERM
[ "$DNSFIRST_RC" -eq 0 ] || fail "exit $DNSFIRST_RC: $(tail -30 "$TMP/flood.log")"

note "flood: peak RSS $((peak_kib / 1024)) MiB (limit $MEMORY_LIMIT_MIB MiB), metrics answered" \
     "$answered times, $(grep -c 'Storm' "$TMP/flood-alerts.json") aggregated alerts"
grep "kernel dropped\|storm clients \|clients evicted\|^  packets" "$TMP/flood.log"
if [ "$CHECK_RSS" = 1 ]; then
    [ "$peak_kib" -lt $((MEMORY_LIMIT_MIB * 1024)) ] \
        || fail "peak RSS $peak_kib KiB is over memory-limit $MEMORY_LIMIT_MIB MiB"
fi
grep -q '"name":"New External Client DNS Storm"' "$TMP/flood-alerts.json" \
    || fail "no aggregated storm alert: $(head -3 "$TMP/flood-alerts.json")"
grep -q "storm, scope '.*' began" "$TMP/flood.log" || fail "storm start not logged"
grep -q '^dnsfirst_storm_clients_total [1-9]' "$TMP/flood.metrics" \
    || fail "metrics show no storm clients"
note "ok"
