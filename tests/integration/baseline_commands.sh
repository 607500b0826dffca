#!/bin/bash
# The baseline subcommands on a baseline made from the shipped capture:
# list, stats, forget, export and import, prune by age, and prune of the
# clients first seen during an alert storm.
TEST_NAME=baseline_commands
source "$(dirname "$0")/lib.sh"

STATE=$TMP/b.db
"$DNSFIRST" run -r "$SAMPLE" --learning-period 0 --state "$STATE" -o "$TMP/alerts.jsonl" \
    2>"$TMP/run.log" || fail "run on the sample failed: $(tail -3 "$TMP/run.log")"
expected=$(wc -l <"$SAMPLE_EXPECTED")

rows() { "$DNSFIRST" baseline list --state "$1" | tail -n +2 | wc -l; }
[ "$(rows "$STATE")" -eq "$expected" ] || fail "list shows $(rows "$STATE") clients, expected $expected"
"$DNSFIRST" baseline stats --state "$STATE" | grep -qx "clients $expected" \
    || fail "stats does not say 'clients $expected'"

# forget removes the client under every scope it queried.
"$DNSFIRST" baseline forget 198.51.100.7 --state "$STATE" 2>"$TMP/forget.log" \
    || fail "forget failed: $(cat "$TMP/forget.log")"
grep -q "forgot 2 client" "$TMP/forget.log" || fail "forget: $(cat "$TMP/forget.log")"
[ "$(rows "$STATE")" -eq $((expected - 2)) ] || fail "forget left $(rows "$STATE") clients"

# export and import into a fresh baseline give the same list.
"$DNSFIRST" baseline export --state "$STATE" -o "$TMP/export.jsonl" || fail "export failed"
"$DNSFIRST" baseline import "$TMP/export.jsonl" --state "$TMP/copy.db" 2>"$TMP/import.log" \
    || fail "import failed: $(cat "$TMP/import.log")"
diff <("$DNSFIRST" baseline list --state "$STATE") <("$DNSFIRST" baseline list --state "$TMP/copy.db") \
    >"$TMP/list.diff" || fail "imported baseline differs: $(head -5 "$TMP/list.diff")"

# A bad line rejects the whole import and names the line.
{ head -1 "$TMP/export.jsonl"; echo '{"scope": 1}'; } >"$TMP/bad.jsonl"
if "$DNSFIRST" baseline import "$TMP/bad.jsonl" --state "$TMP/copy2.db" 2>"$TMP/bad.log"; then
    fail "import of a bad file succeeded"
fi
grep -qF "bad.jsonl:2" "$TMP/bad.log" || fail "import error does not name line 2: $(cat "$TMP/bad.log")"

# prune by age counts from the newest last-seen time: a day keeps everyone.
"$DNSFIRST" baseline prune --older-than 1d --state "$STATE" 2>/dev/null || fail "prune failed"
[ "$(rows "$STATE")" -eq $((expected - 2)) ] || fail "prune --older-than 1d removed clients"

# --older-than 0 would remove nearly everyone: a usage error that changes nothing.
rc=0
"$DNSFIRST" baseline prune --older-than 0 --state "$STATE" 2>"$TMP/prune0.log" || rc=$?
[ "$rc" -eq 2 ] || fail "prune --older-than 0 exited $rc, expected 2"
grep -q "invalid --older-than 0" "$TMP/prune0.log" || fail "prune --older-than 0: $(cat "$TMP/prune0.log")"
[ "$(rows "$STATE")" -eq $((expected - 2)) ] || fail "prune --older-than 0 removed clients"

# A storm threshold of 1 per minute puts every client after the first into a storm;
# prune --storm removes those and keeps the one alerted singly.
"$DNSFIRST" run -r "$SAMPLE" --learning-period 0 --storm-threshold 1 --state "$TMP/storm.db" \
    -o "$TMP/storm.jsonl" 2>"$TMP/storm.log" || fail "storm run failed: $(tail -3 "$TMP/storm.log")"
storm_rows=$("$DNSFIRST" baseline list --state "$TMP/storm.db" | grep -c " storm ")
[ "$storm_rows" -gt 0 ] || fail "no client is marked storm in the list"
# stats counts each kind as list shows it: storm rows are not alerted ones.
alerted_rows=$("$DNSFIRST" baseline list --state "$TMP/storm.db" | grep -c " alerted ")
"$DNSFIRST" baseline stats --state "$TMP/storm.db" >"$TMP/storm-stats.txt" || fail "stats failed"
for kind in "storm $storm_rows" "alerted $alerted_rows" "learned 0" "clients $expected"; do
    grep -qx "$kind" "$TMP/storm-stats.txt" \
        || fail "stats does not say '$kind': $(tr '\n' ' ' <"$TMP/storm-stats.txt")"
done
# A replay of the same capture is no return of the storm's clients: no alert.
"$DNSFIRST" run -r "$SAMPLE" --learning-period 0 --storm-threshold 1 --state "$TMP/storm.db" \
    -o "$TMP/storm-replay.jsonl" 2>"$TMP/storm-replay.log" \
    || fail "storm replay failed: $(tail -3 "$TMP/storm-replay.log")"
[ ! -s "$TMP/storm-replay.jsonl" ] || fail "a replay alerted storm clients again: $(head -c 300 "$TMP/storm-replay.jsonl")"
[ "$("$DNSFIRST" baseline list --state "$TMP/storm.db" | grep -c " storm ")" -eq "$storm_rows" ] \
    || fail "a replay confirmed storm clients"
"$DNSFIRST" baseline prune --storm --state "$TMP/storm.db" 2>"$TMP/prune.log" \
    || fail "prune --storm failed: $(cat "$TMP/prune.log")"
grep -q "pruned $storm_rows storm client" "$TMP/prune.log" || fail "prune --storm: $(cat "$TMP/prune.log")"
[ "$("$DNSFIRST" baseline list --state "$TMP/storm.db" | grep -c " storm ")" -eq 0 ] \
    || fail "storm clients remain after prune --storm"

# forget and prune edit a baseline: on a missing file they fail and create nothing.
for sub in "forget 192.0.2.1" "prune --older-than 1d"; do
    rc=0
    # shellcheck disable=SC2086
    "$DNSFIRST" baseline $sub --state "$TMP/missing.db" 2>"$TMP/missing.log" || rc=$?
    [ "$rc" -eq 1 ] || fail "baseline $sub on a missing file: exit $rc, expected 1"
    grep -q "not found" "$TMP/missing.log" || fail "baseline $sub: $(cat "$TMP/missing.log")"
    [ ! -e "$TMP/missing.db" ] || fail "baseline $sub created $TMP/missing.db"
done

note "list, stats, forget, export, import, prune and prune --storm behave"
