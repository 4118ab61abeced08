//! The call table's tests: calls started, matched, blocked, timed out and forgotten.

use super::*;
use crate::call::{CallDirection, DirectionSource};
use crate::filters::{Action, Field, Filter, FilterList};
use crate::policy::BlockResponse;
use crate::sip::parse_datagram;
use crate::sip::Message;

const PROVIDER: &str = "203.0.113.5:5060";
const PHONE: &str = "192.168.1.20:5060";

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("address")
}

fn message(start: &str, call_id: &str, cseq: &str, to_tag: bool) -> Message {
    let tag = if to_tag { ";tag=b" } else { "" };
    let text = format!(
        "{start}\r\nVia: SIP/2.0/UDP {PROVIDER};branch=z9hG4bK1\r\nFrom: \"Caller\" <sip:15550100001@p>;tag=a\r\n\
         To: <sip:100@p>{tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
    );
    parse_datagram(text.as_bytes())
        .expect("valid")
        .expect("message")
}

fn invite(call_id: &str, cseq: u32) -> Message {
    message(
        "INVITE sip:100@192.168.1.20 SIP/2.0",
        call_id,
        &format!("{cseq} INVITE"),
        false,
    )
}

fn response(code: u16, call_id: &str, cseq: u32) -> Message {
    message(
        &format!("SIP/2.0 {code} Whatever"),
        call_id,
        &format!("{cseq} INVITE"),
        true,
    )
}

fn events(tracker: &mut Tracker) -> Vec<Event> {
    std::iter::from_fn(|| tracker.poll_event()).collect()
}

fn secs(s: u64) -> Timestamp {
    Timestamp(s * 1_000_000)
}

#[test]
fn end_now_reports_a_call_that_a_panic_kept_out_of_the_table() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    tracker.by_call_id.insert("orphan".into(), CallKey(7));
    let key = tracker.call_of("orphan").expect("indexed");
    tracker.end_now(secs(1), key);
    let events = events(&mut tracker);
    assert!(matches!(
        events.as_slice(),
        [Event::CallEnded {
            call: CallKey(7),
            disposition: Disposition::Failed,
            ..
        }]
    ));
    assert_eq!(tracker.call_of("orphan"), None, "forgotten");
}

#[test]
fn retransmissions_and_auth_challenges_do_not_make_new_calls() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let (p, ph) = (addr(PROVIDER), addr(PHONE));
    tracker.handle_sip(secs(0), &invite("c1", 1), p, ph, None);
    tracker.handle_sip(secs(0), &invite("c1", 1), p, ph, None);
    tracker.handle_sip(secs(1), &response(407, "c1", 1), ph, p, None);
    tracker.handle_sip(secs(1), &invite("c1", 2), p, ph, None);
    tracker.handle_sip(secs(2), &response(180, "c1", 2), ph, p, None);
    tracker.handle_sip(secs(3), &response(200, "c1", 2), ph, p, None);
    let kinds: Vec<&str> = events(&mut tracker)
        .iter()
        .map(|e| match e {
            Event::CallStarted(_) => "started",
            Event::CallRinging { .. } => "ringing",
            Event::CallAnswered { .. } => "answered",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["started", "ringing", "answered"]);
}

#[test]
fn calls_that_go_quiet_end_on_timers_and_are_then_forgotten() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    tracker.handle_sip(
        secs(0),
        &invite("quiet", 1),
        addr(PROVIDER),
        addr(PHONE),
        None,
    );
    tracker.handle_timeout(secs(179));
    assert!(!events(&mut tracker)
        .iter()
        .any(|e| matches!(e, Event::CallEnded { .. })));
    tracker.handle_timeout(secs(181));
    let ended = events(&mut tracker);
    assert!(
        matches!(
            ended.as_slice(),
            [Event::CallEnded {
                disposition: Disposition::Missed,
                ..
            }]
        ),
        "{ended:?}"
    );
    assert_eq!(tracker.len(), 1, "lingers for retransmissions");
    tracker.handle_timeout(secs(181 + 33));
    assert_eq!(tracker.len(), 0);
}

#[test]
fn a_flood_of_invites_stays_within_max_calls() {
    let mut tracker = Tracker::new(TrackerConfig {
        max_calls: 100,
        ..TrackerConfig::default()
    });
    for i in 0..10_000 {
        tracker.handle_sip(
            Timestamp(i),
            &invite(&format!("flood-{i}"), 1),
            addr(PROVIDER),
            addr(PHONE),
            None,
        );
        while tracker.poll_event().is_some() {}
        assert!(tracker.len() <= 100);
    }
    assert_eq!(tracker.len(), 100);
}

#[test]
fn a_register_teaches_which_side_is_the_phone() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let register = message("REGISTER sip:p SIP/2.0", "reg", "1 REGISTER", false);
    tracker.handle_sip(secs(0), &register, addr(PHONE), addr(PROVIDER), None);
    tracker.handle_sip(
        secs(1),
        &invite("out", 1),
        addr(PHONE),
        addr(PROVIDER),
        None,
    );
    let Some(Event::CallStarted(info)) = tracker.poll_event() else {
        panic!("a call")
    };
    assert_eq!(info.direction, CallDirection::Outbound);
    assert_eq!(info.phone, addr(PHONE));
    assert_eq!(
        info.party.number.as_deref(),
        Some("100"),
        "the dialled number, from To"
    );
}

