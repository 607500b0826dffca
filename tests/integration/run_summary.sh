#!/bin/bash
# The summary of a file run accounts for every new client: the ones learned
# under --learn (with the reason named), and the storm clients that raised no
# single alert next to the new clients that did.
. "$(dirname "$0")/lib.sh"

require_dnsfirst
[ -f "$SAMPLE" ] || fail "sample capture missing: $SAMPLE"
expected=$(grep -c . "$SAMPLE_EXPECTED")

# summary_value LOG LABEL: print the number on the summary line LABEL.
summary_value() {
    sed -n "s/^  $2  *\([0-9][0-9]*\)\$/\1/p" "$1"
}

# --learn records every new client without an alert, and the summary names the reason.
"$DNSFIRST" run -r "$SAMPLE" --learn --state "$TMP/learn.db" -o "$TMP/learn.jsonl" \
    2>"$TMP/learn.log" || fail "learn run failed: $(tail -3 "$TMP/learn.log")"
[ ! -s "$TMP/learn.jsonl" ] || fail "a --learn run wrote alerts: $(head -c 300 "$TMP/learn.jsonl")"
[ "$(summary_value "$TMP/learn.log" "clients learned")" = "$expected" ] \
    || fail "learn run: 'clients learned' is not $expected: $(grep learned "$TMP/learn.log")"
grep -q "(learned: .*--learn[^a-z-]" "$TMP/learn.log" \
    || fail "learn run: the summary does not name --learn as a reason: $(grep learned "$TMP/learn.log")"

# A storm threshold of 1 per minute turns every client after the first into a storm
# client: new clients and storm clients together are every new pair of the capture.
"$DNSFIRST" run -r "$SAMPLE" --learning-period 0 --storm-threshold 1 --state "$TMP/storm.db" \
    -o "$TMP/storm.jsonl" 2>"$TMP/storm.log" || fail "storm run failed: $(tail -3 "$TMP/storm.log")"
new=$(summary_value "$TMP/storm.log" "new clients")
storm=$(summary_value "$TMP/storm.log" "storm clients")
storm_alerts=$(summary_value "$TMP/storm.log" "storm alerts")
storm_rows=$("$DNSFIRST" baseline list --state "$TMP/storm.db" | grep -c " storm ")
[ -n "$new" ] || fail "storm run: the summary has no 'new clients' line"
[ -n "$storm" ] || fail "storm run: the summary has no 'storm clients' line: $(cat "$TMP/storm.log")"
[ "$storm" -gt 0 ] || fail "storm run: 'storm clients' is 0"
[ "$storm" -eq "$storm_rows" ] \
    || fail "storm run: 'storm clients' is $storm, but list shows $storm_rows storm rows"
[ "$((new + storm))" -eq "$expected" ] \
    || fail "storm run: new clients $new + storm clients $storm is not the $expected new pairs"
[ -n "$storm_alerts" ] && [ "$storm_alerts" -gt 0 ] \
    || fail "storm run: 'storm alerts' is '$storm_alerts', expected at least 1"
grep -qF "(not counted as new: $storm storm clients, reported in $storm_alerts aggregated" \
    "$TMP/storm.log" || fail "storm run: no note next to 'new clients': $(grep -A1 "new clients" "$TMP/storm.log")"

note "learned under --learn: $expected; storm run: $new new + $storm storm clients, $storm_alerts storm alerts"
