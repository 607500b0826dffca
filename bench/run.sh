#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - time dnsfirst on synthetic captures against the libpcap floor and
# the DNS tools that Debian ships.
#
# Usage: bench/run.sh [--quick] [--report-only]
#   --quick         3 runs per command instead of 5, and no 10M-packet capture.
#   --report-only   rebuild the report from the last run's measurements.
# Environment:
#   BENCH_WORK   work directory for binaries, captures and logs (bench/work)
#   BENCH_RUNS   runs per command (overrides the default of 5, or 3 with --quick)
#   DNSFIRST     dnsfirst binary to time (default: a release build made here
#                in build-release/)
#
# Runs are interleaved (run 1 of every command, then run 2, ...) so that a
# slow phase of the machine hits every command alike. Each run starts from
# a fresh state database. Wall time comes from date(1) around the command,
# peak RSS from GNU time's %M. The table goes to standard output and to
# bench/results/latest.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
WORK=${BENCH_WORK:-$BENCH_DIR/work}
RESULTS_DIR=$BENCH_DIR/results
QUICK=0
REPORT_ONLY=0
RUNS=""

usage() {
    sed -n 's/^# \{0,1\}//; 4,14p' "${BASH_SOURCE[0]}"
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1 ;;
    --report-only) REPORT_ONLY=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if [ -n "${BENCH_RUNS:-}" ]; then
    RUNS=$BENCH_RUNS
elif [ $QUICK -eq 1 ]; then
    RUNS=3
else
    RUNS=5
fi

log() {
    printf 'run.sh: %s\n' "$*" >&2
}

mkdir -p "$WORK/bin" "$WORK/logs" "$RESULTS_DIR"

# --report-only reports on the last run, so it takes that run's mode.
if [ $REPORT_ONLY -eq 1 ] && [ -f "$WORK/logs/mode" ]; then
    read -r QUICK RUNS <"$WORK/logs/mode"
elif [ $REPORT_ONLY -eq 0 ]; then
    echo "$QUICK $RUNS" >"$WORK/logs/mode"
fi

# ---- build ----

if [ ! -x /usr/bin/time ]; then
    echo "run.sh: /usr/bin/time is missing (Debian package 'time')" >&2
    exit 1
fi

GEN=$WORK/bin/gen-capture
FLOOR=$WORK/bin/floor
if [ $REPORT_ONLY -eq 0 ]; then
    log "building the generator and the floor"
    make -s -C "$BENCH_DIR" O="$WORK/bin" >&2
fi

DNSFIRST_ORIGIN="release build of the working tree (meson -Dbuildtype=release)"
if [ -n "${DNSFIRST:-}" ]; then
    DNSFIRST_ORIGIN="binary given in DNSFIRST"
fi
if [ -z "${DNSFIRST:-}" ] && [ $REPORT_ONLY -eq 1 ]; then
    DNSFIRST=$REPO_DIR/build-release/dnsfirst
elif [ -z "${DNSFIRST:-}" ]; then
    log "building dnsfirst (release) in $REPO_DIR/build-release"
    if [ ! -f "$REPO_DIR/build-release/build.ninja" ]; then
        meson setup -Dbuildtype=release -Dtests=false \
            "$REPO_DIR/build-release" "$REPO_DIR" >&2
    fi
    ninja -C "$REPO_DIR/build-release" -j2 >&2
    DNSFIRST=$REPO_DIR/build-release/dnsfirst
fi

# ---- captures ----

# gen NAME ARGS...: write $WORK/NAME.pcap and NAME.json unless a capture made
# with the same arguments by the same generator binary is already there.
gen() {
    local name=$1
    shift
    local pcap=$WORK/$name.pcap
    local stamp=$WORK/$name.args
    if [ $REPORT_ONLY -eq 1 ] || { [ -f "$pcap" ] && [ -f "$WORK/$name.json" ] &&
        [ "$pcap" -nt "$GEN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$*" ]; }; then
        return
    fi
    log "generating $name.pcap ($*)"
    "$GEN" "$@" --out "$pcap" --truth "$WORK/$name.json"
    echo "$*" >"$stamp"
}

# truth NAME FIELD: one number from the capture's ground truth.
truth() {
    sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$WORK/$1.json"
}

gen c1m --packets 1000000 --clients 100000 --seed 1
if [ $QUICK -eq 0 ]; then
    gen c10m --packets 10000000 --clients 1000000 --seed 2
