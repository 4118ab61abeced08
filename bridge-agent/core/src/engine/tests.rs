//! The engine's tests: frames in, verdicts, events and settled calls out.

use super::*;
use proptest::prelude::*;

const PROVIDER: [u8; 4] = [10, 0, 0, 1];
const PHONE: [u8; 4] = [10, 0, 0, 2];

fn udp(src: [u8; 4], src_port: u16, dst: [u8; 4], dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    etherparse::PacketBuilder::ipv4(src, dst, 64)
        .udp(src_port, dst_port)
        .write(&mut frame, payload)
        .expect("a packet");
    frame
}

/// An INVITE from the provider whose SDP puts its media at 10.0.0.1:4000.
fn invite(call_id: &str) -> Vec<u8> {
    invite_with(call_id, "")
}

/// The same with more header lines (each ending in CRLF).
fn invite_with(call_id: &str, more: &str) -> Vec<u8> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let text = format!(
        "INVITE sip:phone@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n\
         From: \"Caller\" <sip:15550100001@10.0.0.1>;tag=a\r\nTo: <sip:phone@10.0.0.2>\r\n\
         i: {call_id}\r\n{more}CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    udp(PROVIDER, 5060, PHONE, 5060, text.as_bytes())
}

/// Regression: a caller a filter blocked over TCP was logged as blocked and answered
/// with a 486 over UDP, though its INVITE went on to the phone in the stream.
#[test]
fn a_caller_a_filter_blocks_over_tcp_is_not_turned_away_in_vain() {
    use crate::filters::{Action, Field, Filter, FilterList};
    let mut engine = Engine::new(EngineConfig::default());
    let block = Filter {
        id: 1,
        pattern: "1555*".to_owned(),
        field: Field::Number,
        action: Action::Block,
    };
    engine.set_policy(Policy {
        filters: FilterList::new(vec![block]).expect("a valid filter"),
        block_response: BlockResponse::Busy,
        ..Policy::default()
    });
    let sip = &invite("tcp@x")[20 + 8..];
    let mut frame = Vec::new();
    etherparse::PacketBuilder::ipv4(PROVIDER, PHONE, 64)
        .tcp(5060, 5060, 7, 1000)
        .write(&mut frame, sip)
        .expect("a packet");
    let verdict = engine.handle_frame(Timestamp(0), LinkType::RawIp, &frame, None);
    assert_eq!(verdict, Verdict::Accept);
    assert!(
        engine.poll_transmit().is_none(),
        "no 486 on the phone's behalf"
    );
    match engine.poll_event() {
        Some(Event::CallStarted(info)) => assert!(info.blocked_by.is_none(), "{info:?}"),
        other => panic!("the call starts as any other: {other:?}"),
    }
    assert!(ended(&mut engine).is_empty(), "it rings on");
}

fn ended(engine: &mut Engine) -> Vec<CallKey> {
    std::iter::from_fn(|| engine.poll_event())
        .filter_map(|e| match e {
            Event::CallEnded { call, .. } => Some(call),
            _ => None,
        })
        .collect()
}

#[test]
fn settle_frame_ends_the_call_of_a_sip_message_by_its_call_id() {
    let mut engine = Engine::new(EngineConfig::default());
    engine.handle_frame(Timestamp(0), LinkType::RawIp, &invite("other"), None);
    engine.handle_frame(Timestamp(1), LinkType::RawIp, &invite("bad@x"), None);
    assert!(ended(&mut engine).is_empty());
    let settled = engine.settle_frame(Timestamp(2), LinkType::RawIp, &invite("bad@x"));
    assert_eq!(settled, Some(CallKey(1)));
    assert_eq!(ended(&mut engine), vec![CallKey(1)], "only that call ends");
    assert_eq!(engine.calls_in_table(), 2);
}

