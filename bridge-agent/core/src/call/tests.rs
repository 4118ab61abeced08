//! The dialog's transitions, one RFC 3261 step at a time, and the ones it refuses: driven on
//! [`DialogState`] directly, through [`Call`] with parsed messages, and on random sequences.

use std::net::SocketAddr;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::caller_id::caller_id;
use crate::sip::parse_datagram;

fn at(s: u64) -> Timestamp {
    Timestamp(s * 1_000_000)
}

fn response(status: u16, cseq: u32) -> Signal {
    Signal::InviteResponse {
        status,
        cseq,
        sdp: false,
    }
}

/// A call answered by its 2xx at second `s`.
fn up(s: u64) -> DialogState {
    DialogState::Confirmed {
        answer: answer(s, AnswerEvidence::Ok200),
    }
}

fn answer(s: u64, by: AnswerEvidence) -> Answer {
    Answer { at: at(s), by }
}

/// A call ringing (no early media) for the INVITE with `CSeq` number `invite_cseq`.
fn early(invite_cseq: u32) -> DialogState {
    DialogState::Early {
        setup: Setup {
            invite_cseq,
            acked_at: None,
        },
        early_media: false,
    }
}

/// Feeds `signals` (each at the second of its position) to a dialog set up by `CSeq` 1.
fn run(signals: &[Signal]) -> (DialogState, Vec<Progress>) {
    let mut state = DialogState::calling(1);
    let mut progress = Vec::new();
    for (i, &signal) in signals.iter().enumerate() {
        let (next, p) = state.on_signal(at(i as u64 + 1), signal);
        state = next;
        progress.push(p);
    }
    (state, progress)
}

/// An ended call; one answered was answered by its 2xx.
/// Asserts that each of `signals` ends a call missed at its last signal, and says so.
fn assert_missed(signals: &[&[Signal]]) {
    for &signals in signals {
        let (state, progress) = run(signals);
        let end = signals.len() as u64;
        assert_eq!(
            state,
            terminated(end, Disposition::Missed, None),
            "{signals:?}"
        );
        assert_eq!(progress.last(), Some(&Progress::Ended(Disposition::Missed)));
    }
}

/// Asserts that none of `signals` moves `state` or reports anything.
fn assert_unmoved(state: DialogState, signals: &[Signal]) {
    for &signal in signals {
        assert_eq!(
            state.on_signal(at(40), signal),
            (state, Progress::Nothing),
            "{state:?} then {signal:?}"
        );
    }
}

fn terminated(ended_at: u64, disposition: Disposition, answered_at: Option<u64>) -> DialogState {
    DialogState::Terminated {
        ended_at: at(ended_at),
        disposition,
        answer: answered_at.map(|s| answer(s, AnswerEvidence::Ok200)),
    }
}

#[test]
fn invite_rings_is_answered_and_hung_up() {
    let (state, progress) = run(&[response(100, 1), response(180, 1), response(200, 1)]);
    assert_eq!(state, up(3));
    assert_eq!(
        progress,
        [Progress::Nothing, Progress::Ringing, Progress::Answered],
        "100 Trying changes nothing"
    );
    let (state, progress) = state.on_signal(at(9), Signal::Bye);
    assert_eq!(state, terminated(9, Disposition::Answered, Some(3)));
    assert_eq!(progress, Progress::Ended(Disposition::Answered));
}

#[test]
fn a_2xx_without_ringing_confirms_and_a_second_18x_changes_nothing() {
    let (state, _) = run(&[response(200, 1)]);
    assert_eq!(state, up(1));
    let (state, progress) = run(&[response(180, 1), response(183, 1)]);
    assert_eq!(state, early(1));
    assert_eq!(progress, [Progress::Ringing, Progress::Nothing]);
}

#[test]
fn cancel_487_and_bye_before_the_answer_end_it_missed() {
    assert_missed(&[
        &[Signal::Cancel],
        &[response(180, 1), Signal::Cancel],
        &[response(180, 1), response(487, 1)],
        &[response(487, 1)],
        &[Signal::Bye],
        &[response(183, 1), Signal::Bye],
    ]);
}