fi
# Every query from a client never seen before: the alert path at full load.
gen allnew --packets 1000000 --clients 1000000 --seed 3 --internal-share 0 \
    --tcp-share 0 --loss 0 --malformed-share 0
# Same traffic volume, ten times the clients: peak RSS per known client.
gen mem100k --packets 2200000 --clients 100000 --seed 4 --internal-share 0
gen mem1m --packets 2200000 --clients 1000000 --seed 4 --internal-share 0

# ---- what to run ----

# Tools on each capture: the floor, dnsfirst, then the peers that exist.
peers=()
for tool in tcpdump dnscap dnstop; do
    if command -v "$tool" >/dev/null; then
        peers+=("$tool")
    else
        log "$tool not installed, skipped"
    fi
done
have_tshark=0
if command -v tshark >/dev/null; then
    have_tshark=1
else
    log "tshark not installed, skipped"
fi

cases=()
for tool in floor dnsfirst-run dnsfirst-learn dnsfirst-decode "${peers[@]}"; do
    cases+=("c1m $tool")
done
if [ $have_tshark -eq 1 ]; then
    cases+=("c1m tshark") # tshark is too slow for 10M packets
fi
if [ $QUICK -eq 0 ]; then
    # tcpdump is left out on 10M packets: one run took over 6 minutes there,
    # against 3 s on 1M packets. On this capture, with a million distinct
    # addresses, its time grows much faster than the packet count.
    for tool in floor dnsfirst-run dnsfirst-learn dnsfirst-decode "${peers[@]}"; do
        if [ "$tool" != tcpdump ]; then
            cases+=("c10m $tool")
        fi
    done
fi
cases+=("allnew floor" "allnew dnsfirst-run")
cases+=("mem100k floor" "mem100k dnsfirst-run" "mem1m floor" "mem1m dnsfirst-run")

STATE=$WORK/state.db

# command_for TOOL FILE: set CMD to the command line and ERR to where its
# standard error goes (dnscap prints its decoded messages there).
command_for() {
    local tool=$1 file=$2
    ERR=$WORK/logs/$tool.err
    case $tool in
    floor) CMD=("$FLOOR" "$file") ;;
    # Storm control would fold the alerts of a capture that brings in over
    # 100 new clients a minute into one aggregated alert per interval.
    dnsfirst-run) CMD=("$DNSFIRST" run -r "$file" --state "$STATE" --learning-period 0
        --storm-threshold 0 -o /dev/null) ;;
    dnsfirst-learn) CMD=("$DNSFIRST" run -r "$file" --state "$STATE" --learn -o /dev/null) ;;
    dnsfirst-decode) CMD=("$DNSFIRST" decode -r "$file") ;;
    tcpdump) CMD=(tcpdump -n -r "$file") ;;
    tshark) CMD=(tshark -n -r "$file" -Y dns) ;;
    dnscap) CMD=(dnscap -N -T -g -r "$file"); ERR=/dev/null ;;
    dnstop) CMD=(dnstop "$file") ;; # not a terminal: prints its tables and exits
    esac
}

RAW=$WORK/raw.tsv

# measure CAPTURE TOOL RUN: one timed run, appended to $RAW as
# capture, tool, run, wall seconds, peak RSS KiB, exit status.
measure() {
    local capture=$1 tool=$2 run=$3
    command_for "$tool" "$WORK/$capture.pcap"
    rm -f "$STATE" "$STATE-wal" "$STATE-shm" "$STATE-journal" "$STATE.clients"
    # Free the deleted files' blocks before the clock starts. Otherwise the
    # timed run's first fsync waits for that journal commit (up to 240 ms here).
    sync
    local err=$ERR
    if [ "$err" != /dev/null ]; then
        err=$WORK/logs/$capture-$tool.err
    fi

    local start end status=0
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$WORK/logs/time.out" "${CMD[@]}" >/dev/null 2>"$err" ||
        status=$?
    end=$(date +%s%N)

    local rss
    rss=$(tail -n 1 "$WORK/logs/time.out")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$capture" "$tool" "$run" \
        "$(awk -v ns=$((end - start)) 'BEGIN { printf "%.4f", ns / 1e9 }')" \
        "$rss" "$status" >>"$RAW"
    if [ "$status" -ne 0 ]; then
        log "$tool on $capture exited with status $status (see $err)"
    fi
    if [ "$capture" = mem1m ] && [ "$tool" = dnsfirst-run ]; then
        local size=0 f
        for f in "$STATE" "$STATE-wal"; do
            if [ -f "$f" ]; then
                size=$((size + $(stat -c %s "$f")))
            fi
        done
        echo "$size" >"$WORK/logs/mem1m-state-bytes"
    fi
}