#[test]
fn settle_frame_ends_the_call_of_an_rtp_packet_by_its_flow() {
    let mut engine = Engine::new(EngineConfig::default());
    engine.handle_frame(Timestamp(0), LinkType::RawIp, &invite("media@x"), None);
    let rtp = udp(
        PHONE,
        7000,
        PROVIDER,
        4000,
        &[0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],
    );
    assert_eq!(
        engine.settle_frame(Timestamp(1), LinkType::RawIp, &rtp),
        Some(CallKey(0))
    );
    assert_eq!(ended(&mut engine), vec![CallKey(0)]);
    let stray = udp(PHONE, 7000, PROVIDER, 4002, &[0x80; 12]);
    assert_eq!(
        engine.settle_frame(Timestamp(2), LinkType::RawIp, &stray),
        None
    );
    assert_eq!(
        engine.settle_frame(Timestamp(2), LinkType::RawIp, b"\x45junk"),
        None
    );
}

/// The phone's 200 OK to [`invite`], its media at 10.0.0.2:7000.
fn ok(call_id: &str) -> Vec<u8> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n";
    let text = format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n\
         From: \"Caller\" <sip:15550100001@10.0.0.1>;tag=a\r\nTo: <sip:phone@10.0.0.2>;tag=b\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    udp(PHONE, 5060, PROVIDER, 5060, text.as_bytes())
}

/// 20 ms of the phone's PCMU toward the provider.
fn phone_rtp(sequence: u8) -> Vec<u8> {
    let mut rtp = vec![0x80, 0, 0, sequence, 0, 0, 0, sequence, 0, 0, 0, 9];
    rtp.extend([0xff; 160]);
    udp(PHONE, 7000, PROVIDER, 4000, &rtp)
}

fn secs(s: u64) -> Timestamp {
    Timestamp(s * 1_000_000)
}

#[test]
fn a_beeped_packet_comes_back_in_its_verdict() {
    let mut engine = Engine::new(EngineConfig::default());
    engine.set_policy(Policy {
        courtesy_beeps: true,
        ..Policy::default()
    });
    engine.handle_frame(secs(0), LinkType::RawIp, &invite("beep@x"), None);
    engine.handle_frame(secs(1), LinkType::RawIp, &ok("beep@x"), None);
    let quiet = phone_rtp(1);
    let verdict = engine.handle_frame(secs(2), LinkType::RawIp, &quiet, None);
    assert_eq!(verdict, Verdict::Accept, "no beep one second in");
    let frame = phone_rtp(2);
    let Verdict::Replace(beeped) = engine.handle_frame(secs(3), LinkType::RawIp, &frame, None)
    else {
        panic!("the first beep is due two seconds after the answer");
    };
    assert_eq!(beeped.len(), frame.len());
    assert_eq!(&beeped[26..28], &[0, 0], "UDP checksum cleared");
    assert_eq!(&beeped[..26], &frame[..26], "headers kept");
    assert_ne!(&beeped[40..], &frame[40..], "the audio is the beep");
}

#[test]
fn commands_and_queries_reach_the_table_only_through_the_engine() {
    use crate::filters::{Action, Field, Filter, FilterList};
    let mut engine = Engine::new(EngineConfig::default());
    engine.handle_frame(secs(0), LinkType::RawIp, &invite("door@x"), None);
    let first = CallKey(0);
    assert_eq!(engine.call_id(first), Some("door@x"));
    assert!(engine.is_recorded(first), "recorded by default");
    engine.set_recording(first, false);
    assert!(!engine.is_recorded(first));
    let quiet = Filter {
        id: 1,
        pattern: "*".to_owned(),
        field: Field::Number,
        action: Action::NoRecord,
    };
    engine.set_policy(Policy {
        filters: FilterList::new(vec![quiet]).expect("a valid filter"),
        ..Policy::default()
    });
    engine.handle_frame(secs(1), LinkType::RawIp, &invite("next@x"), None);
    assert!(!engine.is_recorded(CallKey(1)), "the new policy decides");
    assert_eq!(engine.calls_in_table(), 2);
    assert_eq!(
        (engine.call_id(CallKey(9)), engine.is_recorded(CallKey(9))),
        (None, false)
    );
    assert_eq!(engine.stats().sip_messages, 2, "stats need no &mut");
}

