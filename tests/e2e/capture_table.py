#!/usr/bin/env python3
"""Prints, per capture of the manifest, tshark's figures beside Ringside's, to check and
regenerate the table in tests/e2e/capture_table.rs.

For each capture: tshark's INVITE dialogs (Call-ID, From and To users, final responses,
BYE/CANCEL seen) and RTP streams (packets, lost), then Ringside's calls (disposition, caller,
per leg packets/lost) and the row Ringside's figures make, in the table's format. tshark has
no notion of direction or disposition: judge those from the SIP it lists.

    cargo build --release -p bridge-agent
    python3 tests/e2e/capture_table.py [--ringside target/release/ringside] [FILTER]

Needs tshark. Text traces (.dat, .data, .txt, .sip) are SIP without packets: tshark has
nothing to say of them, so only Ringside's side is printed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.environ.get(
    "RINGSIDE_CAPTURES", os.path.join(HERE, "..", "..", "..", "shared", "captures")
)


def run(command):
    done = subprocess.run(command, capture_output=True, text=True, errors="replace")
    return done.stdout


def tshark_dialogs(path):
    """Call-ID -> what tshark read of its INVITE transaction and the dialog's end."""
    fields = ["sip.Call-ID", "sip.Method", "sip.Status-Code", "sip.CSeq.method",
              "sip.from.user", "sip.to.user"]
    out = run(["tshark", "-r", path, "-Y", "sip", "-T", "fields", "-E", "separator=|",
               *sum([["-e", f] for f in fields], [])])
    dialogs = {}
    for line in out.splitlines():
        parts = (line.split("|") + [""] * 6)[:6]
        call_id, method, status, cseq_method, from_user, to_user = parts
        if method == "INVITE" and call_id not in dialogs:
            dialogs[call_id] = {"from": from_user, "to": to_user, "finals": [], "ends": []}
        dialog = dialogs.get(call_id)
        if dialog is None:
            continue
        if status and cseq_method == "INVITE" and int(status.split(",")[0]) >= 200:
            dialog["finals"].append(status)
        if method in ("BYE", "CANCEL") and method not in dialog["ends"]:
            dialog["ends"].append(method)
    return dialogs


def tshark_streams(path):
    """RTP streams as tshark's rtp,streams lists them (SDP-announced ones)."""
    out = run(["tshark", "-q", "-r", path, "-z", "rtp,streams"])
    streams = []
    for line in out.splitlines():
        words = line.split()
        if len(words) < 12 or not words[0][0].isdigit() or "." not in words[0]:
            continue
        try:
            lost_at = next(i for i, w in enumerate(words) if w.startswith("(") and w.endswith("%)"))
        except StopIteration:
            continue
        streams.append(f"{words[2]}:{words[3]}->{words[4]}:{words[5]} "
                       f"{words[lost_at - 2]}/{words[lost_at - 1]}")
    return streams


def ringside_calls(ringside, path):
    with tempfile.TemporaryDirectory() as data:
        run([ringside, "replay", path, "--data-dir", data])
        out = run([ringside, "calls", "--data-dir", data, "--json"])
    return json.loads(out or "[]")


def caller(call):
    if call["number"]:
        return call["number"]
    return "withheld" if call["presentation"] == "withheld" else "unknown"


def legs(call):
    quality = call.get("quality") or {}
    figures = [quality.get(side) for side in ("remote", "phone")]
    if not any(f and f["packets"] for f in figures):
        return ""
    return " rtp " + " ".join(f"{f['packets']}/{f['lost']}" if f else "0/0" for f in figures)


def row(call):
    return f"{call['disposition']} {caller(call)}{legs(call)}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ringside", default=os.path.join(HERE, "..", "..", "target",
                                                           "release", "ringside"))
    parser.add_argument("filter", nargs="?", default="")
    args = parser.parse_args()
    with open(os.path.join(CAPTURES, "MANIFEST.tsv")) as manifest:
        paths = [line.split("\t")[0] for line in manifest.read().splitlines()[1:]]
    for relative in paths:
        if args.filter not in relative:
            continue
        path = os.path.join(CAPTURES, relative)
        print(f"== {relative}")
        if not relative.endswith((".dat", ".data", ".txt", ".sip")):
            for call_id, d in tshark_dialogs(path).items():
                print(f"  tshark  INVITE {call_id}: from {d['from'] or '-'} to {d['to'] or '-'}"
                      f" finals {','.join(d['finals']) or '-'} ends {','.join(d['ends']) or '-'}")
            for stream in tshark_streams(path):
                print(f"  tshark  rtp {stream}")
        calls = sorted(ringside_calls(args.ringside, path), key=lambda c: c["started_at"])
        for call in calls:
            print(f"  ringside {call['call_id']}: {call['direction']} {row(call)}")
        rows = ", ".join(json.dumps(row(c)) for c in calls)
        print(f'  row: row("{relative}", &[{rows}]),')
    return 0


if __name__ == "__main__":
    sys.exit(main())