#[test]
fn final_failures_end_it_busy_rejected_or_failed() {
    for (status, disposition) in [
        (486, Disposition::Busy),
        (600, Disposition::Busy),
        (603, Disposition::Rejected),
        (403, Disposition::Rejected),
        (404, Disposition::Failed),
        (302, Disposition::Forwarded),
        (305, Disposition::Failed),
        (503, Disposition::Failed),
        (699, Disposition::Failed),
    ] {
        for ringing_first in [false, true] {
            let signals = if ringing_first {
                vec![response(180, 1), response(status, 1)]
            } else {
                vec![response(status, 1)]
            };
            let (state, _) = run(&signals);
            let end = signals.len() as u64;
            assert_eq!(state, terminated(end, disposition, None), "{status}");
        }
    }
}

#[test]
fn challenges_keep_it_setting_up_and_raise_the_cseq() {
    for challenge in [401, 407] {
        let (state, progress) = run(&[response(challenge, 1), Signal::Invite { cseq: 2 }]);
        assert_eq!(state, DialogState::calling(2));
        assert_eq!(progress, [Progress::Nothing, Progress::Nothing]);
        // A late final answer to the challenged INVITE does not end the retried one.
        let (late, progress) = state.on_signal(at(5), response(487, 1));
        assert_eq!((late, progress), (state, Progress::Nothing));
        let (busy, _) = state.on_signal(at(6), response(486, 2));
        assert_eq!(busy, terminated(6, Disposition::Busy, None));
    }
    let (ringing, _) = run(&[
        response(180, 1),
        response(407, 1),
        Signal::Invite { cseq: 3 },
    ]);
    assert_eq!(ringing, early(3));
    let (again, _) = ringing.on_signal(at(9), Signal::Invite { cseq: 2 });
    assert_eq!(again, ringing, "a retransmission never lowers the CSeq");
}

#[test]
fn a_re_invite_of_a_confirmed_call_and_its_answers_change_nothing() {
    let (up, _) = run(&[response(200, 1)]);
    let signals = [
        Signal::Invite { cseq: 2 },
        response(100, 2),
        response(200, 2),
        response(488, 2),
        response(180, 2),
        Signal::Cancel,
        Signal::Other,
    ];
    assert_unmoved(up, &signals);
}

#[test]
fn nothing_moves_a_terminated_call_not_even_a_200() {
    let (over, _) = run(&[Signal::Cancel]);
    let signals = [
        response(200, 1),
        response(180, 1),
        response(486, 1),
        Signal::Bye,
        Signal::Cancel,
        Signal::Invite { cseq: 5 },
    ];
    assert_unmoved(over, &signals);
    assert_eq!(over.on_end(at(41), CallDirection::Outbound).0, over);
    assert_eq!(over.on_block(at(42)), None);
}

#[test]
fn timeouts_end_it_by_state_and_direction() {
    use CallDirection::{Inbound, Outbound};
    let calling = DialogState::calling(1);
    let early = early(1);
    let up = up(2);
    let cases = [
        (calling, Inbound, terminated(9, Disposition::Missed, None)),
        (calling, Outbound, terminated(9, Disposition::Failed, None)),
        (early, Inbound, terminated(9, Disposition::Missed, None)),
        (early, Outbound, terminated(9, Disposition::Failed, None)),
        (up, Inbound, terminated(9, Disposition::Answered, Some(2))),
        (up, Outbound, terminated(9, Disposition::Answered, Some(2))),
    ];
    for (state, direction, expected) in cases {
        let (ended, disposition) = state.on_end(at(9), direction);
        assert_eq!(ended, expected, "{state:?} {direction:?}");
        assert_eq!(Some(disposition), Some(expected).and_then(disposition_of));
    }
    let busy = terminated(4, Disposition::Busy, None);
    assert_eq!(
        busy.on_end(at(9), Inbound),
        (busy, Disposition::Busy),
        "an ended call keeps its end"
    );
}

fn disposition_of(state: DialogState) -> Option<Disposition> {
    match state {
        DialogState::Terminated { disposition, .. } => Some(disposition),
        _ => None,
    }
}