#[test]
fn call_id_line_reads_long_and_compact_names_and_stops_at_the_body() {
    assert_eq!(
        call_id_line(b"BYE x SIP/2.0\r\nCALL-ID:  abc \r\n\r\n"),
        Some("abc")
    );
    assert_eq!(call_id_line(b"BYE x SIP/2.0\r\ni:z\r\n"), Some("z"));
    assert_eq!(
        call_id_line(b"BYE x SIP/2.0\r\nTo: a\r\n\r\nCall-ID: body"),
        None
    );
    assert_eq!(call_id_line(b"BYE x SIP/2.0\r\nCall-ID: \xff\r\n"), None);
}

#[cfg(feature = "fault-injection")]
use crate::fault::{FAULT_HEADER, FAULT_TIMERS_CALL_ID};

/// The fault hook of the test builds panics after the INVITE has started its call.
#[cfg(feature = "fault-injection")]
#[test]
fn the_fault_header_panics_after_its_call_started() {
    let mut engine = Engine::new(EngineConfig::default());
    let frame = invite_with("fault@x", &format!("{FAULT_HEADER}: yes\r\n"));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.handle_frame(Timestamp(0), LinkType::RawIp, &frame, None)
    }));
    assert!(caught.is_err(), "the hook panics");
    assert_eq!(
        engine.settle_frame(Timestamp(1), LinkType::RawIp, &frame),
        Some(CallKey(0))
    );
}

/// The timer fault of the test builds: every run panics while its call is in the table.
#[cfg(feature = "fault-injection")]
#[test]
fn the_fault_call_makes_the_timers_panic() {
    let mut engine = Engine::new(EngineConfig::default());
    engine.handle_timeout(Timestamp(0));
    engine.handle_frame(
        Timestamp(0),
        LinkType::RawIp,
        &invite(FAULT_TIMERS_CALL_ID),
        None,
    );
    for at in [1, 2] {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.handle_timeout(Timestamp(at));
        }));
        assert!(caught.is_err(), "run {at} panics");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Whatever the network sends, the engine answers with a verdict and never panics.
    #[test]
    fn the_engine_never_panics_on_any_frame(
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..8),
        link in prop_oneof![Just(LinkType::RawIp), Just(LinkType::Ethernet), Just(LinkType::LinuxSll), Just(LinkType::LinuxSll2), Just(LinkType::Null)],
    ) {
        let mut engine = Engine::new(EngineConfig::default());
        for (i, frame) in frames.iter().enumerate() {
            let verdict = engine.handle_frame(Timestamp(i as u64 * 20_000), link, frame, None);
            prop_assert_eq!(verdict, Verdict::Accept);
        }
        engine.finish(Timestamp(10_000_000));
        while engine.poll_event().is_some() {}
        prop_assert_eq!(engine.stats().frames, frames.len() as u64);
    }

    /// Valid IPv4/UDP headers around arbitrary payloads: SIP- and RTP-looking bytes reach
    /// the parsers behind the decoder.
    #[test]
    fn the_engine_never_panics_on_any_udp_payload(payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..400), 1..8)) {
        let mut engine = Engine::new(EngineConfig::default());
        for (i, payload) in payloads.iter().enumerate() {
            let mut frame = Vec::new();
            etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
                .udp(5060, 5060)
                .write(&mut frame, payload)
                .expect("a packet");
            engine.handle_frame(Timestamp(i as u64), LinkType::RawIp, &frame, None);
        }
        prop_assert_eq!(engine.stats().frames, payloads.len() as u64);
    }
}
