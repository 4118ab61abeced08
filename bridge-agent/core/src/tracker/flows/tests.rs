//! Which packets join a call: sources the SDP vouches for, offered payload types, stray
//! packets counted apart, and media moved by a re-INVITE.

use super::*;
use crate::call::{CallSummary, Disposition};
use crate::sip::{parse_datagram, Message};
use crate::tracker::TrackerConfig;

const PROVIDER: &str = "203.0.113.5:5060";
const PHONE: &str = "192.168.1.20:5060";
/// Where the provider's SDP puts its media, and the phone's.
const PROVIDER_MEDIA: &str = "203.0.113.9:4000";
const PHONE_MEDIA: &str = "192.168.1.20:7000";

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("address")
}

/// A message of the call `c1` with an SDP body putting `media` at `at`, offering `formats`.
fn with_sdp(start: &str, cseq: &str, to_tag: bool, at: &str, formats: &str) -> Message {
    let at = addr(at);
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {formats}\r\na=rtpmap:101 telephone-event/8000\r\n",
        ip = at.ip(),
        port = at.port()
    );
    let tag = if to_tag { ";tag=b" } else { "" };
    let text = format!(
        "{start}\r\nVia: SIP/2.0/UDP {PROVIDER};branch=z9hG4bK1\r\n\
         From: <sip:15550100001@p>;tag=a\r\nTo: <sip:100@p>{tag}\r\nCall-ID: c1\r\n\
         CSeq: {cseq}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    parse_datagram(text.as_bytes())
        .expect("valid")
        .expect("message")
}

/// A tracker holding one answered inbound call: the provider's media at [`PROVIDER_MEDIA`],
/// the phone's at [`PHONE_MEDIA`], both offering PCMU and telephone-event.
fn answered_call() -> Tracker {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let invite = with_sdp(
        "INVITE sip:100@p SIP/2.0",
        "1 INVITE",
        false,
        PROVIDER_MEDIA,
        "0 101",
    );
    let ok = with_sdp("SIP/2.0 200 OK", "1 INVITE", true, PHONE_MEDIA, "0 101");
    let (provider, phone) = (addr(PROVIDER), addr(PHONE));
    tracker.handle_sip(Timestamp(0), &invite, provider, phone, Some(false));
    tracker.handle_sip(Timestamp(1000), &ok, phone, provider, Some(true));
    tracker
}

fn rtp(pt: u8, seq: u16, ssrc: u32) -> Vec<u8> {
    let mut packet = vec![0x80, pt];
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    packet.extend_from_slice(&ssrc.to_be_bytes());
    packet.extend_from_slice(&[0xff; 160]);
    packet
}

/// Sends packets `seqs` of SSRC 7 from `src` to `dst`, 20 ms apart (by sequence number).
fn send(
    tracker: &mut Tracker,
    src: &str,
    dst: &str,
    pt: u8,
    seqs: std::ops::Range<u16>,
) -> Vec<RtpOutcome> {
    send_as(tracker, (src, dst, 7), 2_000_000, pt, seqs)
}

/// Sends packets `seqs` along `(from, to, ssrc)`, 20 ms apart from `start` (µs).
fn send_as(
    tracker: &mut Tracker,
    (from, to, ssrc): (&str, &str, u32),
    start: u64,
    pt: u8,
    seqs: std::ops::Range<u16>,
) -> Vec<RtpOutcome> {
    let first = seqs.start;
    seqs.map(|seq| {
        let at = Timestamp(start + u64::from(seq - first) * 20_000);
        tracker.handle_rtp(at, addr(from), addr(to), &rtp(pt, seq, ssrc), false)
    })
    .collect()
}

fn summary(tracker: &mut Tracker) -> CallSummary {
    tracker.finish(Timestamp(60_000_000));
    std::iter::from_fn(|| tracker.poll_event())
        .find_map(|event| match event {
            Event::CallEnded {
                summary,
                disposition,
                ..
            } => {
                assert_eq!(disposition, Disposition::Answered);
                Some(summary)
            }
            _ => None,
        })
        .expect("the call ended")
}

