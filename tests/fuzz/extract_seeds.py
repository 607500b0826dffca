#!/usr/bin/env python3
"""Write fuzz seeds from the frames of classic pcap captures.

For every *.pcap/*.cap under --corpus (pcapng files are skipped), two kinds
of seed go under --out:
  frames/NAME  input for fuzz_decoder: a link type selector byte, then up to
               FRAMES_PER_SEED frames as (2-byte length, control byte, bytes)
  dns/NAME-N   input for fuzz_dns_wire and fuzz_dns_differential: the UDP
               payload of frames to or from port 53 (Ethernet, raw IP, Linux
               cooked and BSD loopback links; IPv4 and IPv6)
The selector order must match link_types[] in fuzz_decoder.c.
"""

import argparse
import hashlib
import os
import struct

# LINKTYPE value in the file -> index into link_types[] of fuzz_decoder.c.
SELECTORS = {1: 0, 12: 1, 101: 2, 0: 3, 108: 4, 113: 5, 276: 6, 228: 7, 229: 8, 258: 9}
FRAMES_PER_SEED = 32
DNS_SEEDS_PER_CAPTURE = 20


def read_pcap(path):
    """Return (linktype, [(ts_sec, frame)]) or None for other formats."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return None
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return None
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    frames = []
    pos = 24
    while pos + 16 <= len(data):
        ts_sec, _, caplen, _ = struct.unpack(endian + "IIII", data[pos:pos + 16])
        pos += 16
        if caplen > 262144 or pos + caplen > len(data):
            break
        frames.append((ts_sec, data[pos:pos + caplen]))
        pos += caplen
    return linktype, frames


def network_layer(linktype, frame):
    """Return the bytes from the IP header on, or None for other link types."""
    if linktype == 1:
        pos, ethertype = 14, frame[12:14]
        while ethertype in (b"\x81\x00", b"\x88\xa8") and len(frame) >= pos + 4:
            ethertype = frame[pos + 2:pos + 4]
            pos += 4
        return frame[pos:]
    if linktype in (12, 101, 228, 229):
        return frame
    if linktype == 113:
        return frame[16:]
    if linktype in (0, 108):
        return frame[4:]
    return None


def udp_dns_payload(ip):
    """UDP payload of an IPv4 or IPv6 packet to or from port 53, or None."""
    if not ip:
        return None
    version = ip[0] >> 4
    if version == 4 and len(ip) >= 20 and ip[9] == 17:
        udp = ip[(ip[0] & 0x0F) * 4:]
    elif version == 6 and len(ip) >= 40 and ip[6] == 17:
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport = struct.unpack(">HH", udp[:4])
    if 53 not in (sport, dport):
        return None
    return udp[8:]


def frames_seed(selector, frames):
    out = bytearray([selector])
    previous = frames[0][0] if frames else 0
    for ts_sec, frame in frames[:FRAMES_PER_SEED]:
        frame = frame[:65535]
        control = max(0, min(ts_sec - previous, 127))
        previous = ts_sec
        out += struct.pack(">HB", len(frame), control) + frame
    return bytes(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(os.path.join(args.out, "frames"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "dns"), exist_ok=True)

    frame_seeds = dns_seeds = 0
    seen = set()
    for directory, _, files in os.walk(args.corpus):
        for name in sorted(files):
            if not name.endswith((".pcap", ".cap")):
                continue
            parsed = read_pcap(os.path.join(directory, name))
            if parsed is None:
                continue
            linktype, frames = parsed
            base = os.path.relpath(os.path.join(directory, name), args.corpus).replace("/", "_")
            if linktype in SELECTORS and frames:
                with open(os.path.join(args.out, "frames", base), "wb") as f:
                    f.write(frames_seed(SELECTORS[linktype], frames))
                frame_seeds += 1

            count = 0
            for _, frame in frames:
                payload = udp_dns_payload(network_layer(linktype, frame))
                if not payload or count >= DNS_SEEDS_PER_CAPTURE:
                    continue
                digest = hashlib.sha1(payload).hexdigest()
                if digest in seen:
                    continue
                seen.add(digest)
                with open(os.path.join(args.out, "dns", f"{base}-{count}"), "wb") as f:
                    f.write(payload)
                count += 1
                dns_seeds += 1
    print(f"seeds: {frame_seeds} frame sequences, {dns_seeds} DNS messages in {args.out}")


if __name__ == "__main__":
    main()
