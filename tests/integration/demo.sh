#!/bin/bash
# The README demo: every new external client in the shipped sample capture is
# alerted once, and a second run on the same state alerts nothing.
. "$(dirname "$0")/lib.sh"

require_dnsfirst
require_tool python3
[ -f "$SAMPLE" ] || fail "sample capture missing: $SAMPLE"
[ -f "$SAMPLE_EXPECTED" ] || fail "expected alerts missing: $SAMPLE_EXPECTED"

STATE=$TMP/b.db

# run_sample OUT: one run on the sample; fails the test on a non-zero exit.
run_sample() {
    local out=$1 rc=0
    "$DNSFIRST" run -r "$SAMPLE" --learning-period 0 --state "$STATE" >"$out" 2>"$out.log" || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$out.log" >&2
        fail "dnsfirst run exited $rc (expected 0)"
    fi
}

run_sample "$TMP/first.json"
python3 - "$TMP/first.json" <<'PY' || fail "first run: alert fields are wrong"
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
        alert = json.loads(line)
        problems = []
        if alert.get("event", {}).get("kind") != "alert":
            problems.append("event.kind is not alert")
        if alert.get("rule", {}).get("id") != "dnsfirst-new-external-client":
            problems.append("rule.id is not dnsfirst-new-external-client")
        if alert.get("dnsfirst", {}).get("scope") != "server":
            problems.append("dnsfirst.scope is not server")
        if alert.get("dns", {}).get("type") != "query":
            problems.append("dns.type is not query")
        if alert.get("dnsfirst", {}).get("input", {}).get("packet", 0) < 1:
            problems.append("dnsfirst.input.packet is missing")
        for p in problems:
            print(f"alert {number}: {p}: {line.strip()}", file=sys.stderr)
        if problems:
            sys.exit(1)
PY

got=$(alert_keys "$TMP/first.json") || exit 1
expected=$(grep -v '^[[:space:]]*$' "$SAMPLE_EXPECTED" | sort)
if [ "$got" != "$expected" ]; then
    echo "expected alerts (scope_key client_key):" >&2
    echo "$expected" >&2
    echo "got:" >&2
    echo "$got" >&2
    diff <(echo "$expected") <(echo "$got") >&2
    fail "first run: alerts differ from tests/data/sample.expected"
fi
note "first run: $(echo "$got" | wc -l) alerts, as expected"

run_sample "$TMP/second.json"
if [ -s "$TMP/second.json" ]; then
    cat "$TMP/second.json" >&2
    fail "second run on the same state alerted again"
fi
note "second run on the same state: no alerts"
