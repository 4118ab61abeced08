//! Calls answered although their 200 OK is not in the capture, and redirected calls: the
//! real captures that show each (judged against tshark's reading of the same packets), the
//! look-alikes that must not count (ACKs of failures and challenges, early media both
//! ways), and generated captures for what no real one shows.

use std::process::Command;
use std::time::Duration;

use bridge_agent::store::CallRecord;
use ringside_core::call::{AnswerEvidence, CallDirection, Disposition};
use ringside_e2e::process::stdout_of;
use ringside_synth::{Outcome, SynthCall, Unseen};

use crate::generated::{replay_calls, EPOCH};
use crate::support::{captures_dir, replay_shared};

/// tshark's fields (`-e`) of the SIP packets of a shared capture that match `filter`, one
/// line per packet, tab-separated.
fn tshark_sip(capture: &str, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut command = Command::new("tshark");
    command
        .arg("-r")
        .arg(captures_dir().join(capture))
        .args(["-Y", filter, "-T", "fields"]);
    for field in fields {
        command.args(["-e", field]);
    }
    stdout_of(&mut command)
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

/// A tshark `frame.time_epoch` in whole microseconds, as the call log keeps times.
fn micros(epoch: &str) -> i128 {
    let (seconds, fraction) = epoch.split_once('.').expect("seconds.fraction");
    let fraction = format!("{fraction:0<6}");
    seconds.parse::<i128>().expect("seconds") * 1_000_000
        + fraction[..6].parse::<i128>().expect("microseconds")
}

fn answered_micros(call: &CallRecord) -> i128 {
    let at = call.call.answered_at.expect("answered");
    at.unix_timestamp_nanos() / 1000
}

#[test]
fn a_one_way_mirror_that_missed_the_200_logs_the_call_answered_by_its_ack() {
    let capture = "wireshark-wiki/port-16_vlan24_200.pcap";
    let replayed = replay_shared(capture);
    let [call] = replayed.calls.as_slice() else {
        panic!("one call: {:#?}", replayed.calls);
    };
    assert_eq!(call.disposition, Some(Disposition::Answered));
    assert_eq!(call.answered_by, Some(AnswerEvidence::AckFor2xx));
    // tshark: no response at all; an INVITE, then an ACK with a To tag on a branch of its
    // own (a 2xx's), then a BYE. The answer is the ACK's time.
    let fields = [
        "frame.time_epoch",
        "sip.Method",
        "sip.Via.branch",
        "sip.to.tag",
    ];
    let sip = tshark_sip(capture, "sip", &fields);
    let methods: Vec<&str> = sip.iter().map(|p| p[1].as_str()).collect();
    assert_eq!(methods, ["INVITE", "ACK", "BYE"], "{sip:?}");
    let (invite, ack) = (&sip[0], &sip[1]);
    assert_ne!(invite[2], ack[2], "a new branch");
    assert!(!ack[3].is_empty(), "a To tag");
    assert_eq!(answered_micros(call), micros(&ack[0]));
}

#[test]
fn a_302_is_forwarded_and_the_call_it_asked_for_is_logged_on_its_own() {
    let capture = "wireshark-wiki/filenameGRE199---fax-iz-InLife-G711---OK!!!.cap";
    let replayed = replay_shared(capture);
    let fields = ["sip.Call-ID", "sip.contact.user"];
    let redirects = tshark_sip(capture, "sip.Status-Code == 302", &fields);
    let [redirect] = redirects.as_slice() else {
        panic!("tshark finds one 302: {redirects:?}");
    };
    let forwarded: Vec<&CallRecord> = replayed
        .calls
        .iter()
        .filter(|c| c.disposition == Some(Disposition::Forwarded))
        .collect();
    let [forwarded] = forwarded.as_slice() else {
        panic!("one forwarded call: {:#?}", replayed.calls);
    };
    assert_eq!(forwarded.call.call_id, redirect[0]);
    assert_eq!(forwarded.answered_by, None);
    // The next INVITE goes to the 302's Contact (980838615500003 behind the PBX's 9997
    // prefix), under a Call-ID of its own: logged as a call of its own, answered.
    let after = tshark_sip(
        capture,
        "sip.Method == INVITE && frame.number > 32 && frame.number < 40",
        &["sip.Call-ID", "sip.r-uri.user"],
    );
    assert!(
        after[0][1].ends_with(&redirect[1]),
        "{after:?} {redirect:?}"
    );
    let follow_up = replayed
        .calls
        .iter()
        .find(|c| c.call.call_id == after[0][0])
        .expect("the forwarded call is logged");
    assert_eq!(follow_up.disposition, Some(Disposition::Answered));
    assert_eq!(follow_up.answered_by, Some(AnswerEvidence::Ok200));
}

#[test]
fn acks_of_failures_and_of_challenges_never_answer_a_call() {
    // tshark: none of these has a 2xx to an INVITE; each ACKs a failure (487, 486, 603,
    // 407, 403, 480, 408) on the INVITE's branch.
    for capture in [
        "sngrep/aaa.pcap",
        "pkts/cancel.pcap",
        "mtaa-illyaluntik/cancel-not-accepted.pcap",
        "mtaa-illyaluntik/call.pcap",
        "mtaa-kastler/ukoncenie-neprijateho-hovoru.pcapng",
    ] {
        let ok = tshark_sip(
            capture,
            "sip.Status-Code >= 200 && sip.Status-Code < 300 && sip.CSeq.method == INVITE",
            &["frame.number"],
        );
        assert!(ok.is_empty(), "{capture}: tshark finds a 2xx: {ok:?}");
        let acks = tshark_sip(capture, "sip.Method == ACK", &["frame.number"]);
        assert!(!acks.is_empty(), "{capture}: ACKs to judge");
        let replayed = replay_shared(capture);
        assert!(!replayed.calls.is_empty(), "{capture}");
        for call in &replayed.calls {
            assert_ne!(call.disposition, Some(Disposition::Answered), "{capture}");
            assert_eq!(call.answered_by, None, "{capture}: {call:#?}");
        }
    }
    // Challenged calls that were answered: the 401/407's ACK does not answer them early.
    for capture in [
        "wireshark-wiki/MagicJack-_short_call.pcap",
        "wireshark-wiki/rtp_conversacion.pcap",
    ] {
        let replayed = replay_shared(capture);
        let [call] = replayed.calls.as_slice() else {
            panic!("{capture}: one call: {:#?}", replayed.calls);
        };
        assert_eq!(call.answered_by, Some(AnswerEvidence::Ok200), "{capture}");
    }
}

#[test]
fn early_media_both_ways_does_not_answer_a_call_before_its_200() {
    // tshark: a 183 with SDP, then RTP both ways (ringback, and the phone's) seconds before
    // the 200 OK. The call is answered at the 200, by the 200.
    for capture in [
        "wireshark-wiki/MagicJack-_short_call.pcap",
        "wireshark-wiki/1filtered.cap",
    ] {
        let ok = tshark_sip(
            capture,
            "sip.Status-Code == 200 && sip.CSeq.method == INVITE",
            &["frame.time_epoch", "sip.Call-ID"],
        );
        let early = tshark_sip(capture, "sip.Status-Code == 183", &["sip.Call-ID"]);
        let replayed = replay_shared(capture);
        let mut judged = 0;
        for answer in &ok {
            let Some(call) = replayed.calls.iter().find(|c| c.call.call_id == answer[1]) else {
                continue;
            };
            assert!(
                early.iter().any(|e| e[0] == answer[1]),
                "{capture}: early media"
            );
            assert_eq!(call.answered_by, Some(AnswerEvidence::Ok200), "{capture}");
            assert_eq!(answered_micros(call), micros(&answer[0]), "{capture}");
            judged += 1;
        }
        assert!(judged > 0, "{capture}: no answered call to judge");
    }
    // How long the early media flowed both ways before the 200 in MagicJack's capture.
    let capture = "wireshark-wiki/MagicJack-_short_call.pcap";
    let first_rtp = tshark_sip(capture, "rtp", &["frame.time_epoch"]);
    let ok = tshark_sip(
        capture,
        "sip.Status-Code == 200 && sip.CSeq.method == INVITE",
        &["frame.time_epoch"],
    );
    let lead = (micros(&ok[0][0]) - micros(&first_rtp[0][0])) as f64 / 1e6;
    assert!(lead > 8.0, "RTP began {lead} s before the 200");
}

/// The time `after` the start of a generated capture, in microseconds since 1970.
fn capture_micros(after: Duration) -> i128 {
    (EPOCH + after).as_micros() as i128
}

#[test]
fn a_call_whose_200_the_capture_lacks_is_answered_by_what_followed_it() {
    let ring = Duration::from_secs(2);
    for (missing, by, answered_after) in [
        (
            Unseen::Ok200,
            AnswerEvidence::AckFor2xx,
            ring + Duration::from_millis(20),
        ),
        (
            Unseen::Ok200AndAck,
            AnswerEvidence::MediaBothWays,
            ring + Duration::from_millis(30),
        ),
        (
            Unseen::Ok200WithSloppyAck,
            AnswerEvidence::ByeAfterAck,
            ring + Duration::from_millis(20),
        ),
    ] {
        for direction in [CallDirection::Inbound, CallDirection::Outbound] {
            let mut call = SynthCall::inbound(1, "15550100001", Some("Unseen"));
            call.direction = direction;
            call.outcome = Outcome::AnsweredUnseen {
                talk: Duration::from_secs(3),
                missing,
            };
            let replayed = replay_calls(&[call]);
            let [logged] = replayed.calls.as_slice() else {
                panic!("one call: {:#?}", replayed.calls);
            };
            let what = format!("{missing:?} {direction:?}");
            assert_eq!(logged.disposition, Some(Disposition::Answered), "{what}");
            assert_eq!(logged.answered_by, Some(by), "{what}");
            assert_eq!(
                answered_micros(logged),
                capture_micros(answered_after),
                "{what}"
            );
            let (left, _) = replayed.recording(logged);
            let seconds = left.len() as f64 / 8000.0;
            assert!(
                (2.8..3.5).contains(&seconds),
                "{what}: {seconds} s recorded"
            );
        }
    }
}

#[test]
fn a_redirected_call_is_forwarded_and_its_retry_under_the_same_call_id_a_call_of_its_own() {
    let mut alone = SynthCall::inbound(1, "15550100001", Some("Forwarded"));
    alone.outcome = Outcome::Redirected { retry: None };
    let mut followed = SynthCall::inbound(2, "15550100002", Some("Followed"));
    followed.direction = CallDirection::Outbound;
    followed.start = Duration::from_secs(10);
    followed.outcome = Outcome::Redirected {
        retry: Some(Duration::from_secs(3)),
    };
    let replayed = replay_calls(&[alone, followed]);
    let summary: Vec<(&str, Option<Disposition>)> = replayed
        .calls
        .iter()
        .rev()
        .map(|c| (c.call.call_id.as_str(), c.disposition))
        .collect();
    assert_eq!(
        summary,
        [
            ("synth-1@203.0.113.5", Some(Disposition::Forwarded)),
            ("synth-2@203.0.113.5", Some(Disposition::Forwarded)),
            ("synth-2@203.0.113.5", Some(Disposition::Answered)),
        ],
        "the caller's retry is a call of its own, under the same Call-ID"
    );
    let retry = &replayed.calls[0];
    assert_eq!(retry.answered_by, Some(AnswerEvidence::Ok200));
    assert!(retry.recording.is_some(), "the forwarded call is recorded");
}
