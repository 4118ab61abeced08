//! SIP over TCP with messages cut across segments: the real capture that shows it, and
//! generated calls whose signalling goes over TCP in 2, 5 and 40 segments per message with
//! retransmitted and out-of-order segments. tshark, an independent reader, says what each
//! capture holds.

use ringside_core::call::CallDirection;
use ringside_core::call::Disposition;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ringside_core::sip::looks_like_sip;
use ringside_core::tcp_stream::TcpSegment;
use ringside_synth::{ethernet_frame, packets, tcp_frame, write_frames, SynthCall, SynthPacket};

use bridge_agent::store::Store;
use ringside_core::filters::{Action, Field};

use crate::support::{assert_tone, captures_dir, replay_file, replay_into, replay_shared};

const EPOCH: Duration = Duration::from_hours(498_369);

/// The INVITEs tshark reads in a capture (its TCP reassembly on, out-of-order segments
/// too): `(From user, Call-ID)`.
fn tshark_invites(file: &Path) -> Vec<(String, String)> {
    let output = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-o", "tcp.reassemble_out_of_order:TRUE"])
        .args(["-Y", "sip.Method == \"INVITE\"", "-T", "fields"])
        .args(["-e", "sip.from.user", "-e", "sip.Call-ID"])
        .output()
        .expect("tshark, the independent reference, is installed (apt-get install tshark)");
    assert!(
        output.status.success(),
        "tshark cannot read {}",
        file.display()
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let (user, call_id) = line.split_once('\t').expect("two fields");
            (user.to_owned(), call_id.to_owned())
        })
        .collect()
}

#[test]
fn sip_cut_across_tcp_segments_in_a_real_capture_is_logged_answered() {
    let path = "pkts/fragmented_tcp_sip.pcap";
    let invites = tshark_invites(&captures_dir().join(path));
    assert_eq!(invites.len(), 1, "tshark: {invites:?}");
    let replayed = replay_shared(path);
    let engine = replayed.summary.engine;
    assert_eq!(engine.sip_messages, 6, "INVITE, 180, 200, ACK, BYE, 200");
    assert_eq!(engine.sip_incomplete, 0);
    assert!(engine.tcp.reassembled >= 1, "{:?}", engine.tcp);
    assert_eq!(replayed.calls.len(), 1, "{:#?}", replayed.calls);
    let call = &replayed.calls[0];
    let (user, call_id) = &invites[0];
    assert_eq!(&call.call.call_id, call_id);
    assert_eq!(call.call.party.number.as_ref(), Some(user));
    assert_eq!(call.disposition, Some(Disposition::Answered));
}

/// How a message's segments are impaired.
#[derive(Clone, Copy)]
struct Cut {
    /// Segments per message.
    pieces: usize,
    /// Swap the second and third segment of each message.
    reorder: bool,
    /// Send each message's first segment again after its last.
    retransmit: bool,
}

/// The frames of `packets` with the SIP going over TCP, each message cut as `cut` says; RTP
/// stays UDP. Each pair of SIP addresses gets one connection, opened (SYN, SYN-ACK) by the
/// first to speak; sequence numbers start near the 32-bit wrap on one side.
fn over_tcp(packets: &[SynthPacket], cut: Cut) -> Vec<(Duration, Vec<u8>)> {
    let mut next_seq: HashMap<(SocketAddr, SocketAddr), u32> = HashMap::new();
    let mut frames = Vec::new();
    for packet in packets {
        if !looks_like_sip(&packet.payload) {
            frames.push(frame(packet, None, None));
            continue;
        }
        let (flow, back) = ((packet.src, packet.dst), (packet.dst, packet.src));
        if !next_seq.contains_key(&flow) {
            let (isn, peer_isn) = (u32::MAX - 700, 1_000_000);
            let empty = SynthPacket {
                payload: Vec::new(),
                ..packet.clone()
            };
            let reply = SynthPacket {
                src: packet.dst,
                dst: packet.src,
                ..empty.clone()
            };
            frames.push(frame(&empty, Some(syn(isn)), None));
            frames.push(frame(
                &reply,
                Some(syn(peer_isn)),
                Some(isn.wrapping_add(1)),
            ));
            next_seq.insert(flow, isn.wrapping_add(1));
            next_seq.insert(back, peer_isn.wrapping_add(1));
        }
        let ack = next_seq[&back];
        let seq = next_seq.get_mut(&flow).expect("the connection is open");
        let mut segments = Vec::new();
        for chunk in packet
            .payload
            .chunks(packet.payload.len().div_ceil(cut.pieces))
        {
            let piece = SynthPacket {
                payload: chunk.to_vec(),
                ..packet.clone()
            };
            let segment = TcpSegment {
                seq: *seq,
                ..TcpSegment::default()
            };
            segments.push(frame(&piece, Some(segment), Some(ack)));
            *seq = seq.wrapping_add(chunk.len() as u32);
        }
        if cut.reorder && segments.len() >= 3 {
            segments.swap(1, 2);
        }
        if cut.retransmit {
            segments.push(segments[0].clone());
        }
        frames.extend(segments);
    }
    frames
}