#[test]
fn only_a_call_still_calling_can_be_blocked() {
    let blocked = DialogState::calling(1).on_block(at(1));
    assert_eq!(blocked, Some(terminated(1, Disposition::Blocked, None)));
    assert_eq!(early(1).on_block(at(1)), None);
    let up = up(1);
    assert_eq!(up.on_block(at(2)), None, "a call up is never blocked");
}

#[test]
fn answer_and_end_times_exist_only_in_the_states_that_own_them() {
    let calling = DialogState::calling(1);
    let early = early(1);
    for state in [calling, early] {
        assert_eq!((state.answered_at(), state.ended_at()), (None, None));
    }
    let up = up(3);
    assert_eq!((up.answered_at(), up.ended_at()), (Some(at(3)), None));
    let over = terminated(8, Disposition::Answered, Some(3));
    assert_eq!(
        (over.answered_at(), over.ended_at()),
        (Some(at(3)), Some(at(8)))
    );
}

const PROVIDER: &str = "203.0.113.5:5060";
const PHONE: &str = "192.168.1.20:5060";

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("an address")
}

fn message(start: &str, cseq: &str) -> Message {
    let text = format!(
        "{start}\r\nVia: SIP/2.0/UDP {PROVIDER};branch=z9hG4bK1\r\nFrom: <sip:15550100001@p>;tag=a\r\n\
         To: <sip:100@p>\r\nCall-ID: c1\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
    );
    parse_datagram(text.as_bytes())
        .expect("valid")
        .expect("whole")
}

fn call(direction: CallDirection) -> Call {
    let invite = message("INVITE sip:100@p SIP/2.0", "1 INVITE");
    let info = CallInfo {
        key: CallKey(1),
        call_id: "c1".to_owned(),
        direction,
        direction_source: DirectionSource::Configured,
        party: caller_id(&invite).expect("a caller"),
        started_at: at(0),
        phone: addr(PHONE),
        remote: addr(PROVIDER),
        blocked_by: None,
    };
    Call::new(info, &invite, true)
}

#[test]
fn messages_are_read_as_the_signals_they_are() {
    let cases = [
        (
            "INVITE sip:100@p SIP/2.0",
            "7 INVITE",
            Signal::Invite { cseq: 7 },
        ),
        ("CANCEL sip:100@p SIP/2.0", "1 CANCEL", Signal::Cancel),
        ("BYE sip:100@p SIP/2.0", "2 BYE", Signal::Bye),
        ("ACK sip:100@p SIP/2.0", "1 ACK", Signal::Other),
        ("SIP/2.0 180 Ringing", "1 INVITE", response(180, 1)),
        ("SIP/2.0 486 Busy", "3 INVITE", response(486, 3)),
        ("SIP/2.0 200 OK", "2 BYE", Signal::Bye),
        (
            "SIP/2.0 407 Proxy Authentication Required",
            "2 BYE",
            Signal::Bye,
        ),
        ("SIP/2.0 200 OK", "4 INFO", Signal::Other),
    ];
    for (start, cseq, signal) in cases {
        assert_eq!(
            Signal::of(&message(start, cseq), &InviteBranches::default()),
            signal,
            "{start} / {cseq}"
        );
    }
}

#[test]
fn a_call_moves_only_through_its_own_methods() {
    let mut call = call(CallDirection::Inbound);
    let ok = message("SIP/2.0 200 OK", "1 INVITE");
    assert_eq!(call.handle_message(at(2), &ok, true), Progress::Answered);
    assert!(
        !call.block(at(3), Some(b"486".to_vec())),
        "refused once answered"
    );
    assert_eq!(call.turned_away(), None);
    let bye = message("BYE sip:100@p SIP/2.0", "2 BYE");
    let ended = call.handle_message(at(5), &bye, false);
    assert_eq!(ended, Progress::Ended(Disposition::Answered));
    assert_eq!(call.handle_message(at(6), &ok, true), Progress::Nothing);
    assert_eq!(call.dialog(), terminated(5, Disposition::Answered, Some(2)));
    let (_, summary) = call.finish();
    assert_eq!(summary.answered_at, Some(at(2)));
}