run_all() {
    log "warming the page cache"
    local capture
    for capture in c1m c10m allnew mem100k mem1m; do
        if [ -f "$WORK/$capture.pcap" ]; then
            cat "$WORK/$capture.pcap" >/dev/null
        fi
    done

    : >"$RAW"
    for run in $(seq 1 "$RUNS"); do
        log "run $run of $RUNS"
        for c in "${cases[@]}"; do
            measure "${c% *}" "${c#* }" "$run"
        done
    done
}

# known_rss CAPTURE: learn a baseline from CAPTURE, then start a sensor on
# it (a dnstap listener, which waits for SIGTERM), and once the baseline is
# loaded and the writer had time to go idle, read the sensor's resident
# memory from /proc. Writes "CLIENTS ANON_KIB RSS_KIB" to
# logs/CAPTURE-known.txt. This is the memory of a sensor that knows CLIENTS
# clients, without the transient cost of learning or alerting them.
known_rss() {
    local capture=$1
    local state=$WORK/known.db err=$WORK/logs/$capture-known.err
    rm -f "$state" "$state"-* "$state.clients"
    "$DNSFIRST" run -r "$WORK/$capture.pcap" --state "$state" --learn -o /dev/null 2>/dev/null
    # --expiry 0: the sensor's clock is the wall clock, and the captures are
    # older than the default expiry, which would forget every client.
    "$DNSFIRST" run --dnstap "unix:$WORK/known.sock" --state "$state" --expiry 0 \
        -o /dev/null 2>"$err" &
    local pid=$! i
    for i in $(seq 1 600); do
        grep -q "loaded" "$err" && break
        sleep 0.1
    done
    sleep 2
    local clients anon rss
    clients=$(sed -n 's/.*loaded \([0-9]*\) clients.*/\1/p' "$err")
    anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status")
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    kill -TERM "$pid"
    wait "$pid" || log "dnsfirst sensor on $capture's baseline exited with status $?"
    echo "$clients $anon $rss" >"$WORK/logs/$capture-known.txt"
    rm -f "$state" "$state"-* "$state.clients" "$WORK/known.sock"
}

if [ $REPORT_ONLY -eq 0 ]; then
    run_all
    log "measuring sensors that know the clients of mem100k and mem1m"
    known_rss mem100k
    known_rss mem1m
fi

# ---- report ----

# median CAPTURE TOOL COLUMN: median of one column over the runs.
median() {
    awk -F'\t' -v c="$1" -v t="$2" -v k="$3" '$1 == c && $2 == t { print $k }' "$RAW" |
        sort -g | awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "" }
            else if (NR % 2) { print v[(NR + 1) / 2] }
            else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

failures() {
    awk -F'\t' -v c="$1" -v t="$2" '$1 == c && $2 == t && $6 != 0 { n++ } END { print n + 0 }' "$RAW"
}

# summary_value CAPTURE TOOL NAME: the number on the line of dnsfirst's
# summary (standard error) whose label is exactly NAME, e.g. "  alerts  1234";
# "storm alerts" or "responses matched to alerts" are other lines.
summary_value() {
    awk -v k="$3" '{
            line = $0; sub(/^ +/, "", line)
            label = line; sub(/ +[0-9]+$/, "", label)
            if (label == k && match(line, /[0-9]+$/)) { v = substr(line, RSTART, RLENGTH) }
        } END { print v }' "$WORK/logs/$1-$2.err" 2>/dev/null
}

label_for() {
    case $1 in
    floor) echo "floor (libpcap, empty callback)" ;;
    dnsfirst-run) echo "dnsfirst run --learning-period 0 --storm-threshold 0" ;;
    dnsfirst-learn) echo "dnsfirst run --learn" ;;
    dnsfirst-decode) echo "dnsfirst decode" ;;
    tcpdump) echo "tcpdump -n" ;;
    tshark) echo "tshark -n -Y dns" ;;
    dnscap) echo "dnscap -g" ;;
    dnstop) echo "dnstop (UDP only)" ;;
    esac
}

