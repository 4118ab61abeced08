//! An answer whose 2xx was not seen, inferred from what only follows a 2xx (an ACK for it,
//! RTP both ways, a BYE after an ACK), and the look-alikes that must not count: early media,
//! a BYE alone, the ACK of a challenge or a failure, anything after the end.

use super::*;

fn ack(cseq: u32, new_branch: bool) -> Signal {
    Signal::Ack { cseq, new_branch }
}

fn early_media(status: u16) -> Signal {
    Signal::InviteResponse {
        status,
        cseq: 1,
        sdp: true,
    }
}

fn confirmed(s: u64, by: AnswerEvidence) -> DialogState {
    DialogState::Confirmed {
        answer: answer(s, by),
    }
}

#[test]
fn an_ack_for_a_2xx_confirms_a_call_whose_200_was_lost() {
    for signals in [&[ack(1, true)][..], &[response(180, 1), ack(1, true)]] {
        let (state, progress) = run(signals);
        let end = signals.len() as u64;
        assert_eq!(
            state,
            confirmed(end, AnswerEvidence::AckFor2xx),
            "{signals:?}"
        );
        assert_eq!(progress.last(), Some(&Progress::Answered));
        let (over, progress) = state.on_signal(at(20), Signal::Bye);
        assert_eq!(progress, Progress::Ended(Disposition::Answered));
        assert_eq!(over.answer(), Some(answer(end, AnswerEvidence::AckFor2xx)));
    }
}

#[test]
fn the_ack_of_a_challenged_invite_proves_nothing_about_its_retry() {
    // 407, its ACK (the INVITE's branch), the retry, then the caller gives up with a BYE.
    let (state, _) = run(&[
        response(407, 1),
        ack(1, false),
        Signal::Invite { cseq: 2 },
        Signal::Bye,
    ]);
    assert_eq!(state, terminated(4, Disposition::Missed, None));
    // An ACK of the older INVITE with a new branch does not answer the retry either.
    let (state, progress) = run(&[Signal::Invite { cseq: 2 }, ack(1, true)]);
    assert_eq!(
        (state, progress[1]),
        (DialogState::calling(2), Progress::Nothing)
    );
}

#[test]
fn a_bye_after_an_ack_whose_branch_cannot_tell_ends_it_answered_at_the_ack() {
    let (state, progress) = run(&[response(180, 1), ack(1, false), ack(1, false), Signal::Bye]);
    assert_eq!(
        state,
        DialogState::Terminated {
            ended_at: at(4),
            disposition: Disposition::Answered,
            answer: Some(answer(2, AnswerEvidence::ByeAfterAck)),
        },
        "the first ACK's time"
    );
    assert_eq!(
        progress,
        [
            Progress::Ringing,
            Progress::Nothing,
            Progress::Nothing,
            Progress::Ended(Disposition::Answered)
        ]
    );
}

#[test]
fn a_bye_alone_before_any_answer_stays_missed() {
    assert_missed(&[
        &[Signal::Bye],
        &[response(180, 1), Signal::Bye],
        &[early_media(183), Signal::MediaBothWays, Signal::Bye],
    ]);
}

#[test]
fn media_both_ways_answers_a_call_without_early_media() {
    for signals in [
        &[Signal::MediaBothWays][..],
        &[response(180, 1), Signal::MediaBothWays],
    ] {
        let (state, progress) = run(signals);
        let end = signals.len() as u64;
        let expected = confirmed(end, AnswerEvidence::MediaBothWays);
        assert_eq!(state, expected, "{signals:?}");
        assert_eq!(progress.last(), Some(&Progress::Answered));
    }
}

#[test]
fn media_both_ways_during_early_media_is_no_answer_and_a_cancel_still_misses_it() {
    assert_missed(&[
        &[early_media(183), Signal::MediaBothWays, Signal::Cancel],
        &[
            response(180, 1),
            early_media(183),
            Signal::MediaBothWays,
            Signal::Cancel,
        ],
        &[early_media(180), Signal::MediaBothWays, response(487, 1)],
    ]);
    // The ACK of a 2xx still proves the answer of a call that had early media.
    let (state, _) = run(&[early_media(183), Signal::MediaBothWays, ack(1, true)]);
    assert_eq!(state, confirmed(3, AnswerEvidence::AckFor2xx));
}

#[test]
fn no_evidence_of_an_answer_revives_an_ended_call() {
    for end in [
        Signal::Cancel,
        response(487, 1),
        response(302, 1),
        response(486, 1),
    ] {
        let (over, _) = run(&[response(180, 1), end]);
        assert!(over.is_terminated());
        let evidence = [
            ack(1, true),
            ack(1, false),
            Signal::MediaBothWays,
            Signal::Bye,
        ];
        assert_unmoved(over, &evidence);
    }
}

#[test]
fn evidence_after_the_2xx_changes_nothing() {
    assert_unmoved(up(1), &[ack(1, true), ack(1, false), Signal::MediaBothWays]);
}

#[test]
fn a_redirection_ends_it_forwarded() {
    for status in [300, 301, 302] {
        let (state, progress) = run(&[response(180, 1), response(status, 1)]);
        assert_eq!(
            state,
            terminated(2, Disposition::Forwarded, None),
            "{status}"
        );
        assert_eq!(progress[1], Progress::Ended(Disposition::Forwarded));
    }
}

