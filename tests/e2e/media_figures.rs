//! RTP figures on the real captures against tshark's `rtp,streams`: telephone-events and
//! comfort noise share the audio's sequence numbers and are never loss, stray packets on a
//! call's ports are counted apart and never mixed. tshark counts per stream (source and
//! destination address and port); each row of the table names the stream that carries one
//! leg of a call, and Ringside's leg must show the packets and loss tshark reports for it.

use std::path::Path;
use std::process::Command;

use ringside_e2e::process::stdout_of;

use crate::support::{captures_dir, replay_shared};

/// One stream of tshark's `rtp,streams`: its packets and lost packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stream {
    packets: u64,
    lost: i64,
}

/// tshark's figures for the stream `from -> to` (`address port`, as tshark prints them).
fn tshark_stream(file: &Path, from: &str, to: &str) -> Stream {
    let text =
        stdout_of(
            Command::new("tshark")
                .arg("-r")
                .arg(file)
                .args(["-q", "-z", "rtp,streams"]),
        );
    let rows: Vec<Stream> = text
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let endpoints = words.get(2..6)?.join(" ");
            if endpoints != format!("{from} {to}") {
                return None;
            }
            // "... <payloads> <packets> <lost> (<percent>) ...": the lost count comes just
            // before the first parenthesised percentage.
            let percent = words
                .iter()
                .position(|w| w.starts_with('(') && w.ends_with("%)"))?;
            Some(Stream {
                packets: words[percent - 2].parse().ok()?,
                lost: words[percent - 1].parse().ok()?,
            })
        })
        .collect();
    assert_eq!(rows.len(), 1, "tshark's stream {from} -> {to}:\n{text}");
    rows[0]
}

/// A leg's figure from the call's quality JSON.
fn figure(quality: &serde_json::Value, leg: &str, name: &str) -> u64 {
    quality[leg][name]
        .as_u64()
        .unwrap_or_else(|| panic!("{leg}.{name} in {quality}"))
}

/// (capture, stream as tshark names it, Ringside's leg, telephone-events, comfort noise)
const LEGS: &[(&str, &str, &str, &str, u64, u64)] = &[
    // Key presses (35 telephone-event packets) in the phone's audio stream.
    (
        "wireshark-wiki/SIP_DTMF2.cap",
        "192.168.105.172 4376",
        "192.168.105.110 4376",
        "phone",
        35,
        0,
    ),
    (
        "wireshark-wiki/SIP_DTMF2.cap",
        "192.168.105.110 4374",
        "192.168.105.172 4376",
        "remote",
        0,
        0,
    ),
];

#[test]
fn telephone_events_are_not_counted_as_loss_and_agree_with_tshark() {
    for &(capture, from, to, leg, events, comfort_noise) in LEGS {
        let replayed = replay_shared(capture);
        let answered: Vec<_> = replayed
            .calls
            .iter()
            .filter(|c| c.quality.is_some())
            .collect();
        assert_eq!(answered.len(), 1, "{capture}: {:#?}", replayed.calls);
        let quality = answered[0].quality.as_ref().expect("quality figures");
        let tshark = tshark_stream(&captures_dir().join(capture), from, to);
        let ours = Stream {
            packets: figure(quality, leg, "packets"),
            lost: i64::try_from(figure(quality, leg, "lost")).expect("a small count"),
        };
        assert_eq!(ours, tshark, "{capture} {from} -> {to} ({leg}): {quality}");
        assert_eq!(
            (
                figure(quality, leg, "events"),
                figure(quality, leg, "comfort_noise")
            ),
            (events, comfort_noise),
            "{capture} {leg}: {quality}"
        );
    }
}
