#!/bin/bash
# A state file that cannot be used stops the run: exit 1, an error that names
# the file, no alert, and the file left byte for byte as it was.
# Cases: random bytes, another application's SQLite database, a read-only
# state file, and a state in use by another running dnsfirst.
. "$(dirname "$0")/lib.sh"

require_dnsfirst
require_tool sqlite3 sha256sum
[ -f "$SAMPLE" ] || fail "sample capture missing: $SAMPLE"

failures=0

case_fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    failures=$((failures + 1))
}

# expect_rejected NAME STATE [COMMAND PREFIX...]: run on the sample with STATE
# and check the exit code, the message, the output and the file's checksum.
expect_rejected() {
    local name=$1 state=$2
    shift 2
    local before after rc=0
    before=$(sha256_of "$state")
    "$@" "$DNSFIRST" run -r "$SAMPLE" --learning-period 0 --state "$state" \
        >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
    after=$(sha256_of "$state")

    local ok=1
    if [ "$rc" -ne 1 ]; then
        case_fail "$name: exit code $rc, expected 1"
        ok=0
    fi
    if ! grep -qF "$state" "$TMP/$name.err"; then
        case_fail "$name: the error does not name $state; stderr was: $(head -c 600 "$TMP/$name.err")"
        ok=0
    fi
    if [ -s "$TMP/$name.out" ]; then
        case_fail "$name: alerts were written: $(head -c 300 "$TMP/$name.out")"
        ok=0
    fi
    if [ "$before" != "$after" ]; then
        case_fail "$name: the state file changed (sha256 $before before, $after after)"
        ok=0
    fi
    if [ "$ok" = 1 ]; then
        note "ok: $name: $(grep -F "$state" "$TMP/$name.err" | head -n 1)"
    fi
}

# 1. Random bytes.
head -c 16384 /dev/urandom >"$TMP/random.db"
expect_rejected random-bytes "$TMP/random.db"

# 2. Other SQLite applications: one with its own application_id and
# user_version, one that sets neither but has tables of its own.
sqlite3 "$TMP/other-app.db" "PRAGMA application_id = 1095786824; PRAGMA user_version = 7;
    CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me');"
expect_rejected other-application-id "$TMP/other-app.db"
sqlite3 "$TMP/plain-app.db" "CREATE TABLE clients (address TEXT, seen INTEGER);
    INSERT INTO clients VALUES ('198.51.100.1', 1);"
expect_rejected foreign-tables "$TMP/plain-app.db"

# 3. A read-only state file. Root ignores file modes, so as root the run
# drops to the nobody user; the directory stays read-only too, so the file
# itself is the only way in.
mkdir -p "$TMP/ro"
if "$DNSFIRST" run -r "$SAMPLE" --learning-period 0 --state "$TMP/ro/baseline.db" \
        >/dev/null 2>"$TMP/ro-setup.err"; then
    chmod 0444 "$TMP/ro/baseline.db"
    chmod 0555 "$TMP/ro"
    if [ "$(id -u)" -eq 0 ]; then
        if command -v setpriv >/dev/null; then
            chmod 0755 "$TMP"
            expect_rejected read-only "$TMP/ro/baseline.db" \
                setpriv --reuid=nobody --regid=nogroup --clear-groups
        else
            note "SKIP read-only case: running as root without setpriv"
        fi
    else
        expect_rejected read-only "$TMP/ro/baseline.db"
    fi
    chmod 0755 "$TMP/ro"
else
    case_fail "read-only: could not create a valid state: $(head -c 600 "$TMP/ro-setup.err")"
fi

# 4. A state in use. The first run reads its capture from standard input, a
# FIFO that this script holds open, so it keeps the state open until the FIFO
# is closed. Opening the FIFO read-write first never blocks, and the run must
# not inherit that descriptor, or it would never see the end of its input.
mkfifo "$TMP/feed.pcap"
exec 3<>"$TMP/feed.pcap"
LOCKED=$TMP/locked.db
"$DNSFIRST" run -r - --learning-period 0 --state "$LOCKED" \
    <"$TMP/feed.pcap" >"$TMP/holder.out" 2>"$TMP/holder.err" 3>&- &
holder=$!
head -c 24 "$SAMPLE" >&3   # the pcap file header only: the reader waits for a packet
for _ in $(seq 1 100); do
    [ -e "$LOCKED" ] && break
    kill -0 "$holder" 2>/dev/null || break
    sleep 0.1
done
sleep 0.5
if ! kill -0 "$holder" 2>/dev/null; then
    case_fail "in-use: the first run ended early: $(head -c 600 "$TMP/holder.err")"
elif [ ! -e "$LOCKED" ]; then
    case_fail "in-use: the first run did not create $LOCKED within 10 s"
else
    expect_rejected in-use "$LOCKED"
fi
tail -c +25 "$SAMPLE" >&3
exec 3>&-
for _ in $(seq 1 300); do
    kill -0 "$holder" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$holder" 2>/dev/null; then
    kill -KILL "$holder"
    case_fail "in-use: the first run did not finish within 30 s after its input ended"
fi
rc=0
wait "$holder" || rc=$?
if [ "$rc" -ne 0 ]; then
    case_fail "in-use: the first run exited $rc after its input ended: $(head -c 600 "$TMP/holder.err")"
fi

[ "$failures" -eq 0 ] || fail "$failures checks failed"