fn policy(filters: &[(&str, Action)], block_response: BlockResponse) -> Policy {
    Policy {
        filters: FilterList::new(
            filters
                .iter()
                .enumerate()
                .map(|(i, (pattern, action))| Filter {
                    id: i as i64 + 1,
                    pattern: (*pattern).to_owned(),
                    field: Field::Number,
                    action: *action,
                })
                .collect(),
        )
        .expect("valid filters"),
        block_response,
        ..Policy::default()
    }
}

#[test]
fn a_blocked_invite_its_retransmissions_and_its_ack_never_reach_the_phone() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    tracker.set_policy(policy(&[("1555*", Action::Block)], BlockResponse::Busy));
    let (p, ph) = (addr(PROVIDER), addr(PHONE));
    assert_eq!(
        tracker.handle_sip(secs(0), &invite("spam", 1), p, ph, None),
        Verdict::Drop
    );
    let first = tracker.poll_transmit().expect("a 486 to the provider");
    assert_eq!((first.src, first.dst), (ph, p), "from the phone's address");
    let response = parse_datagram(&first.payload)
        .expect("valid")
        .expect("whole");
    assert_eq!(response.status(), Some(486));
    assert_eq!(response.call_id(), "spam");
    assert_eq!(
        tracker.handle_sip(secs(1), &invite("spam", 1), p, ph, None),
        Verdict::Drop
    );
    assert_eq!(
        tracker.poll_transmit().map(|t| t.payload),
        Some(first.payload),
        "the retransmission gets the same answer"
    );
    let ack = message("ACK sip:100@192.168.1.20 SIP/2.0", "spam", "1 ACK", true);
    assert_eq!(
        tracker.handle_sip(secs(1), &ack, p, ph, None),
        Verdict::Drop
    );
    assert_eq!(tracker.poll_transmit(), None);
    let events = events(&mut tracker);
    let Some(Event::CallStarted(info)) = events.first() else {
        panic!("the call is logged: {events:?}")
    };
    assert_eq!(info.blocked_by.as_ref().map(|f| f.id), Some(1));
    assert!(matches!(
        events.get(1),
        Some(Event::CallEnded {
            disposition: Disposition::Blocked,
            ..
        })
    ));
    assert_eq!(events.len(), 2, "no ringing, no answer: {events:?}");
}

#[test]
fn decline_and_drop_responses_and_outbound_calls_are_not_blocked() {
    let (p, ph) = (addr(PROVIDER), addr(PHONE));
    let mut tracker = Tracker::new(TrackerConfig::default());
    tracker.set_policy(policy(&[("*", Action::Block)], BlockResponse::Decline));
    tracker.handle_sip(secs(0), &invite("a", 1), p, ph, None);
    let sent = tracker.poll_transmit().expect("a response");
    let response = parse_datagram(&sent.payload)
        .expect("valid")
        .expect("whole");
    assert_eq!(response.status(), Some(603));

    tracker.set_policy(policy(&[("*", Action::Block)], BlockResponse::Drop));
    assert_eq!(
        tracker.handle_sip(secs(1), &invite("b", 1), p, ph, None),
        Verdict::Drop
    );
    assert_eq!(tracker.poll_transmit(), None, "dropped in silence");

    let outbound = tracker.handle_sip(secs(2), &invite("c", 1), ph, p, Some(true));
    assert_eq!(
        outbound,
        Verdict::Accept,
        "filters never block the phone's own calls"
    );
}

#[test]
fn a_new_policy_never_blocks_a_call_already_up_nor_its_re_invites() {
    let (p, ph) = (addr(PROVIDER), addr(PHONE));
    let mut tracker = Tracker::new(TrackerConfig::default());
    tracker.handle_sip(secs(0), &invite("up", 1), p, ph, None);
    tracker.handle_sip(secs(1), &response(200, "up", 1), ph, p, None);
    tracker.set_policy(policy(&[("*", Action::Block)], BlockResponse::Busy));
    let re_invite = message(
        "INVITE sip:100@192.168.1.20 SIP/2.0",
        "up",
        "2 INVITE",
        true,
    );
    assert_eq!(
        tracker.handle_sip(secs(5), &re_invite, p, ph, None),
        Verdict::Accept
    );
    assert_eq!(tracker.poll_transmit(), None);
    let record = policy(&[("*", Action::NoRecord)], BlockResponse::Busy);
    tracker.set_policy(record);
    tracker.handle_sip(secs(6), &invite("quiet", 1), p, ph, None);
    let key = *tracker.by_call_id.get("quiet").expect("tracked");
    assert!(!tracker.is_recorded(key), "no-record filter applied");
}