table_rows() {
    local capture=$1
    local packets floor
    if ! printf '%s\n' "${cases[@]}" | grep -q "^$capture "; then
        return 0
    fi
    packets=$(truth "$capture" packets)
    floor=$(median "$capture" floor 4)
    for c in "${cases[@]}"; do
        [ "${c% *}" = "$capture" ] || continue
        local tool=${c#* }
        local wall rss fails
        wall=$(median "$capture" "$tool" 4)
        rss=$(median "$capture" "$tool" 5)
        fails=$(failures "$capture" "$tool")
        awk -v cap="$capture" -v label="$(label_for "$tool")" -v w="$wall" \
            -v f="$floor" -v p="$packets" -v r="$rss" -v fails="$fails" 'BEGIN {
                note = fails > 0 ? " (" fails " runs failed)" : ""
                ratio = f > 0 ? sprintf("%.1f", w / f) : "-"
                printf "| %s | %s%s | %.3f | %s | %.2f M | %.1f |\n",
                    cap, label, note, w, ratio, p / w / 1e6, r / 1024 }'
    done
}

check_line() {
    local capture=$1 expected actual
    expected=$(truth "$capture" external_pairs)
    actual=$(summary_value "$capture" dnsfirst-run alerts)
    if [ -z "$actual" ]; then
        echo "- $capture: no \"alerts\" line in dnsfirst's summary (expected $expected)"
    elif [ "$actual" = "$expected" ]; then
        echo "- $capture: $actual alerts, as the generator's ground truth expects"
    else
        echo "- $capture: $actual alerts, but the ground truth expects $expected (MISMATCH)"
    fi
}

extra_metrics() {
    local wall alerts
    wall=$(median allnew dnsfirst-run 4)
    alerts=$(summary_value allnew dnsfirst-run alerts)
    if [ -n "$alerts" ] && [ -n "$wall" ]; then
        awk -v a="$alerts" -v w="$wall" 'BEGIN {
            printf "- Alert rate, every query from a new client (allnew): %d alerts in %.3f s = %.0f alerts/s\n", a, w, a / w }'
    else
        echo "- Alert rate: TODO, dnsfirst printed no \"alerts\" count"
    fi

    local rss_small rss_large pairs_small pairs_large state_bytes
    rss_small=$(median mem100k dnsfirst-run 5)
    rss_large=$(median mem1m dnsfirst-run 5)
    pairs_small=$(truth mem100k external_pairs)
    pairs_large=$(truth mem1m external_pairs)
    awk -v a="$rss_small" -v b="$rss_large" -v pa="$pairs_small" -v pb="$pairs_large" 'BEGIN {
        printf "- Peak RSS while alerting every client: %.1f MiB with %d (server, client) pairs, %.1f MiB with %d: %.0f bytes per pair (alerts in flight included; a difference of two noisy peaks)\n",
            a / 1024, pa, b / 1024, pb, (b - a) * 1024 / (pb - pa) }'
    local known_small known_large
    known_small=$(cat "$WORK/logs/mem100k-known.txt" 2>/dev/null || echo "")
    known_large=$(cat "$WORK/logs/mem1m-known.txt" 2>/dev/null || echo "")
    if [ -n "$known_small" ] && [ -n "$known_large" ]; then
        echo "$known_small $known_large" | awk '{
            printf "- Memory per known client, sensor with a loaded baseline: anonymous RSS %.1f MiB with %d clients, %.1f MiB with %d: %.0f bytes per client (RSS %.0f bytes)\n",
                $2 / 1024, $1, $5 / 1024, $4, ($5 - $2) * 1024 / ($4 - $1), ($6 - $3) * 1024 / ($4 - $1) }'
    fi
    state_bytes=$(cat "$WORK/logs/mem1m-state-bytes" 2>/dev/null || echo "")
    if [ -n "$state_bytes" ]; then
        awk -v s="$state_bytes" -v p="$pairs_large" 'BEGIN {
            printf "- State database after mem1m (with its WAL): %.1f MiB, %.0f bytes per pair\n", s / 1048576, s / p }'
    fi
}