fn syn(seq: u32) -> TcpSegment {
    TcpSegment {
        seq,
        syn: true,
        ..TcpSegment::default()
    }
}

/// `packet` as a UDP frame, or as a TCP segment when `segment` is given.
fn frame(
    packet: &SynthPacket,
    segment: Option<TcpSegment>,
    ack: Option<u32>,
) -> (Duration, Vec<u8>) {
    let mut frame = Vec::new();
    match segment {
        Some(segment) => tcp_frame(packet, segment, ack, &mut frame),
        None => ethernet_frame(packet, &mut frame),
    }
    .expect("a frame");
    (packet.at, frame)
}

/// One answered inbound call whose SIP goes over TCP cut as `cut` says, as a capture in a
/// directory of its own.
fn capture_cut(call: &SynthCall, cut: Cut) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("tcp.pcap");
    let frames = over_tcp(&packets(std::slice::from_ref(call), 7), cut);
    write_frames(&capture, EPOCH, &frames).expect("write");
    (dir, capture)
}

/// Replays one answered inbound call whose SIP goes over TCP cut as `cut` says.
fn replay_cut(cut: Cut) {
    let call = SynthCall::inbound(1, "15550100042", Some("Split Invite"));
    let (_dir, capture) = capture_cut(&call, cut);
    let what = format!("{} segments", cut.pieces);
    assert_eq!(
        tshark_invites(&capture),
        [(call.number.clone(), call.call_id.clone())],
        "{what}: tshark reads the INVITE whole"
    );
    let replayed = replay_file(&capture);
    let engine = replayed.summary.engine;
    assert_eq!(engine.sip_incomplete, 0, "{what}");
    assert!(engine.tcp.reassembled >= 4, "{what}: {:?}", engine.tcp);
    assert_eq!(engine.tcp.bytes_repeated > 0, cut.retransmit, "{what}");
    let logged = replayed.by_number(&call.number);
    assert_eq!(
        logged.call.party.name.as_deref(),
        Some("Split Invite"),
        "{what}"
    );
    assert_eq!(logged.call.direction, CallDirection::Inbound, "{what}");
    assert_eq!(logged.disposition, Some(Disposition::Answered), "{what}");
    let (left, right) = replayed.recording(logged);
    assert_tone(&left, call.remote_tone, &[call.phone_tone], "remote side");
    assert_tone(&right, call.phone_tone, &[call.remote_tone], "phone side");
}

#[test]
fn an_invite_over_tcp_in_2_segments_retransmitted() {
    replay_cut(Cut {
        pieces: 2,
        reorder: false,
        retransmit: true,
    });
}

#[test]
fn an_invite_over_tcp_in_5_segments_out_of_order() {
    replay_cut(Cut {
        pieces: 5,
        reorder: true,
        retransmit: false,
    });
}

#[test]
fn an_invite_over_tcp_in_40_segments_out_of_order_and_retransmitted() {
    replay_cut(Cut {
        pieces: 40,
        reorder: true,
        retransmit: true,
    });
}

#[test]
fn a_caller_a_filter_blocks_over_tcp_still_rings_and_is_logged_as_it_went() {
    let call = SynthCall::inbound(1, "15550100042", Some("Unwanted"));
    let cut = Cut {
        pieces: 3,
        reorder: false,
        retransmit: false,
    };
    let (_capture_dir, capture) = capture_cut(&call, cut);
    let data = tempfile::tempdir().expect("tempdir");
    Store::open(data.path())
        .expect("store")
        .add_filter(
            "15550100042",
            Field::Number,
            Action::Block,
            None,
            "2026-01-01T00:00:00Z",
        )
        .expect("add");
    let replayed = replay_into(&capture, data);
    let logged = replayed.by_number(&call.number);
    assert_eq!(
        logged.disposition,
        Some(Disposition::Answered),
        "a TCP segment is never dropped: the phone rang and was answered"
    );
    assert_eq!(logged.blocked_by, None, "{logged:#?}");
    assert!(logged.recording.is_some(), "recorded as any other call");
}
