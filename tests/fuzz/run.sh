#!/bin/bash
# Build and run every fuzz target for a bounded time, with ASan, UBSan and
# leak detection, seeded from the capture corpus. Saved inputs in
# tests/fuzz/regressions/<target>/ are replayed first. A crash, leak, timeout
# or out-of-memory input is written to that directory and fails the run.
#
# Seeds also come from tests/fuzz/seeds/<target>/ when that directory exists.
#
# Environment: FUZZ_SECONDS per target (default 60). fuzz_metrics_request
# checks one small function and gets half of that. FUZZ_TIMEOUT per input
# in seconds (default 10), DNSFIRST_CORPUS (default ../shared/corpus next to
# the repository), FUZZ_BUILD_DIR (default build-fuzz), FUZZ_WORK_DIR for
# seeds and the growing corpus (default: a temporary directory, removed).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
TIMEOUT=${FUZZ_TIMEOUT:-10}
CORPUS=${DNSFIRST_CORPUS:-$ROOT/../shared/corpus}
OUT=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
REGRESSIONS=$ROOT/tests/fuzz/regressions
WORK=${FUZZ_WORK_DIR:-}
if [ -z "$WORK" ]; then
    WORK=$(mktemp -d /tmp/dnsfirst-fuzz.XXXXXX)
    trap 'rm -rf "$WORK"' EXIT
fi

"$ROOT/tests/fuzz/build.sh" "$OUT"

if [ -d "$CORPUS" ]; then
    python3 "$ROOT/tests/fuzz/extract_seeds.py" --corpus "$CORPUS" --out "$WORK/seeds"
else
    echo "corpus not found at $CORPUS; fuzzing from the saved inputs only" >&2
    mkdir -p "$WORK/seeds/frames" "$WORK/seeds/dns"
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Replay the saved inputs of a target; libFuzzer runs each file once.
replay() {
    local target=$1
    local files=()
    for f in "$REGRESSIONS/$target"/*; do
        [ -f "$f" ] && [[ "$f" != *.md ]] && files+=("$f")
    done
    if [ "${#files[@]}" -gt 0 ]; then
        "$OUT/$target" -timeout="$TIMEOUT" "${files[@]}" > "$WORK/$target.replay.log" 2>&1 || {
            tail -30 "$WORK/$target.replay.log" >&2
            echo "FAIL: $target crashes on a saved input in $REGRESSIONS/$target" >&2
            return 1
        }
    fi
    echo "$target: ${#files[@]} saved inputs replayed"
}

# fuzz TARGET SEED_DIR MAX_LEN [SECONDS]
fuzz() {
    local target=$1 seeds=$2 max_len=$3 seconds=${4:-$SECONDS_PER_TARGET}
    local dirs=("$WORK/corpus/$target" "$seeds")
    [ -d "$ROOT/tests/fuzz/seeds/$target" ] && dirs+=("$ROOT/tests/fuzz/seeds/$target")
    mkdir -p "$WORK/corpus/$target" "$REGRESSIONS/$target"
    if ! "$OUT/$target" -max_total_time="$seconds" -timeout="$TIMEOUT" \
            -rss_limit_mb=2048 -detect_leaks=1 -max_len="$max_len" -print_final_stats=1 \
            -artifact_prefix="$REGRESSIONS/$target/" \
            "${dirs[@]}" > "$WORK/$target.log" 2>&1; then
        tail -40 "$WORK/$target.log" >&2
        echo "FAIL: $target found a crash, leak or timeout; the input is in $REGRESSIONS/$target" >&2
        return 1
    fi
    echo "$target: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$WORK/$target.log" \
        | grep -o '[0-9]*$') runs in ${seconds}s, no failure"
}

status=0
for target in fuzz_dns_wire fuzz_decoder fuzz_dns_differential fuzz_dnstap_frames \
        fuzz_intel_lists fuzz_metrics_request fuzz_pcap_map; do
    replay "$target" || status=1
done
mkdir -p "$WORK/seeds/none" "$WORK/seeds/pcap"
# Whole capture files for the pcap map target: the corpus's .pcap files under
# 64 KiB, numbered because several directories use the same file names.
if [ -d "$CORPUS" ]; then
    n=0
    while IFS= read -r -d '' capture; do
        n=$((n + 1))
        cp "$capture" "$WORK/seeds/pcap/$n.pcap"
    done < <(find "$CORPUS" -name '*.pcap' -size -64k -print0)
fi
fuzz fuzz_dns_wire "$WORK/seeds/dns" 65535 || status=1
fuzz fuzz_decoder "$WORK/seeds/frames" 200000 || status=1
fuzz fuzz_dns_differential "$WORK/seeds/dns" 65535 || status=1
fuzz fuzz_dnstap_frames "$WORK/seeds/none" 300000 || status=1
fuzz fuzz_intel_lists "$WORK/seeds/none" 4096 || status=1
fuzz fuzz_metrics_request "$WORK/seeds/none" 2048 $((SECONDS_PER_TARGET / 2)) || status=1
fuzz fuzz_pcap_map "$WORK/seeds/pcap" 65536 || status=1
exit $status
