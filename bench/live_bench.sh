#!/bin/bash
# Live capture benchmark: the highest tcpreplay rate (packets per second)
# at which dnsfirst reports no kernel drops, for 1 and 2 workers, on a veth
# pair between two network namespaces. Needs root, tcpreplay and iproute2.
# The peak memory under a spoofed-source flood comes from
# tests/integration/live_replay.sh, which prints it.
#
# Usage: bench/live_bench.sh [DNSFIRST] ; RATES="20000 50000 ..." to change the steps.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DNSFIRST=${1:-$REPO/build/dnsfirst}
RATES=${RATES:-"20000 50000 100000 150000 200000 300000"}
PACKETS=${PACKETS:-300000}
TMP=$(mktemp -d /tmp/dnsfirst-live-bench.XXXXXX)
S=dnsfb-s$$
C=dnsfb-c$$

teardown() {
    ip netns del "$S" 2>/dev/null
    ip netns del "$C" 2>/dev/null
    rm -rf "$TMP"
}
trap teardown EXIT

ip netns add "$S" && ip netns add "$C" || { echo "cannot create namespaces" >&2; exit 1; }
ip link add "dfb$$s" type veth peer name "dfb$$c"
ip link set "dfb$$s" netns "$S"
ip link set "dfb$$c" netns "$C"
ip -n "$S" link set "dfb$$s" up
ip -n "$C" link set "dfb$$c" up
cc -O2 -o "$TMP/gen-capture" "$REPO/bench/gen-capture.c" -lm
"$TMP/gen-capture" --out "$TMP/bench.pcap" --packets "$PACKETS" --clients $((PACKETS / 10)) \
    >/dev/null

# run_once WORKERS PPS: print the kernel drops of one replay at PPS.
run_once() {
    rm -f "$TMP/state.db"*
    ip netns exec "$S" "$DNSFIRST" run -i "dfb$$s" --workers "$1" --promiscuous --allow-root \
        --state "$TMP/state.db" -o /dev/null --learning-period 0 --storm-threshold 0 \
        2>"$TMP/run.log" &
    local pid=$!
    for _ in $(seq 1 100); do
        grep -q "sensor started" "$TMP/run.log" && break
        sleep 0.05
    done
    ip netns exec "$C" tcpreplay -q --pps "$2" -i "dfb$$c" "$TMP/bench.pcap" >/dev/null 2>&1
    sleep 1
    kill -TERM "$pid"
    wait "$pid"
    sed -n 's/^  kernel dropped  *\([0-9]*\)$/\1/p' "$TMP/run.log"
}

echo "workers pps drops"
for workers in 1 2; do
    for pps in $RATES; do
        drops=$(run_once "$workers" "$pps")
        echo "$workers $pps $drops"
    done
done
