//! SIP framing on real traces and the RFC 4475 torture messages: octets after a message are
//! not a second request, a Content-Length that is not a number gives way to the datagram,
//! and a text trace gives the same calls as a UDP replay of the same messages.

use std::net::SocketAddr;
use std::time::Duration;

use ringside_core::call::Disposition;
use ringside_core::sip::{read_datagram, BodyFraming};
use ringside_synth::{write_pcap, SynthPacket};

use crate::support::{captures_dir, replay_file, replay_shared, Replayed};

/// The addresses a text trace's replay gives its messages (`bridge_agent::replay`).
const PROVIDER: ([u8; 4], u16) = ([192, 0, 2, 1], 5060);
const PHONE: ([u8; 4], u16) = ([192, 0, 2, 2], 5060);

/// Replays `datagrams` as UDP from the provider to the phone, all at one instant as a text
/// trace's messages are.
fn replay_datagrams(datagrams: &[&[u8]]) -> Replayed {
    let packets: Vec<SynthPacket> = datagrams
        .iter()
        .map(|payload| SynthPacket {
            at: Duration::ZERO,
            src: SocketAddr::from(PROVIDER),
            dst: SocketAddr::from(PHONE),
            payload: payload.to_vec(),
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("datagrams.pcap");
    write_pcap(&pcap, Duration::from_secs(1_700_000_000), &packets).expect("pcap");
    replay_file(&pcap)
}

/// What two replays must agree on, call by call.
fn calls(replayed: &Replayed) -> Vec<String> {
    let mut calls: Vec<String> = replayed
        .calls
        .iter()
        .map(|c| {
            format!(
                "{} {:?} {:?} {:?} {:?}",
                c.call.call_id,
                c.call.direction,
                c.call.party.number,
                c.call.party.name,
                c.disposition
            )
        })
        .collect();
    calls.sort();
    calls
}

fn torture(name: &str) -> Vec<u8> {
    std::fs::read(
        captures_dir()
            .join("resiprocate")
            .join(format!("{name}.dat")),
    )
    .expect("file")
}

/// Regression: `dblreq.dat` replayed as a text trace logged a call from the INVITE that
/// RFC 4475 §3.1.1.8 puts after a `Content-Length: 0` REGISTER in the same UDP datagram.
#[test]
fn dblreq_trailing_invite_is_not_a_second_request() {
    let path = captures_dir().join("resiprocate/dblreq.dat");
    let as_text = replay_file(&path);
    let as_udp = replay_datagrams(&[&torture("dblreq")]);
    for (what, replayed) in [("text", &as_text), ("UDP", &as_udp)] {
        let stats = replayed.summary.engine;
        assert!(replayed.calls.is_empty(), "{what}: {:#?}", replayed.calls);
        assert_eq!(
            (
                stats.sip_messages,
                stats.sip_trailing_octets,
                stats.sip_malformed
            ),
            (1, 1, 0),
            "{what}: the REGISTER, its trailing octets counted"
        );
    }
}

/// Regression: an INVITE and its 200 whose Content-Length is not a number (`bad`, `xyz`)
/// were refused as malformed over UDP, so the call vanished (and a filter could not block
/// a caller the phone itself may well accept).
#[test]
fn a_content_length_that_is_not_a_number_over_udp_is_read_to_the_datagram_end() {
    let replayed = replay_shared("zeek/invalid-content-length.pcap");
    let stats = replayed.summary.engine;
    assert_eq!(
        (stats.sip_bad_length, stats.sip_malformed),
        (2, 0),
        "{stats:?}"
    );
    assert_eq!(replayed.calls.len(), 1, "{:#?}", replayed.calls);
    let call = &replayed.calls[0];
    assert_eq!(call.call.party.number.as_deref(), Some("alice"));
    assert_eq!(call.disposition, Some(Disposition::Answered));
}

#[test]
fn torture_messages_say_how_their_body_was_bounded() {
    let framing = |name: &str| {
        read_datagram(&torture(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .map(|(_, framing)| framing)
    };
    assert_eq!(framing("clerr"), Some(BodyFraming::Overstated));
    assert_eq!(framing("inv2543"), Some(BodyFraming::Unstated));
    assert!(matches!(
        framing("dblreq"),
        Some(BodyFraming::Trailing(450))
    ));
    assert_eq!(framing("wsinv"), Some(BodyFraming::Exact));
    // Two Content-Lengths that disagree: refused, over UDP as over TCP.
    assert!(read_datagram(&torture("mcl01")).is_err());
}

/// Every torture message is one UDP datagram: replayed as a text trace and as that datagram
/// it gives the same calls.
#[test]
fn each_torture_message_gives_the_same_calls_as_text_and_as_a_datagram() {
    let dir = captures_dir().join("resiprocate");
    let mut compared = 0;
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let path = entry.expect("entry").path();
        let as_text = replay_file(&path);
        let as_udp = replay_datagrams(&[&std::fs::read(&path).expect("read")]);
        assert_eq!(calls(&as_text), calls(&as_udp), "{}", path.display());
        compared += 1;
    }
    assert!(compared > 40, "{compared} torture messages");
}

/// The Vonage trace holds a message after another; sent as one UDP datagram each (split at
/// their start lines, which no body in it contains), they give the calls the trace gives.
#[test]
fn the_vonage_trace_gives_the_same_calls_as_its_datagrams() {
    let path = captures_dir().join("ncid/test-sip-gw.data");
    let text = std::fs::read(&path).expect("trace");
    let datagrams = split_at_start_lines(&text);
    assert!(datagrams.len() > 10, "{} datagrams", datagrams.len());
    let as_text = replay_file(&path);
    let as_udp = replay_datagrams(&datagrams);
    assert!(!as_text.calls.is_empty());
    assert_eq!(calls(&as_text), calls(&as_udp));
    assert_eq!(
        as_text.summary.engine.sip_messages,
        as_udp.summary.engine.sip_messages
    );
}

/// Splits text before each line that is a SIP start line.
fn split_at_start_lines(text: &[u8]) -> Vec<&[u8]> {
    let is_start = |line: &[u8]| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line.starts_with(b"SIP/2.0 ") || line.ends_with(b" SIP/2.0")
    };
    let mut starts = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        if is_start(bare) {
            starts.push(at);
        }
        at += line.len();
    }
    starts.push(text.len());
    starts.windows(2).map(|w| &text[w[0]..w[1]]).collect()
}

#[test]
fn the_trace_reader_is_the_one_under_test() {
    // The replay must treat these files as text traces, not captures.
    for name in ["resiprocate/dblreq.dat", "ncid/test-sip-gw.data"] {
        let start = std::fs::read(captures_dir().join(name)).expect("file");
        assert_eq!(
            bridge_agent::capture::file_kind(&start[..start.len().min(2048)]),
            bridge_agent::capture::FileKind::SipText,
            "{name}"
        );
    }
}
