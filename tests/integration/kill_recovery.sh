#!/bin/bash
# SIGKILL at random moments loses no alert and never corrupts the state.
#
# A clean run on a synthetic capture gives the run time. Then runs on one
# state file are killed with SIGKILL after a random delay within that time,
# each followed by an integrity check of the state, and a last run goes to
# completion. Every run restarts from the first packet, so the union of all
# their alerts must equal the ground truth: an alert may repeat after a
# crash, but none may be missing and none may be extra.
. "$(dirname "$0")/lib.sh"

require_dnsfirst
require_generator
require_tool sqlite3

KILLS=${KILL_COUNT:-15}
PCAP=$TMP/kill.pcap
STATE=$TMP/state/baseline.db
FLAGS=(--learning-period 0 --internal 10.0.0.0/8 --internal 192.168.0.0/16 --internal fd00::/8
       --client-prefix-v4 32 --client-prefix-v6 128
       --storm-threshold 0)

gen_capture "$PCAP" --packets 300000 --clients 30000 --seed 7
mkdir -p "$TMP/state" "$TMP/clean" "$TMP/check"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# integrity_check: check a copy of the state (with its WAL or journal), so
# that the check's own recovery does not change what the next run finds.
integrity_check() {
    local f result
    rm -f "$TMP/check/"*
    for f in "$STATE" "$STATE-wal" "$STATE-journal"; do
        [ -e "$f" ] && cp "$f" "$TMP/check/"
    done
    [ -e "$TMP/check/baseline.db" ] || return 0
    result=$(sqlite3 "$TMP/check/baseline.db" 'PRAGMA integrity_check' 2>&1)
    [ "$result" = ok ] || fail "integrity_check after $1: $result"
}

# Clean run: its time bounds the random kill delays, and its alerts must equal
# the ground truth on their own.
start=$(now_ms)
"$DNSFIRST" run -r "$PCAP" --state "$TMP/clean/baseline.db" "${FLAGS[@]}" \
    -o "$TMP/clean/alerts.json" 2>"$TMP/clean/log" \
    || { tail -n 20 "$TMP/clean/log" >&2; fail "clean run failed"; }
duration=$(( $(now_ms) - start ))
[ "$duration" -gt 0 ] || duration=1
python3 "$REPO/tests/integration/ground_truth.py" --pcap "$PCAP" --truth "$PCAP.truth.json" \
    --scope server "$TMP/clean/alerts.json" || fail "clean run differs from the ground truth"
note "clean run took ${duration} ms"

killed=0
completed=0
for i in $(seq 1 "$KILLS"); do
    delay=$(( (RANDOM * 32768 + RANDOM) % duration ))
    "$DNSFIRST" run -r "$PCAP" --state "$STATE" "${FLAGS[@]}" \
        -o "$TMP/alerts.$i.json" 2>"$TMP/log.$i" &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -KILL "$pid" 2>/dev/null
    rc=0
    # The braces keep bash's "Killed" job notice out of the output.
    { wait "$pid"; } 2>/dev/null || rc=$?
    case "$rc" in
        137) killed=$((killed + 1)) ;;
        0) completed=$((completed + 1)) ;;
        *) tail -n 20 "$TMP/log.$i" >&2
           fail "run $i (killed after ${delay} ms) exited $rc instead of 0 or 137" ;;
    esac
    integrity_check "run $i (SIGKILL after ${delay} ms)"
done

"$DNSFIRST" run -r "$PCAP" --state "$STATE" "${FLAGS[@]}" -o "$TMP/alerts.final.json" \
    2>"$TMP/log.final" || { tail -n 20 "$TMP/log.final" >&2; fail "final run failed"; }
integrity_check "the final run"
note "$killed runs killed, $completed finished before the kill"
[ "$killed" -gt 0 ] || fail "no run was killed before it finished, so recovery was not tested"

python3 "$REPO/tests/integration/ground_truth.py" --pcap "$PCAP" --truth "$PCAP.truth.json" \
    --scope server --allow-repeats "$TMP"/alerts.*.json \
    || fail "union of the alerts of all runs differs from the ground truth"
