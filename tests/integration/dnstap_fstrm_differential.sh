#!/bin/bash
# dnsfirst's Frame Streams file reader against libfstrm's, on files made by
# the fstrm tools. bench/pcap2dnstap.c turns the sample capture into a
# dnstap file with libfstrm's writer; fstrm_replay sends that file to
# fstrm_capture over a unix socket (the bidirectional handshake), and
# fstrm_capture writes a second file. tests/differential/dnstap_files.c reads
# both files, and copies cut at and near every frame boundary, with both
# readers and compares every data frame byte for byte.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dnstap_lib.sh"
require_tool gcc pkg-config protoc-c fstrm_capture fstrm_replay

PROTO_DIR=/usr/share/gocode/src/github.com/dnstap/golang-dnstap/dnstap.pb
[ -f "$PROTO_DIR/dnstap.proto" ] || skip "dnstap.proto not found in $PROTO_DIR"
for pkg in libfstrm libprotobuf-c libpcap; do
    pkg-config --exists "$pkg" || skip "$pkg development files not installed"
done

# Build the converter and the comparison program from the repository sources.
CFLAGS=(-std=c11 -D_GNU_SOURCE -O1 -Wall -Wextra)
protoc-c --proto_path="$PROTO_DIR" --c_out="$TMP" "$PROTO_DIR/dnstap.proto" ||
    fail "protoc-c failed"
gcc "${CFLAGS[@]}" -I"$TMP" -o "$TMP/pcap2dnstap" "$REPO/bench/pcap2dnstap.c" \
    "$TMP/dnstap.pb-c.c" -lfstrm -lprotobuf-c -lpcap || fail "cannot build pcap2dnstap"
gcc "${CFLAGS[@]}" -I"$REPO/src" -o "$TMP/dnstap_files" \
    "$REPO/tests/differential/dnstap_files.c" "$REPO/src/input/dnstap_file.c" \
    "$REPO/src/input/dnstap_frame.c" -lfstrm || fail "cannot build dnstap_files"

# A file written by libfstrm's file writer.
"$TMP/pcap2dnstap" "$SAMPLE" "$TMP/written.fstrm" >"$TMP/pcap2dnstap.log" 2>&1 ||
    fail "pcap2dnstap failed: $(cat "$TMP/pcap2dnstap.log")"

# The same frames relayed from fstrm_replay through fstrm_capture.
SOCK=$TMP/capture.sock
fstrm_capture -t protobuf:dnstap.Dnstap -u "$SOCK" -w "$TMP/captured.fstrm" \
    2>"$TMP/capture.log" &
CAP=$!
trap 'kill -INT $CAP 2>/dev/null; cleanup_tmp' EXIT
wait_socket "$SOCK" || fail "fstrm_capture did not create $SOCK"
fstrm_replay -t protobuf:dnstap.Dnstap -u "$SOCK" -r "$TMP/written.fstrm" \
    2>"$TMP/replay.log" || fail "fstrm_replay failed: $(cat "$TMP/replay.log")"
sleep 1
kill -INT "$CAP"
wait "$CAP"
[ -s "$TMP/captured.fstrm" ] || fail "fstrm_capture wrote no file: $(cat "$TMP/capture.log")"

"$TMP/dnstap_files" "$TMP/written.fstrm" "$TMP/captured.fstrm" >"$TMP/diff.log" 2>&1 || {
    tail -20 "$TMP/diff.log"
    fail "the two readers disagree"
}
cmp -s "$TMP/written.fstrm" "$TMP/captured.fstrm" && note "captured file equals the written one"
note "both readers agree on $(grep -c '^same' "$TMP/diff.log") files and their cut copies"
