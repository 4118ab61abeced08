//! SIP over TCP through the live bridge (NFQUEUE, sipp with `-t t1` on both sides): the call
//! is read, and a caller a filter would block still rings, since a TCP segment is never
//! dropped; the agent says so in its log.

use ringside_core::call::Disposition;
use std::time::Duration;

use ringside_core::announce::EventKind;
use ringside_e2e::lab::Lab;

use crate::lab::{call, from_provider, heard, path, phone_answers};

#[test]
fn a_caller_a_filter_blocks_over_tcp_rings_is_answered_logged_and_announced() {
    let mut lab = Lab::new();
    lab.ringside(&[
        "filters",
        "add",
        "--match",
        "15550100777",
        "--action",
        "block",
    ]);
    lab.start_agent();
    let listener = lab.udp_socket("phone", "0.0.0.0:7651");
    listener
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let audio = lab.tone_pcap("tone.pcap", 500.0, 2);
    let mut phone = phone_answers(5060, path(&audio));
    phone.args.extend(["-t".to_owned(), "t1".to_owned()]);
    let tcp = ["-t", "t1", "-key", "talk_pcap", path(&audio), "-d", "2000"];
    let provider = from_provider("provider_calls.xml", 5060, "15550100777", "Over Tcp", &tcp);
    call(&lab, Some(&phone), &provider);
    assert_eq!(heard(&listener).event, EventKind::Ring, "announced");
    let calls = lab.wait_for_calls("the call logged", |calls| {
        calls.iter().any(|c| c.ended_at.is_some())
    });
    let logged = &calls[0];
    assert_eq!(logged.call.party.number.as_deref(), Some("15550100777"));
    assert_eq!(
        logged.disposition,
        Some(Disposition::Answered),
        "{logged:#?}"
    );
    assert_eq!(logged.blocked_by, None);
    let log = lab.agent_log();
    assert_eq!(
        log.matches("a filter would block this call, but it came over TCP")
            .count(),
        1,
        "one warning for the call:\n{log}"
    );
}
