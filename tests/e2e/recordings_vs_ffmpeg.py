#!/usr/bin/env python3
"""Checks Ringside's recordings of the manifest's captures against an independent decoder.

For each capture: `ringside replay` into a fresh data directory. Then tshark lists every
G.711 RTP packet, and FFmpeg decodes each packet's payload (`-f mulaw` or `-f alaw`). Each
decoded packet must appear whole, sample for sample, in one channel of the call's WAV. A
stream's packets should all land in one channel: the remote party's on the left, the phone's
on the right. Packets of silence are not looked for, since they match anywhere.

    cargo build --release -p bridge-agent
    python3 tests/e2e/recordings_vs_ffmpeg.py [--ringside target/release/ringside] [FILTER]

Needs tshark and ffmpeg. Packets that legitimately do not show:
- packets after the call's BYE;
- streams from a source the SDP does not vouch for (stray), which are never mixed;
- with several calls in one capture, each WAV holds only its own call's streams.
"""

import argparse
import collections
import os
import struct
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.environ.get(
    "RINGSIDE_CAPTURES", os.path.join(HERE, "..", "..", "..", "shared", "captures")
)


def g711_packets(capture):
    """{(ssrc, payload type): [payload bytes, ...]} of the capture's G.711 RTP, per tshark."""
    listing = subprocess.run(
        ["tshark", "-n", "-r", capture, "-o", "rtp.heuristic_rtp:TRUE",
         "-Y", "rtp.p_type == 0 || rtp.p_type == 8",
         "-T", "fields", "-e", "rtp.ssrc", "-e", "rtp.p_type", "-e", "rtp.payload"],
        capture_output=True, text=True, check=False,
    ).stdout
    streams = collections.defaultdict(list)
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2]:
            streams[(parts[0], parts[1])].append(bytes.fromhex(parts[2].replace(":", "")))
    return streams


def decoded(payload, payload_type):
    """The payload as 16-bit little-endian PCM, decoded by FFmpeg."""
    law = "mulaw" if payload_type == "0" else "alaw"
    return subprocess.run(
        ["ffmpeg", "-v", "quiet", "-f", law, "-ar", "8000", "-ac", "1", "-i", "-",
         "-f", "s16le", "-"],
        input=payload, capture_output=True, check=True,
    ).stdout


def channels(path):
    """The WAV's left and right channels, each as 16-bit little-endian bytes."""
    with wave.open(path) as wav:
        frames = wav.getnframes()
        samples = struct.unpack("<%dh" % (2 * frames), wav.readframes(frames))
    return [struct.pack("<%dh" % frames, *samples[side::2]) for side in (0, 1)]


def found_in(channel, pcm):
    """Whether `pcm` lies in `channel` at a sample boundary."""
    at = channel.find(pcm)
    while at >= 0 and at % 2:
        at = channel.find(pcm, at + 1)
    return at >= 0


def check(capture, wav_path):
    sides = channels(wav_path)
    for (ssrc, payload_type), payloads in g711_packets(capture).items():
        looked_for, found = 0, [0, 0]
        for payload in payloads:
            pcm = decoded(payload, payload_type)
            if len(set(pcm)) <= 2:
                continue
            looked_for += 1
            for side in (0, 1):
                found[side] += found_in(sides[side], pcm)
        print(f"  {ssrc} PT{payload_type}: {len(payloads)} packets, {looked_for} not silent, "
              f"found whole: left {found[0]}, right {found[1]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ringside", default=os.path.join(HERE, "..", "..", "target",
                                                           "release", "ringside"))
    parser.add_argument("filter", nargs="?", default="")
    args = parser.parse_args()
    with open(os.path.join(CAPTURES, "MANIFEST.tsv"), encoding="utf-8") as manifest:
        names = [line.split("\t")[0] for line in manifest.read().splitlines()[1:] if line]
    for name in names:
        if args.filter not in name:
            continue
        with tempfile.TemporaryDirectory() as data_dir:
            subprocess.run([args.ringside, "replay", os.path.join(CAPTURES, name),
                            "--data-dir", data_dir], capture_output=True, check=False)
            recordings = sorted(
                os.path.join(root, f)
                for root, _, files in os.walk(os.path.join(data_dir, "recordings"))
                for f in files if f.endswith(".wav")
            )
            for wav_path in recordings:
                print(f"{name} {os.path.basename(wav_path)}")
                check(os.path.join(CAPTURES, name), wav_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