machine_info() {
    local model cores mem
    model=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
    cores=$(nproc)
    mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    echo "- CPU: $model, $cores cores available"
    echo "- Memory: $mem; kernel $(uname -r); Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
    echo "- dnsfirst: $DNSFIRST_ORIGIN, repository at commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '(none)')"
    for tool in tcpdump tshark dnscap dnstop; do
        if command -v "$tool" >/dev/null; then
            local version
            version=$(dpkg-query -W -f='${Version}' "$tool" 2>/dev/null || echo '?')
            echo "- $tool: Debian package $version"
        fi
    done
}

commands_list() {
    local tool
    for tool in $(printf '%s\n' "${cases[@]}" | awk '!seen[$2]++ { print $2 }'); do
        command_for "$tool" FILE
        local line="${CMD[*]} > /dev/null"
        if [ "$ERR" = /dev/null ]; then
            line="$line 2> /dev/null"
        fi
        echo "    ${line//$WORK/\$WORK}"
    done
}

captures_list() {
    local capture
    for capture in c1m c10m allnew mem100k mem1m; do
        [ -f "$WORK/$capture.args" ] || continue
        if [ "$capture" = c10m ] && [ $QUICK -eq 1 ]; then
            continue
        fi
        printf -- '- %s: `gen-capture %s`: %s packets, %s queries, %s clients (%s external), %s external (server, client) pairs\n' \
            "$capture" "$(cat "$WORK/$capture.args")" "$(truth "$capture" packets)" \
            "$(truth "$capture" queries)" "$(truth "$capture" clients)" \
            "$(truth "$capture" external_clients)" "$(truth "$capture" external_pairs)"
    done
}

report() {
    local mode="full ($RUNS runs per command)"
    if [ $QUICK -eq 1 ]; then
        mode="quick ($RUNS runs per command, no 10M capture)"
    fi
    echo "# Benchmark results"
    echo
    echo "Made by \`bench/run.sh$([ $QUICK -eq 1 ] && echo ' --quick')\` on $(date -u +%Y-%m-%d), mode: $mode."
    echo "Median of the runs; \"x floor\" divides by the floor's median on the same capture;"
    echo "packets/s is the capture's packet count over the median wall time."
    echo
    echo "| capture | command | median wall (s) | x floor | packets/s | peak RSS (MiB) |"
    echo "| --- | --- | ---: | ---: | ---: | ---: |"
    local capture
    for capture in c1m c10m allnew mem100k mem1m; do
        table_rows "$capture"
    done
    echo
    echo "## dnsfirst figures"
    echo
    extra_metrics
    echo
    echo "Alert counts checked against the generator's ground truth (server scope,"
    echo "no learning period: one alert per distinct external (server, client) pair):"
    echo
    for capture in c1m c10m allnew mem100k mem1m; do
        if printf '%s\n' "${cases[@]}" | grep -qx "$capture dnsfirst-run"; then
            check_line "$capture"
        fi
    done
    for capture in c1m c10m; do
        if printf '%s\n' "${cases[@]}" | grep -qx "$capture floor"; then
            echo "- $capture: the floor read $("$FLOOR" "$WORK/$capture.pcap") packets, the generator wrote $(truth "$capture" packets)"
        fi
    done
    echo
    echo "## Captures"
    echo
    captures_list
    echo
    echo "## Machine"
    echo
    machine_info
    echo
    echo "## Commands"
    echo
    echo "FILE is the capture; dnsfirst runs start from a deleted state database each time."
    echo
    commands_list
}

report | tee "$RESULTS_DIR/latest.md"

# Intel lists: load time and lookup rate on 1,000,000 names and 500,000
# generated prefixes (fewer after duplicates are merged).
{
    echo
    echo "## Intel lists (bench/intel_bench)"
    echo
} | tee -a "$RESULTS_DIR/latest.md"
gcc -std=c11 -D_GNU_SOURCE -O2 -I"$REPO_DIR/src" -o "$WORK/bin/intel_bench" "$BENCH_DIR/intel_bench.c" "$REPO_DIR"/src/enrich/intel_{domains,addresses}.c "$REPO_DIR"/src/util/{addr,error}.c "$REPO_DIR/src/decode/dns_text.c" && "$WORK/bin/intel_bench" "$WORK" | tee -a "$RESULTS_DIR/latest.md"

# A run whose alert counts disagree with the ground truth is a failed run.
if grep -q "MISMATCH" "$RESULTS_DIR/latest.md"; then
    log "dnsfirst's alert counts disagree with the ground truth (MISMATCH above)"
    exit 1
fi