/// A SIP message of call `c1` with this top Via branch and To tag.
fn sip(start: &str, cseq: &str, branch: &str, to_tag: Option<&str>) -> Message {
    let tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let text = format!(
        "{start}\r\nVia: SIP/2.0/UDP {PROVIDER};branch={branch}\r\nFrom: <sip:15550100001@p>;tag=a\r\n\
         To: <sip:100@p>{tag}\r\nCall-ID: c1\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
    );
    parse_datagram(text.as_bytes())
        .expect("valid")
        .expect("whole")
}

#[test]
fn an_ack_is_for_a_2xx_when_its_branch_is_new_and_rfc_3261() {
    let mut branches = InviteBranches::default();
    branches.note(&sip(
        "INVITE sip:100@p SIP/2.0",
        "1 INVITE",
        "z9hG4bKinv",
        None,
    ));
    // The same INVITE forwarded by a proxy the capture also saw: a second hop's branch.
    branches.note(&sip(
        "INVITE sip:100@p SIP/2.0",
        "1 INVITE",
        "z9hG4bKhop2",
        None,
    ));
    let of = |branch: &str, tag: Option<&str>| {
        Signal::of(
            &sip("ACK sip:100@p SIP/2.0", "1 ACK", branch, tag),
            &branches,
        )
    };
    assert_eq!(of("z9hG4bKnew", Some("b")), ack(1, true));
    assert_eq!(
        of("z9hG4bKinv", Some("b")),
        ack(1, false),
        "a failure's ACK"
    );
    assert_eq!(
        of("z9hG4bKhop2", Some("b")),
        ack(1, false),
        "the other hop's"
    );
    assert_eq!(
        of("1234", Some("b")),
        ack(1, false),
        "RFC 2543: cannot tell"
    );
    assert_eq!(of("z9hG4bKnew", None), Signal::Other, "no To tag");
    let rfc2543 = {
        let mut old = InviteBranches::default();
        old.note(&sip("INVITE sip:100@p SIP/2.0", "1 INVITE", "abc", None));
        old
    };
    let ack_2543 = sip("ACK sip:100@p SIP/2.0", "1 ACK", "z9hG4bKnew", Some("b"));
    assert_eq!(
        Signal::of(&ack_2543, &rfc2543),
        ack(1, false),
        "nothing to compare"
    );
}

#[test]
fn a_call_answered_by_its_ack_keeps_the_evidence_to_its_summary() {
    let mut call = call(CallDirection::Inbound);
    let ack = sip("ACK sip:100@p SIP/2.0", "1 ACK", "z9hG4bKack", Some("b"));
    assert_eq!(call.handle_message(at(3), &ack, false), Progress::Answered);
    call.end(at(9));
    let (_, summary) = call.finish();
    assert_eq!(summary.answered_at, Some(at(3)));
    assert_eq!(summary.answered_by, Some(AnswerEvidence::AckFor2xx));
}

#[test]
fn rtp_from_both_sides_answers_the_call_at_the_second_sides_first_packet() {
    let mut call = call(CallDirection::Inbound);
    let rtp = [0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff];
    let packet = crate::rtp::RtpPacket::new_checked(&rtp).expect("RTP");
    let (progress, _) = call.handle_rtp(at(1), Channel::Remote, &packet, false);
    assert_eq!(progress, Progress::Nothing, "one way only");
    let (progress, _) = call.handle_rtp(at(2), Channel::Remote, &packet, false);
    assert_eq!(progress, Progress::Nothing, "still one way");
    let (progress, _) = call.handle_rtp(at(3), Channel::Phone, &packet, false);
    assert_eq!(progress, Progress::Answered);
    let (progress, _) = call.handle_rtp(at(4), Channel::Phone, &packet, false);
    assert_eq!(progress, Progress::Nothing, "answered once");
    assert_eq!(
        call.dialog().answer(),
        Some(answer(3, AnswerEvidence::MediaBothWays))
    );
}

#[test]
fn only_a_new_invite_after_a_redirection_is_a_call_of_its_own() {
    let mut call = call(CallDirection::Outbound);
    let retry = sip("INVITE sip:100@p SIP/2.0", "2 INVITE", "z9hG4bKb", None);
    assert!(!call.is_forwarded_by(&retry), "the call is still going");
    let moved = sip("SIP/2.0 302 Moved", "1 INVITE", "z9hG4bK1", Some("b"));
    assert_eq!(
        call.handle_message(at(1), &moved, false),
        Progress::Ended(Disposition::Forwarded)
    );
    assert!(call.is_forwarded_by(&retry));
    let again = sip("INVITE sip:100@p SIP/2.0", "1 INVITE", "z9hG4bK1", None);
    assert!(
        !call.is_forwarded_by(&again),
        "a retransmission of the first"
    );
    let in_dialog = sip(
        "INVITE sip:100@p SIP/2.0",
        "2 INVITE",
        "z9hG4bKc",
        Some("b"),
    );
    assert!(
        !call.is_forwarded_by(&in_dialog),
        "a To tag: not a new call"
    );

    let mut busy = super::call(CallDirection::Outbound);
    busy.handle_message(
        at(1),
        &sip("SIP/2.0 486 Busy", "1 INVITE", "z9hG4bK1", Some("b")),
        false,
    );
    assert!(!busy.is_forwarded_by(&retry), "only a redirection forwards");
}