#[test]
fn voicemail_notifies_are_reported_when_what_waits_changes() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let notify = |body: &str| {
        let text = format!(
            "NOTIFY sip:100@192.168.1.20 SIP/2.0\r\nVia: SIP/2.0/UDP {PROVIDER};branch=z9hG4bKn\r\n\
             From: <sip:vm@p>;tag=v\r\nTo: <sip:100@p>;tag=t\r\nCall-ID: mwi-1\r\nCSeq: 7 NOTIFY\r\n\
             Event: message-summary\r\nContent-Type: application/simple-message-summary\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        parse_datagram(text.as_bytes())
            .expect("valid")
            .expect("whole")
    };
    let (p, ph) = (addr(PROVIDER), addr(PHONE));
    let waiting = "Messages-Waiting: yes\r\nVoice-Message: 2/1\r\n";
    tracker.handle_sip(secs(1), &notify(waiting), p, ph, None);
    tracker.handle_sip(secs(2), &notify(waiting), p, ph, None);
    tracker.handle_sip(secs(3), &notify("Messages-Waiting: no\r\n"), p, ph, None);
    let summaries: Vec<(bool, u32)> = events(&mut tracker)
        .iter()
        .filter_map(|e| match e {
            Event::Voicemail { summary, .. } => Some((summary.waiting, summary.new)),
            _ => None,
        })
        .collect();
    assert_eq!(summaries, [(true, 2), (false, 0)], "a repeat is not news");
    assert_eq!(tracker.len(), 0, "a NOTIFY is not a call");
}

#[test]
fn the_invite_a_302_asked_for_under_the_same_call_id_is_a_call_of_its_own() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let (p, ph) = (addr(PROVIDER), addr(PHONE));
    tracker.handle_sip(secs(0), &invite("c1", 1), p, ph, None);
    tracker.handle_sip(secs(1), &response(302, "c1", 1), ph, p, None);
    let first = tracker.call_of("c1").expect("the first call");
    tracker.handle_sip(secs(2), &invite("c1", 2), p, ph, None);
    let second = tracker.call_of("c1").expect("the forwarded call");
    assert_ne!(first, second);
    tracker.handle_sip(secs(3), &response(200, "c1", 2), ph, p, None);
    let ends: Vec<(CallKey, &str)> = events(&mut tracker)
        .iter()
        .filter_map(|e| match e {
            Event::CallStarted(info) => Some((info.key, "started")),
            Event::CallAnswered { call, .. } => Some((*call, "answered")),
            Event::CallEnded {
                call, disposition, ..
            } => Some((*call, disposition.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        ends,
        [
            (first, "started"),
            (first, "forwarded"),
            (second, "started"),
            (second, "answered")
        ]
    );
    tracker.handle_timeout(secs(40));
    assert_eq!(
        tracker.call_of("c1"),
        Some(second),
        "forgetting the first call leaves the Call-ID to the second"
    );
}

/// An INVITE from the internet shaped like a phone's own call (one Via, a domain
/// Request-URI) must not slip past a filter that blocks its caller: with no trusted clue
/// (bridge port, configured phone, REGISTER) it is taken as the inbound call it may be.
#[test]
fn a_caller_cannot_dodge_a_block_by_shaping_the_invite_like_an_outgoing_call() {
    let (p, ph) = (addr(PROVIDER), addr(PHONE));
    let shaped = message("INVITE sip:100@p SIP/2.0", "dressed", "1 INVITE", false);
    let mut tracker = Tracker::new(TrackerConfig::default());
    tracker.set_policy(policy(&[("1555*", Action::Block)], BlockResponse::Busy));
    assert_eq!(
        tracker.handle_sip(secs(0), &shaped, p, ph, None),
        Verdict::Drop
    );
    let Some(Event::CallStarted(info)) = events(&mut tracker).into_iter().next() else {
        panic!("the call is logged")
    };
    assert_eq!(
        (info.direction, info.direction_source),
        (CallDirection::Inbound, DirectionSource::Assumed)
    );
    // With nothing to block, the same shape is the phone calling out.
    let mut tracker = Tracker::new(TrackerConfig::default());
    assert_eq!(
        tracker.handle_sip(secs(0), &shaped, ph, p, None),
        Verdict::Accept
    );
    let Some(Event::CallStarted(info)) = events(&mut tracker).into_iter().next() else {
        panic!("the call is logged")
    };
    assert_eq!(
        (info.direction, info.direction_source),
        (CallDirection::Outbound, DirectionSource::RequestUri)
    );
}

/// Regression: a panic while a TCP message was handled left the TCP exception on, so every
/// later UDP caller a filter blocks rang through (the agent survives engine panics and keeps
/// the same tracker).
#[test]
fn a_panic_over_tcp_does_not_leave_blocking_off() {
    let mut tracker = Tracker::new(TrackerConfig::default());
    tracker.set_policy(policy(&[("1555*", Action::Block)], BlockResponse::Busy));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tracker.without_blocking(|_| panic!("a bug while a TCP message is handled"))
    }));
    assert!(caught.is_err(), "the panic goes on to the agent");
    let (p, ph) = (addr(PROVIDER), addr(PHONE));
    assert_eq!(
        tracker.handle_sip(secs(0), &invite("spam", 1), p, ph, None),
        Verdict::Drop,
        "the filter blocks the next call over UDP"
    );
}