#[test]
fn quiet_calls_expire_by_state_then_linger_and_are_forgotten() {
    let timeouts = Timeouts {
        ringing: Duration::from_secs(10),
        media: Duration::from_secs(20),
        session: Duration::from_secs(30),
    };
    let mut ringing = call(CallDirection::Outbound);
    assert_eq!(ringing.handle_timeout(at(10), timeouts), Tick::Going);
    assert_eq!(ringing.handle_timeout(at(11), timeouts), Tick::Expired);
    assert_eq!(ringing.end(at(11)), Disposition::Failed);
    assert_eq!(
        ringing.handle_timeout(at(11 + 32), timeouts),
        Tick::Lingering
    );
    assert_eq!(
        ringing.handle_timeout(at(11 + 33), timeouts),
        Tick::Forgotten
    );

    let mut up = call(CallDirection::Inbound);
    up.handle_message(at(1), &message("SIP/2.0 200 OK", "1 INVITE"), true);
    assert_eq!(
        up.handle_timeout(at(31), timeouts),
        Tick::Going,
        "no RTP: session"
    );
    assert_eq!(up.handle_timeout(at(32), timeouts), Tick::Expired);
    let rtp = [0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff];
    let packet = crate::rtp::RtpPacket::new_checked(&rtp).expect("RTP");
    assert_eq!(
        up.handle_rtp(at(40), Channel::Remote, &packet, false),
        (Progress::Nothing, Heard::Audio)
    );
    assert_eq!(up.handle_timeout(at(60), timeouts), Tick::Going);
    assert_eq!(
        up.handle_timeout(at(61), timeouts),
        Tick::Expired,
        "RTP stopped"
    );
}

/// One step of a random life: a signal, Ringside's end or a filter's block.
#[derive(Debug, Clone, Copy)]
enum Step {
    Signal(Signal),
    End(CallDirection),
    Block,
}

fn step() -> impl Strategy<Value = Step> {
    let status = prop_oneof![
        100..200u16,
        200..300u16,
        300..700u16,
        Just(401u16),
        Just(407u16)
    ];
    let signal =
        prop_oneof![
            (1..4u32).prop_map(|cseq| Signal::Invite { cseq }),
            Just(Signal::Cancel),
            Just(Signal::Bye),
            Just(Signal::Other),
            (status, 1..4u32, any::<bool>())
                .prop_map(|(status, cseq, sdp)| Signal::InviteResponse { status, cseq, sdp }),
            (1..4u32, any::<bool>())
                .prop_map(|(cseq, new_branch)| Signal::Ack { cseq, new_branch }),
            Just(Signal::MediaBothWays),
        ];
    prop_oneof![
        8 => signal.prop_map(Step::Signal),
        1 => prop_oneof![Just(CallDirection::Inbound), Just(CallDirection::Outbound)].prop_map(Step::End),
        1 => Just(Step::Block),
    ]
}

proptest! {
    /// Whatever arrives in whatever order (evidence of an answer included): an answered end
    /// exactly when there was an answer, an answer (time and evidence) that never changes
    /// once set, and no way back from `Terminated`.
    #[test]
    fn no_sequence_reaches_an_impossible_state(steps in prop::collection::vec(step(), 0..20)) {
        let mut state = DialogState::calling(1);
        for (i, step) in steps.into_iter().enumerate() {
            let now = at(i as u64 + 1);
            let next = match step {
                Step::Signal(signal) => state.on_signal(now, signal).0,
                Step::End(direction) => state.on_end(now, direction).0,
                Step::Block => state.on_block(now).unwrap_or(state),
            };
            if state.is_terminated() {
                prop_assert_eq!(next, state);
            }
            if let Some(answered) = state.answer() {
                prop_assert_eq!(next.answer(), Some(answered));
            }
            if let DialogState::Terminated { disposition, answer, ended_at } = next {
                prop_assert_eq!(disposition == Disposition::Answered, answer.is_some());
                prop_assert!(answer.is_none_or(|a| a.at <= ended_at));
            }
            state = next;
        }
    }
}

mod evidence;
