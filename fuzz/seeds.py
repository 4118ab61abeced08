#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora from the shared captures.

Usage: fuzz/seeds.py [CAPTURES_DIR]   (default ../shared/captures, beside the repository)

Each corpus under fuzz/corpus/<target>/ gets a modest set of distinct inputs, named by
their SHA-1 (as libFuzzer names its own): SIP payloads (UDP and TCP), SDP and
message-summary bodies, header values, RTP payloads, whole frames of every link type,
frame sequences in the engine target's record format, fragment sequences, TCP segment
sequences, announcements, and whole small capture files. tshark and editcap read the captures.
"""

import gzip
import hashlib
import hmac
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CAPTURES = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "captures"
CORPUS = HERE / "corpus"
# pcap LINKTYPE -> the selector the packet and engine targets map to a LinkType
# (0 raw IP, 1 Ethernet, 2 Linux SLL, 3 Linux SLL2, 4 BSD loopback).
LINK_SELECTOR = {0: 4, 108: 4, 1: 1, 12: 0, 14: 0, 101: 0, 228: 0, 229: 0, 113: 2, 276: 3}
random.seed(3842)


def put(target, data, limit=None):
    """Adds one seed; returns False once the target holds `limit` seeds."""
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    if limit is not None and len(list(directory.iterdir())) >= limit:
        return False
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
    return True


def captures():
    return sorted(p for p in CAPTURES.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")


def is_capture(path):
    magic = path.read_bytes()[:4]
    return magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x0a\x0d\x0d\x0a") or magic[:2] == b"\x1f\x8b"


def classic_frames(path):
    """(link selector, seconds, frame) of every frame, through editcap's classic pcap."""
    with tempfile.NamedTemporaryFile(suffix=".pcap") as out:
        done = subprocess.run(["editcap", "-F", "pcap", str(path), out.name], capture_output=True)
        if done.returncode != 0:
            return []
        data = Path(out.name).read_bytes()
    if len(data) < 24:
        return []
    linktype = struct.unpack("<I", data[20:24])[0]
    if linktype not in LINK_SELECTOR:
        return []
    frames, at = [], 24
    while at + 16 <= len(data):
        secs, usecs, incl, _ = struct.unpack("<IIII", data[at:at + 16])
        frames.append((LINK_SELECTOR[linktype], secs + usecs / 1e6, data[at + 16:at + 16 + incl]))
        at += 16 + incl
    return frames


def tshark_payloads(path, display_filter, field, extra=()):
    done = subprocess.run(
        ["tshark", "-r", str(path), *extra, "-Y", display_filter, "-T", "fields", "-e", field],
        capture_output=True, text=True)
    return [bytes.fromhex(line.replace(":", "")) for line in done.stdout.split() if line]


def sip_messages():
    """Every SIP payload of the captures, and the text traces and torture messages."""
    seen = {}
    for path in captures():
        if is_capture(path):
            for field in ("udp.payload", "tcp.payload"):
                for payload in tshark_payloads(path, "sip", field):
                    seen.setdefault(payload, None)
        elif path.stat().st_size < 16384:
            seen.setdefault(path.read_bytes(), None)
    return list(seen)


def sip_seeds(messages):
    for message in messages:
        put("sip_datagram", message, 400)
        put("sip_stream", message, 150)
    for _ in range(60):
        put("sip_stream", b"".join(random.sample(messages, 3)), 210)
    # The known panic's shape: a multibyte character across byte ten of Content-Type.
    put("sip_datagram", b"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
        b"Content-Type: aaaaaaaaa\xc3\xa9\r\nContent-Length: 3\r\n\r\nv=0")
    for message in messages:
        head, _, body = message.partition(b"\r\n\r\n")
        if body.startswith(b"v=0"):
            put("sdp", body, 150)
        for line in head.split(b"\r\n")[:1] + head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() in (b"from", b"f", b"to", b"t", b"p-asserted-identity",
                                        b"remote-party-id", b"contact", b"m"):
                put("sip_fields", value.strip(), 200)
        if b" SIP/2.0" in head.split(b"\r\n")[0]:
            put("sip_fields", head.split(b"\r\n")[0].split(b" ")[1], 250)


def voicemail_seeds():
    bodies = [
        b"Messages-Waiting: yes\r\nMessage-Account: sip:alice@example.com\r\n"
        b"Voice-Message: 2/8 (0/2)\r\n",
        b"Messages-Waiting: no\r\nVoice-Message: 0/0\r\n",
        b"messages-waiting: YES\nvoice-message: 4294967295/1 (1/1)\nfax-message: 1/0\n",
        b"Messages-Waiting: yes\r\nVoice-Message: 1/\r\n",
    ]
    for body in bodies:
        put("voicemail", body)
    notify = (b"NOTIFY sip:phone@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
              b"From: <sip:vm@192.0.2.1>;tag=1\r\nTo: <sip:phone@192.0.2.2>\r\nCall-ID: mwi1\r\n"
              b"CSeq: 1 NOTIFY\r\nEvent: message-summary\r\n"
              b"Content-Type: application/simple-message-summary\r\nContent-Length: %d\r\n\r\n")
    for body in bodies:
        put("sip_datagram", notify % len(body) + body)


def rtp_seeds():
    for path in captures():
        if is_capture(path):
            payloads = tshark_payloads(path, "rtp", "udp.payload", ("-o", "rtp.heuristic_rtp:TRUE"))
            for payload in payloads[:3]:
                put("rtp", payload, 120)


