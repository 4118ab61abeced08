//! RTP figures on the real captures against tshark's `rtp,streams`: telephone-events and
//! comfort noise share the audio's sequence numbers and are never loss, stray packets on a
//! call's ports are counted apart and never mixed, a re-INVITE's new address carries the leg
//! on. tshark counts per stream (source and destination address and port); each row of the
//! table names the streams that carry each leg of a call, and Ringside's legs must show the
//! packets and loss tshark reports for them.
//!
//! Where Ringside differs from tshark on purpose: packets after the call ended (a BYE) are not
//! counted (the `MagicJack` capture's phone sends 4 more), and the fax source in `LtoZ` is
//! stray, not a stream.

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

/// The only call of a replay that had RTP: its quality figures.
fn quality_of(capture: &str) -> serde_json::Value {
    let replayed = replay_shared(capture);
    let with_rtp: Vec<_> = replayed
        .calls
        .iter()
        .filter_map(|c| c.quality.clone())
        .collect();
    assert_eq!(with_rtp.len(), 1, "{capture}: {:#?}", replayed.calls);
    with_rtp[0].clone()
}

/// A capture whose call's two legs tshark sees as streams (a leg may be several streams:
/// tshark starts a new one when the destination moves, Ringside keeps the leg).
struct Expected {
    capture: &'static str,
    /// Each leg's streams, `(source, destination)` as tshark prints them.
    legs: [&'static [(&'static str, &'static str)]; 2],
    /// Telephone-event packets, comfort-noise packets and stray packets on the call.
    events: u64,
    comfort_noise: u64,
    stray: u64,
}

const EXPECTED: &[Expected] = &[
    // Key presses: 35 telephone-event packets amid the phone's PCMA, same SSRC and sequence.
    Expected {
        capture: "wireshark-wiki/SIP_DTMF2.cap",
        legs: [
            &[("192.168.105.172 4376", "192.168.105.110 4376")],
            &[("192.168.105.110 4374", "192.168.105.172 4376")],
        ],
        events: 35,
        comfort_noise: 0,
        stray: 0,
    },
    // A re-INVITE to T.38: the fax port (16394) sends to the phone's audio port; its 50
    // packets are stray, not a second SSRC with 2,000 packets lost.
    Expected {
        capture: "wireshark-wiki/LtoZ_rtpFilter_fail_2.pcap",
        legs: [
            &[("10.10.10.211 16422", "10.10.10.158 16392")],
            &[("10.10.10.158 16392", "10.10.10.211 16422")],
        ],
        events: 0,
        comfort_noise: 0,
        stray: 50,
    },
    // A re-INVITE moves the far end from 192.168.10.40:49848 to 192.168.10.2:18874: the
    // phone's stream follows it (its loss is that of the first stream, none across the move).
    Expected {
        capture: "wireshark-wiki/Asterisk_ZFONE_XLITE.pcap",
        legs: [
            &[
                ("192.168.10.41 64508", "192.168.10.40 49848"),
                ("192.168.10.41 64508", "192.168.10.2 18874"),
            ],
            &[("192.168.10.40 49848", "192.168.10.41 64508")],
        ],
        events: 0,
        comfort_noise: 0,
        stray: 0,
    },
];

#[test]
fn telephone_events_stray_rtp_and_moves_agree_with_tshark() {
    for expected in EXPECTED {
        let capture = expected.capture;
        let quality = quality_of(capture);
        let file = captures_dir().join(capture);
        let mut theirs: Vec<Stream> = expected
            .legs
            .iter()
            .map(|streams| {
                let each = streams
                    .iter()
                    .map(|(from, to)| tshark_stream(&file, from, to));
                each.fold(
                    Stream {
                        packets: 0,
                        lost: 0,
                    },
                    |sum, s| Stream {
                        packets: sum.packets + s.packets,
                        lost: sum.lost + s.lost,
                    },
                )
            })
            .collect();
        // Which leg is the phone's is another module's question: compare the pair.
        let mut ours: Vec<Stream> = ["remote", "phone"]
            .iter()
            .map(|leg| Stream {
                packets: figure(&quality, leg, "packets"),
                lost: i64::try_from(figure(&quality, leg, "lost")).expect("a small count"),
            })
            .collect();
        theirs.sort_by_key(|s| (s.packets, s.lost));
        ours.sort_by_key(|s| (s.packets, s.lost));
        assert_eq!(ours, theirs, "{capture}: {quality}");
        let both = |name| figure(&quality, "remote", name) + figure(&quality, "phone", name);
        assert_eq!(
            (
                both("events"),
                both("comfort_noise"),
                quality["stray_packets"].as_u64()
            ),
            (
                expected.events,
                expected.comfort_noise,
                Some(expected.stray)
            ),
            "{capture}: {quality}"
        );
    }
}

/// Regression: a fax gateway's call (the same Call-ID through several hops, a declined
/// T.38 re-INVITE, telephone-events and comfort noise) showed 4,001 SSRC changes on one leg.
/// tshark reads only part of its RTP (it decodes the UDP of only some of the SDPs it sees),
/// so its figures are no reference here: the call must show what a clean line shows.
#[test]
fn a_fax_gateway_call_shows_no_ssrc_churn_nor_phantom_loss() {
    let quality = quality_of("wireshark-wiki/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap");
    for leg in ["remote", "phone"] {
        assert!(figure(&quality, leg, "packets") > 2000, "{leg}: {quality}");
        assert_eq!(figure(&quality, leg, "ssrc_changes"), 0, "{leg}: {quality}");
        assert!(figure(&quality, leg, "lost") <= 6, "{leg}: {quality}");
    }
}

/// Regression: a clean call whose SDP offers telephone-event and CN (none sent) keeps its
/// zero loss, as tshark says.
#[test]
fn a_clean_call_offering_events_and_comfort_noise_shows_no_loss() {
    let quality = quality_of("wireshark-wiki/MagicJack-_short_call.pcap");
    for leg in ["remote", "phone"] {
        assert_eq!(figure(&quality, leg, "lost"), 0, "{leg}: {quality}");
        assert!(figure(&quality, leg, "packets") > 600, "{leg}: {quality}");
    }
}