#[test]
fn a_second_source_on_the_phones_port_is_stray_not_loss() {
    let mut tracker = answered_call();
    let (phone_port, fax_port) = (PHONE_MEDIA, "203.0.113.9:4002");
    assert!(send(&mut tracker, PROVIDER_MEDIA, phone_port, 0, 100..150)
        .iter()
        .all(|o| *o == RtpOutcome::Taken));
    // A fax adapter's T.38 port sends a few PCMU packets, another SSRC, far-off numbers.
    let stray = send_as(
        &mut tracker,
        (fax_port, phone_port, 99),
        3_000_000,
        0,
        40_000..40_005,
    );
    assert!(stray.iter().all(|o| *o == RtpOutcome::Stray), "{stray:?}");
    send(&mut tracker, PROVIDER_MEDIA, phone_port, 0, 150..200);
    let summary = summary(&mut tracker);
    let remote = summary.quality[Channel::Remote as usize];
    assert_eq!(
        (remote.packets, remote.lost, remote.ssrc_changes),
        (100, 0, 0)
    );
    assert_eq!(
        summary.quality[Channel::Phone as usize].packets,
        0,
        "no side swapped"
    );
    assert_eq!(summary.stray_packets, 5);
}

#[test]
fn the_first_source_to_an_address_is_latched_when_the_sdp_named_another() {
    let mut tracker = answered_call();
    // The provider's media server sends from elsewhere than its SDP said (asymmetric RTP).
    let relay = "203.0.113.77:5500";
    assert!(send(&mut tracker, relay, PHONE_MEDIA, 0, 1..20)
        .iter()
        .all(|o| *o == RtpOutcome::Taken));
    // Its SDP address still vouches for itself; a third source does not.
    assert_eq!(
        send(&mut tracker, PROVIDER_MEDIA, PHONE_MEDIA, 0, 20..21),
        [RtpOutcome::Taken]
    );
    assert_eq!(
        send(&mut tracker, "198.51.100.1:9", PHONE_MEDIA, 0, 21..22),
        [RtpOutcome::Stray]
    );
    let summary = summary(&mut tracker);
    assert_eq!(summary.quality[Channel::Remote as usize].packets, 20);
    assert_eq!(summary.stray_packets, 1);
}

#[test]
fn a_payload_type_no_sdp_offered_is_stray() {
    let mut tracker = answered_call();
    send(&mut tracker, PHONE_MEDIA, PROVIDER_MEDIA, 0, 1..10);
    assert_eq!(
        send(&mut tracker, PHONE_MEDIA, PROVIDER_MEDIA, 8, 10..13),
        vec![RtpOutcome::Stray; 3]
    );
    // telephone-event (101) was offered: taken, and not loss.
    assert_eq!(
        send(&mut tracker, PHONE_MEDIA, PROVIDER_MEDIA, 101, 13..15),
        vec![RtpOutcome::Taken; 2]
    );
    send(&mut tracker, PHONE_MEDIA, PROVIDER_MEDIA, 0, 15..20);
    let summary = summary(&mut tracker);
    let phone = summary.quality[Channel::Phone as usize];
    assert_eq!(
        (phone.packets, phone.events, summary.stray_packets),
        (16, 2, 3)
    );
    // The three stray packets share the stream's sequence: they fill their place, no loss.
    assert_eq!(phone.lost, 0);
}

#[test]
fn a_re_invite_moves_the_flow_and_loss_is_not_counted_across_the_move() {
    let mut tracker = answered_call();
    send(&mut tracker, PROVIDER_MEDIA, PHONE_MEDIA, 0, 1..50);
    let moved = "203.0.113.10:6000";
    let reinvite = with_sdp("INVITE sip:100@p SIP/2.0", "2 INVITE", true, moved, "0 101");
    tracker.handle_sip(
        Timestamp(3_000_000),
        &reinvite,
        addr(PROVIDER),
        addr(PHONE),
        Some(false),
    );
    // Packets still in flight from the old address are the call's until the new one speaks.
    assert_eq!(
        send(&mut tracker, PROVIDER_MEDIA, PHONE_MEDIA, 0, 50..52),
        vec![RtpOutcome::Taken; 2]
    );
    // The new address starts a new sequence space, far from the old one.
    let new_space = send_as(
        &mut tracker,
        (moved, PHONE_MEDIA, 7),
        3_100_000,
        0,
        30_000..30_050,
    );
    assert!(
        new_space.iter().all(|o| *o == RtpOutcome::Taken),
        "{new_space:?}"
    );
    // The old address is no longer the call's: the phone's address latched the new source,
    // and a late packet from the old one is stray.
    assert_eq!(
        send(&mut tracker, PROVIDER_MEDIA, PHONE_MEDIA, 0, 52..53),
        [RtpOutcome::Stray]
    );
    let summary = summary(&mut tracker);
    let remote = summary.quality[Channel::Remote as usize];
    assert_eq!((remote.packets, remote.lost), (101, 0), "{remote:?}");
    assert_eq!(summary.stray_packets, 1);
}
