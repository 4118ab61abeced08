//! Who is on the other end, and which way: a call's direction decided without a REGISTER
//! (by the INVITE's shape, `direction_source`), and callers with no number told apart:
//! withheld (the caller hid it) from unknown (the network did not say).

use std::time::Duration;

use ringside_core::call::{CallDirection, DirectionSource};
use ringside_core::caller_id::Presentation;
use ringside_synth::{unregistered_packets, write_pcap, Outcome, SynthCall};

use crate::support::{assert_tone, replay_file, replay_shared};

const EPOCH: Duration = Duration::from_hours(498_369);

/// The bug: X-Lite's From `sip:200.57.7.204:5061` (no user part, no Privacy) was logged as
/// an anonymous (withheld) caller.
#[test]
fn a_from_without_a_user_part_is_unknown_not_withheld() {
    let replayed = replay_shared("wireshark-wiki/SIP_CALL_RTP_G711");
    let userless: Vec<_> = replayed
        .calls
        .iter()
        .filter(|c| c.call.party.number.is_none())
        .collect();
    assert_eq!(userless.len(), 1, "{:?}", replayed.calls);
    let call = userless[0];
    assert!(
        call.caller_id_header.starts_with("<sip:200.57.7.204")
            || !call.caller_id_header.contains('@'),
        "{}",
        call.caller_id_header
    );
    assert_eq!(call.call.party.presentation, Presentation::Unknown);
    let json = serde_json::to_value(call).expect("JSON");
    assert_eq!(json["anonymous"], false, "{json}");
    assert_eq!(json["unknown"], true, "{json}");
    assert_eq!(json["presentation"], "unknown", "{json}");
}

/// The bug: a magicJack softphone's own call out (no REGISTER in the capture) was logged as
/// an incoming call from its own number. One Via and a domain Request-URI
/// (`sip:9055551212@talk4free.com`): the phone called its proxy.
#[test]
fn an_outgoing_call_without_a_register_is_outbound_by_its_request_uri() {
    let replayed = replay_shared("wireshark-wiki/MagicJack-_short_call.pcap");
    assert_eq!(replayed.calls.len(), 1);
    let call = &replayed.calls[0];
    assert_eq!(call.call.direction, CallDirection::Outbound);
    assert_eq!(
        call.call.direction_source,
        Some(DirectionSource::RequestUri)
    );
    assert_eq!(call.call.party.number.as_deref(), Some("9055551212"));
    let json = serde_json::to_value(call).expect("JSON");
    assert_eq!(json["direction_source"], "request-uri", "{json}");
}

/// The phone's calls out in a capture that starts after it registered (generated: no real
/// capture has several calls both ways without a REGISTER). Each outgoing INVITE's domain
/// Request-URI says outbound; the incoming call after them, whose INVITE says nothing either
/// way, is placed by the phone address those calls showed. The phone is the right channel.
#[test]
fn outgoing_calls_without_a_register_are_outbound_and_the_phone_is_on_the_right() {
    let mut first = SynthCall::inbound(1, "15550100021", None);
    first.direction = CallDirection::Outbound;
    let mut second = SynthCall::inbound(2, "15550100022", None);
    second.direction = CallDirection::Outbound;
    second.outcome = Outcome::Busy;
    second.start = Duration::from_secs(10);
    let mut incoming = SynthCall::inbound(3, "15550100023", Some("Later Caller"));
    incoming.start = Duration::from_secs(20);
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("unregistered.pcap");
    let calls = [first.clone(), second, incoming];
    write_pcap(&capture, EPOCH, &unregistered_packets(&calls, 7)).expect("write capture");
    let replayed = replay_file(&capture);
    assert_eq!(replayed.calls.len(), 3);
    for (number, direction, source) in [
        (
            "15550100021",
            CallDirection::Outbound,
            DirectionSource::RequestUri,
        ),
        (
            "15550100022",
            CallDirection::Outbound,
            DirectionSource::RequestUri,
        ),
        (
            "15550100023",
            CallDirection::Inbound,
            DirectionSource::EarlierCall,
        ),
    ] {
        let call = replayed.by_number(number);
        assert_eq!(
            (call.call.direction, call.call.direction_source),
            (direction, Some(source)),
            "{number}"
        );
    }
    assert_eq!(
        replayed.by_number("15550100023").call.party.name.as_deref(),
        Some("Later Caller")
    );
    let answered = replayed.by_number("15550100021");
    let (left, right) = replayed.recording(answered);
    let (remote, phone) = (first.remote_tone, first.phone_tone);
    assert_tone(&left, remote, &[phone], "left: the party called");
    assert_tone(&right, phone, &[remote], "right: the phone");
}

/// Which way a call went, how that was decided, and its number.
type Placed<'a> = (CallDirection, DirectionSource, Option<&'a str>);

/// Real captures with no REGISTER: what the INVITEs themselves say. A softphone calling a
/// domain (iptel.org's echo test, an IMS number) is outbound by its Request-URI; an INVITE
/// that crossed a proxy (two Vias and a Record-Route, over IPv6) is inbound by its Vias; a
/// gateway's INVITE to a contact whose user is not the `To`'s is inbound by its
/// Request-URI; an INVITE with no clue stays inbound, and says it was assumed.
#[test]
fn real_captures_without_a_register_are_placed_by_their_invites() {
    use CallDirection::{Inbound, Outbound};
    use DirectionSource::{Assumed, RequestUri, ViaCount};
    let cases: [(&str, &[Placed]); 5] = [
        (
            "wireshark-wiki/DTMFsipinfo.pcap",
            &[(Outbound, RequestUri, Some("echo"))],
        ),
        (
            "wireshark-wiki/nb6-telephone.pcap",
            &[(Outbound, RequestUri, Some("147"))],
        ),
        (
            "sngrep/ipv6frag.pcap",
            &[(Inbound, ViaCount, Some("08019200026"))],
        ),
        (
            "wireshark-wiki/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
            &[(Inbound, Assumed, None), (Inbound, RequestUri, None)],
        ),
        (
            "wireshark-wiki/rtp_conversacion.pcap",
            &[(Inbound, Assumed, Some("102"))],
        ),
    ];
    for (capture, expected) in cases {
        let replayed = replay_shared(capture);
        let mut seen: Vec<_> = replayed
            .calls
            .iter()
            .map(|c| {
                (
                    c.call.direction,
                    c.call.direction_source.expect("kept for every new call"),
                    c.call.party.number.as_deref(),
                )
            })
            .collect();
        seen.sort_by_key(|(d, s, n)| (d.as_str(), s.as_str(), n.map(str::to_owned)));
        assert_eq!(seen, expected, "{capture}");
    }
}

/// A gateway's `<sip:unavailable@hostportion>` with no Privacy: the network had no number
/// to give (NCID's OUT-OF-AREA), which is not a caller who hid theirs.
#[test]
fn unavailable_from_a_fax_gateway_is_unknown_not_withheld() {
    let replayed = replay_shared("wireshark-wiki/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap");
    assert_eq!(replayed.calls.len(), 2);
    for call in &replayed.calls {
        assert!(call
            .caller_id_header
            .contains("sip:unavailable@hostportion"));
        assert_eq!(call.call.party.presentation, Presentation::Unknown);
        assert!(!call.call.party.is_withheld());
    }
}
