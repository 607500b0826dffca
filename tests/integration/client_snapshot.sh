#!/bin/bash
# The snapshot of the client table beside the baseline (STATE.clients): a
# clean run writes it, the next run loads it instead of the rows, and a
# baseline command (forget) makes it stale, so the forgotten client alerts
# again. A damaged snapshot is passed over for the rows. A snapshot file
# that is not used is logged at the default level, a missing one only at info.
TEST_NAME=client_snapshot
source "$(dirname "$0")/lib.sh"
require_dnsfirst

STATE=$TMP/b.db
SNAPSHOT=$STATE.clients
expected=$(wc -l <"$SAMPLE_EXPECTED")

# run N [LEVEL]: one run on the sample at log level LEVEL (default info), alerts to
# $TMP/alertsN.jsonl, log to $TMP/runN.log.
run() {
    "$DNSFIRST" run -r "$SAMPLE" --learning-period 0 --log-level "${2:-info}" --state "$STATE" \
        -o "$TMP/alerts$1.jsonl" 2>"$TMP/run$1.log" \
        || fail "run $1 failed: $(tail -3 "$TMP/run$1.log")"
}
alerts() { grep -c . "$TMP/alerts$1.jsonl"; }
logged() { grep -q "$2" "$TMP/run$1.log" || fail "run $1 does not log '$2': $(grep snapshot "$TMP/run$1.log")"; }

run 1
[ "$(alerts 1)" -eq "$expected" ] || fail "run 1 raised $(alerts 1) alerts, expected $expected"
logged 1 "snapshot '.*' not used: no snapshot"
logged 1 "snapshot '.*' written"
[ -s "$SNAPSHOT" ] || fail "run 1 left no snapshot at $SNAPSHOT"

run 2
logged 2 "snapshot '.*' used"
logged 2 "loaded $expected clients"
[ "$(alerts 2)" -eq 0 ] || fail "run 2 from the snapshot raised $(alerts 2) alerts"

# forget changes the baseline: the snapshot is stale and the client is new again.
"$DNSFIRST" baseline forget 198.51.100.7 --state "$STATE" 2>"$TMP/forget.log" \
    || fail "forget failed: $(cat "$TMP/forget.log")"
# At the default level too: the start read every row, and the log gives the reason.
run 3 notice
logged 3 "snapshot '.*' not used: stale"
logged 3 "loaded $((expected - 2)) clients"
[ "$(alerts 3)" -eq 2 ] || fail "run 3 after forget raised $(alerts 3) alerts, expected 2"
[ "$(alert_keys "$TMP/alerts3.jsonl" | grep -c ' 198.51.100.7/32$')" -eq 2 ] \
    || fail "run 3 alerts are not those of the forgotten client: $(alert_keys "$TMP/alerts3.jsonl")"

run 4
logged 4 "snapshot '.*' used"
[ "$(alerts 4)" -eq 0 ] || fail "run 4 raised $(alerts 4) alerts"

# A damaged snapshot is not trusted: the rows are read and nothing alerts.
printf 'X' | dd of="$SNAPSHOT" bs=1 seek=200 conv=notrunc status=none
run 5
logged 5 "snapshot '.*' not used: bad checksum"
logged 5 "loaded $expected clients"
[ "$(alerts 5)" -eq 0 ] || fail "run 5 after damage raised $(alerts 5) alerts"

truncate -s 100 "$SNAPSHOT"
run 6 notice
logged 6 "snapshot '.*' not used: truncated"
[ "$(alerts 6)" -eq 0 ] || fail "run 6 after truncation raised $(alerts 6) alerts"

# Without a snapshot file, nothing about it is logged at the default level.
rm -f "$SNAPSHOT"
run 7 notice
! grep -q "snapshot '" "$TMP/run7.log" || fail "run 7 without a snapshot logs: $(grep "snapshot '" "$TMP/run7.log")"
logged 7 "loaded $expected clients"

# Clients that expire at the end of a run are left out of the snapshot it
# writes: the first 20 packets again, two hours later, with a one-hour expiry.
python3 - "$SAMPLE" "$TMP/later.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
out, offset = bytearray(data[:24]), 24
for _ in range(20):
    sec, frac, caplen, wire = struct.unpack(order + "IIII", data[offset:offset + 16])
    out += struct.pack(order + "IIII", sec + 7200, frac, caplen, wire)
    out += data[offset + 16:offset + 16 + caplen]
    offset += 16 + caplen
open(sys.argv[2], "wb").write(out)
PY
later() {
    "$DNSFIRST" run -r "$TMP/later.pcap" --expiry 1h --log-level info --state "$STATE" \
        -o /dev/null 2>"$TMP/run$1.log" || fail "run $1 failed: $(tail -3 "$TMP/run$1.log")"
}
summary() { awk -v k="$2" 'index($0, k) { print $NF }' "$TMP/run$1.log"; }
loaded() { sed -n 's/.*loaded \([0-9]*\) clients.*/\1/p' "$TMP/run$1.log"; }
later 8
logged 8 "snapshot '.*' written"
[ "$(summary 8 "clients expired")" -gt 0 ] || fail "run 8 two hours later expired no client"
later 9
logged 9 "snapshot '.*' used"
# The rows, read without the snapshot, contain the same clients.
rm -f "$SNAPSHOT"
later 10
[ "$(loaded 9)" -eq "$(loaded 10)" ] || fail "run 9 loaded $(loaded 9) clients from the snapshot, the rows hold $(loaded 10)"
[ "$(loaded 9)" -lt "$expected" ] || fail "run 9 loaded $(loaded 9) clients, expected fewer than $expected"

note "written, used, stale after forget, damaged, truncated and expired clients left out"