def record(selector, delay_ms, frame, side=0):
    frame = frame[:65535]
    return struct.pack("<BHH", selector | side << 4, min(delay_ms, 65535), len(frame)) + frame


def frame_seeds():
    for path in captures():
        if not is_capture(path):
            continue
        frames = classic_frames(path)
        for selector, _, frame in frames[:8]:
            put("packet_decode", bytes([selector]) + frame, 400)
        # A call as the engine sees it: the first frames with their spacing, up to 48 KiB.
        sequence, last = b"", frames[0][1] if frames else 0
        for selector, when, frame in frames[:200]:
            chunk = record(selector, int((when - last) * 1000), frame)
            if len(sequence) + len(chunk) > 48 * 1024:
                break
            sequence, last = sequence + chunk, when
        if sequence:
            put("engine_frames", sequence)
        if path.stat().st_size <= 40 * 1024:
            put("capture", path.read_bytes())


def capture_extras():
    small = CAPTURES / "pcapplusplus" / "sip_reqs.pcap"
    if small.exists():
        put("capture", gzip.compress(small.read_bytes(), mtime=0))
        put("capture", small.read_bytes()[:-1])
    netmon = CAPTURES / "wireshark-wiki" / "c07-sip-r2.cap"
    if netmon.exists() and netmon.stat().st_size <= 64 * 1024:
        put("capture", netmon.read_bytes())


def fragment_seeds(messages):
    """A SIP datagram cut into fragments, sent in order, reversed, repeated and interleaved."""
    for message in random.sample(messages, min(20, len(messages))):
        cut = sorted(random.sample(range(8, max(len(message), 16), 8), 2)) if len(message) > 24 else [8, 16]
        pieces = [(0, message[:cut[0]]), (cut[0], message[cut[0]:cut[1]]), (cut[1], message[cut[1]:])]
        orders = [pieces, pieces[::-1], pieces + pieces[-1:]]
        for order in orders:
            out = b""
            for offset, data in order:
                flags = (0 if offset == pieces[-1][0] else 4) | random.choice([0, 8]) & 8
                out += struct.pack("<BBHH", flags, 1, offset, len(data)) + data
            put("reassembly", out)


def tcp_seeds(messages):
    """SIP over TCP for the tcp_stream target: a SYN, then messages cut into 1, 2, 5 or 40
    segments, some reordered, retransmitted or closed by a FIN, sequence numbers near the wrap."""
    rng = random.Random(4475)

    def segment(flags, seq, data):
        return struct.pack("<BBIH", flags, rng.choice([0, 0, 1]), seq & 0xFFFFFFFF, len(data)) + data

    for i, message in enumerate(rng.sample(messages, min(30, len(messages)))):
        flow, isn = i % 8, rng.choice([1000, 0xFFFFFFFF - 50, rng.getrandbits(32)])
        size = -(-len(message) // rng.choice([1, 2, 5, 40]))
        pieces = [(isn + 1 + at, message[at:at + size]) for at in range(0, len(message), size)]
        if len(pieces) >= 3 and i % 2:
            pieces[1], pieces[2] = pieces[2], pieces[1]
        if i % 3 == 0:
            pieces.append(pieces[0])
        out = segment(flow | 8, isn, b"") + b"".join(segment(flow, seq, data) for seq, data in pieces)
        if i % 4 == 0:
            out += segment(flow | 16, isn + 1 + len(message), b"")
        put("tcp_stream", out)


def announce_seeds():
    secret = b"kitchen-table-secret"
    base = {"event": "ring", "call": "abc@203.0.113.5", "direction": "inbound",
            "number": "15550100001", "name": "WIRELESS CALLER", "display": "Mom \"Mother\" \u00dcnal",
            "anonymous": False, "line": "192.168.1.20:5060", "time": "2026-11-22T10:00:00.000000Z"}
    variants = [base, dict(base, event="missed", disposition="blocked"),
                dict(base, event="voicemail", messages_waiting=3, number=None, name=None),
                dict(base, event="answered", direction="outbound", display="\x1b[31m\ttab\nline")]
    datagrams = []
    for i, announcement in enumerate(variants):
        text = json.dumps(announcement, ensure_ascii=False).encode()
        # Version 2 is signed: the time (ms, big-endian; the notify target's clock) and a
        # 16-byte nonce before the JSON, the HMAC-SHA256 of all that after it.
        stamped = b"RINGSIDE\x02" + struct.pack(">Q", 1_795_000_000_000 + i) + bytes([i]) * 16 + text
        datagrams += [b"RINGSIDE\x01" + text, stamped + hmac.new(secret, stamped, "sha256").digest()]
    for datagram in datagrams:
        put("announce", datagram)
        put("notify_datagram", datagram)
    put("notify_datagram", b"\n\0".join(datagrams))


def main():
    if not CAPTURES.is_dir():
        sys.exit(f"no captures at {CAPTURES}")
    messages = sip_messages()
    sip_seeds(messages)
    voicemail_seeds()
    rtp_seeds()
    frame_seeds()
    capture_extras()
    fragment_seeds(messages)
    tcp_seeds(messages)
    announce_seeds()
    for target in sorted(os.listdir(CORPUS)):
        files = list((CORPUS / target).iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"{target:16} {len(files):4} seeds {size / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
