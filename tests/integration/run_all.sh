#!/bin/bash
# Run every integration test and print PASS, FAIL or SKIP for each, then the
# totals. Exits 1 when any test failed.
# Environment: DNSFIRST (binary under test), DNSFIRST_CORPUS (see lib.sh),
# TEST_TIMEOUT (seconds per test, default 900).
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
TESTS=(cli demo state_errors ground_truth kill_recovery corpus_decode live_capture live_replay enrichment)
TESTS+=(hostile_captures baseline_commands run_summary)
TESTS+=(client_snapshot)
TESTS+=(peer_opinions)
TESTS+=(dnstap_unbound dnstap_knot dnstap_bind dnstap_restart dnstap_garbage dnstap_file)
TESTS+=(dnstap_fstrm_differential dnstap_tcp)
TESTS+=(client_key_ptr)
# Seconds one test may take before it is stopped and counted as failed.
TEST_TIMEOUT=${TEST_TIMEOUT:-900}

passed=0
failed=0
skipped=0
summary=()
for t in "${TESTS[@]}"; do
    echo "=== $t"
    start=$SECONDS
    rc=0
    timeout --kill-after=10 "$TEST_TIMEOUT" bash "$DIR/$t.sh" || rc=$?
    took=$((SECONDS - start))
    case "$rc" in
        0) passed=$((passed + 1)); summary+=("PASS $t (${took}s)") ;;
        77) skipped=$((skipped + 1)); summary+=("SKIP $t") ;;
        124|137) failed=$((failed + 1)); summary+=("FAIL $t (timed out after ${took}s)") ;;
        *) failed=$((failed + 1)); summary+=("FAIL $t (exit $rc, ${took}s)") ;;
    esac
    echo "${summary[-1]}"
done

echo
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
