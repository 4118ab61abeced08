//! The generator's output is pinned: the e2e tests compare figures (packet counts, durations,
//! tones) from its captures, so reshaping its code must not change a byte of what it writes
//! for the same seed.

#![expect(
    clippy::expect_used,
    reason = "a helper outside #[test] fails the test with a message"
)]

use std::time::Duration;

use ringside_core::call::CallDirection;
use ringside_core::sdp::Codec;
use ringside_core::tcp_stream::TcpSegment;
use ringside_synth::{
    packets, tcp_frame, voicemail_notify, write_pcap, Endpoints, Hold, Impairments, Outcome,
    SynthCall, SynthPacket,
};
use sha2::{Digest, Sha256};

/// A few short calls with every option the generator has: a name, withheld caller-ID,
/// outbound, PCMA, busy, a caller who gives up, a hold, every impairment, IPv6 and SIP
/// on port 10000, plus a voicemail NOTIFY.
fn every_option() -> Vec<SynthPacket> {
    let talk = |ms: u64| Outcome::Answered {
        talk: Duration::from_millis(ms),
    };
    let mut named = SynthCall::inbound(1, "15550100001", Some("Mom"));
    named.codec = Codec::Pcma;
    named.outcome = talk(400);
    named.hold = Some(Hold {
        after: Duration::from_millis(100),
        length: Duration::from_millis(200),
    });
    named.impairments = Impairments {
        loss: 0.1,
        reorder: 0.1,
        duplicate: 0.1,
    };
    let mut anonymous = SynthCall::inbound(2, "15550100002", None);
    anonymous.anonymous = true;
    anonymous.outcome = Outcome::CallerHangsUp;
    anonymous.start = Duration::from_secs(1);
    let mut outbound = SynthCall::inbound(3, "15550100003", None);
    outbound.direction = CallDirection::Outbound;
    outbound.outcome = Outcome::Busy;
    outbound.start = Duration::from_secs(2);
    let mut v6 = SynthCall::inbound(4, "15550100004", Some("Six"));
    v6.endpoints = Endpoints::between(
        "2001:db8::5".parse().expect("IPv6"),
        "2001:db8::20".parse().expect("IPv6"),
        4,
        10_000,
    );
    v6.outcome = talk(100);
    v6.start = Duration::from_secs(3);
    let mut out = packets(&[named, anonymous, outbound, v6], 42);
    out.push(voicemail_notify(
        Duration::from_secs(5),
        Endpoints::standard(0, 5060),
        7,
        2,
        1,
    ));
    out
}

/// The generator's output is pinned: the e2e tests compare figures (packet counts,
/// durations, tones) from its captures, so moving or reshaping its code must not change
/// a byte of what it writes for the same seed.
#[test]
fn a_generated_capture_stays_byte_identical_for_the_same_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("every-option.pcap");
    let packets = every_option();
    write_pcap(&path, Duration::from_secs(1_790_000_000), &packets).expect("pcap");
    let mut hasher = Sha256::new();
    hasher.update(std::fs::read(&path).expect("read back"));
    let mut frame = Vec::new();
    let segment = TcpSegment {
        seq: 4_000_000_000,
        syn: false,
        fin: true,
        rst: false,
    };
    tcp_frame(&packets[1], segment, Some(77), &mut frame).expect("a TCP frame");
    hasher.update(&frame);
    let digest = format!("{:x}", hasher.finalize());
    // Changed on purpose: the IPv6 call's SDP says `IN IP6` (it said `IN IP4`); every IPv4
    // packet stayed the same. Then the requests the phone sends on its outbound call (its
    // INVITE and ACK) go to the callee's address of record, `sip:15550100003@provider.example`
    // (they named the phone's own address); no other packet changed.
    assert_eq!(
        (packets.len(), digest.as_str()),
        (
            83,
            "304dca27740616b5c1fdd4694653227bcca16bdbf056f68706c6bf06d25d076b"
        )
    );
}
