//! Hostile packets through the live bridge lab: the agent stays in the phone line. An INVITE
//! with the Content-Type that once panicked the engine, and one that panics it on purpose
//! (the test-only fault hook): the next real call is still announced, logged and recorded by
//! the same process; the panicking packet is quarantined and said, on the console too; a
//! stream of them, or timers that panic on every run, make the agent exit for systemd rather
//! than go on deaf.

use ringside_core::call::Disposition;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use bridge_agent::recovery::{EXIT_PANICKED, MAX_PANICS_PER_MINUTE};
use ringside_core::announce::{Announcement, EventKind};
use ringside_core::fault::{FAULT_HEADER, FAULT_SETTLE_CALL_ID, FAULT_TIMERS_CALL_ID};
use ringside_e2e::lab::{Lab, PHONE, PROVIDER};

use crate::lab::{answered_call, heard};

/// An INVITE from the provider to the phone, with `more` header lines (each ending in CRLF).
fn invite(call_id: &str, number: &str, more: &[u8]) -> Vec<u8> {
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 {PROVIDER}\r\ns=-\r\nc=IN IP4 {PROVIDER}\r\nt=0 0\r\n\
         m=audio 40000 RTP/AVP 0\r\n"
    );
    let mut message = format!(
        "INVITE sip:15550109999@{PHONE}:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PROVIDER}:5080;branch=z9hG4bK-{call_id}\r\n\
         From: \"Hostile\" <sip:{number}@{PROVIDER}>;tag=h1\r\n\
         To: <sip:15550109999@{PHONE}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:{number}@{PROVIDER}:5080>\r\nMax-Forwards: 70\r\n"
    )
    .into_bytes();
    message.extend_from_slice(more);
    message.extend_from_slice(format!("Content-Length: {}\r\n\r\n{sdp}", sdp.len()).as_bytes());
    message
}

/// Sends `packet` from the provider's side of the bridge to the phone's SIP port.
fn send_to_phone(lab: &Lab, packet: &[u8]) {
    let socket = lab.udp_socket("prov", &format!("{PROVIDER}:5080"));
    socket
        .send_to(packet, format!("{PHONE}:5060"))
        .expect("send through the bridge");
}

/// A LAN listener for announcements, in the phone's namespace.
fn listener(lab: &Lab) -> UdpSocket {
    let socket = lab.udp_socket("phone", "0.0.0.0:7651");
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    socket
}

/// The next announcement about `number`, skipping others (the hostile call's own ring).
fn heard_about(listener: &UdpSocket, number: &str) -> Announcement {
    loop {
        let announcement = heard(listener);
        if announcement.party.number.as_deref() == Some(number) {
            return announcement;
        }
    }
}

/// A real call from `number` after the hostile packet: announced, logged as answered and
/// recorded, by the agent still running as `pid`.
fn real_call_goes_through(lab: &mut Lab, pid: u32, number: &str) {
    let listener = listener(lab);
    answered_call(lab, 5060, number, "Real Caller", 2);
    assert_eq!(heard_about(&listener, number).event, EventKind::Ring);
    let calls = lab.wait_for_calls("the real call ends", |calls| {
        calls.iter().any(|c| {
            c.call.party.number.as_deref() == Some(number)
                && c.disposition == Some(Disposition::Answered)
        })
    });
    let call = calls
        .iter()
        .find(|c| c.call.party.number.as_deref() == Some(number))
        .expect("the real call");
    let wav = lab
        .data_dir()
        .join(call.recording.as_deref().expect("recorded"));
    let seconds = f64::from(
        hound::WavReader::open(&wav)
            .expect("a valid WAV")
            .duration(),
    ) / 8000.0;
    assert!((1.5..3.5).contains(&seconds), "{seconds} s recorded");
    assert_eq!(lab.agent_pid(), pid);
    assert!(
        lab.agent_exit(Duration::ZERO).is_none(),
        "the agent is still the same process, running"
    );
}

#[test]
fn a_hostile_content_type_leaves_the_agent_in_the_line() {
    let mut lab = Lab::new();
    lab.start_agent();
    let pid = lab.agent_pid();
    // A multibyte character across the Content-Type's tenth byte (it once panicked the SIP
    // reader and left the agent deaf).
    let hostile = invite(
        "hostile-ct@x",
        "15550100666",
        "Content-Type: aaaaaaaaaé\r\n".as_bytes(),
    );
    send_to_phone(&lab, &hostile);
    lab.wait_for_calls("the hostile INVITE is seen", |calls| {
        calls.iter().any(|c| c.call.call_id == "hostile-ct@x")
    });
    real_call_goes_through(&mut lab, pid, "15550100001");
    assert!(!lab.agent_log().contains("panicked"), "{}", lab.agent_log());
    assert!(lab.stop_agent().success());
}

/// The quarantined packets of the lab's data directory, read back with pcap-file.
fn quarantined(lab: &Lab) -> (PathBuf, Vec<Vec<u8>>) {
    let dir = lab.data_dir().join("quarantine");
    let file = std::fs::read_dir(&dir)
        .expect("a quarantine directory")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "pcap"))
        .expect("a quarantine pcap");
    let mut reader =
        pcap_file::pcap::PcapReader::new(std::fs::File::open(&file).expect("open")).expect("pcap");
    let mut packets = Vec::new();
    while let Some(packet) = reader.next_packet() {
        packets.push(packet.expect("a whole record").data.into_owned());
    }
    (file, packets)
}

/// What tshark, an independent reader, finds in a pcap: one summary line per packet.
fn tshark(file: &PathBuf) -> Option<String> {
    let output = Command::new("tshark").arg("-r").arg(file).output().ok()?;
    assert!(
        output.status.success(),
        "tshark cannot read {}",
        file.display()
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn a_panicking_invite_is_quarantined_and_the_next_call_still_goes_through() {
    let mut lab = Lab::new();
    lab.start_agent();
    assert!(
        lab.agent_log().contains("this is a test build"),
        "`ringside` lacks the fault-injection feature: build it with `cargo test --workspace`"
    );
    let pid = lab.agent_pid();
    let fault = format!("{FAULT_HEADER}: on purpose\r\nContent-Type: application/sdp\r\n");
    send_to_phone(&lab, &invite("fault-1@x", "15550100666", fault.as_bytes()));
    lab.wait_for_log("the engine panicked on a packet");
    let log = lab.agent_log();
    assert!(
        log.contains("on purpose") && log.contains("\"fault-1@x\" ended"),
        "{log}"
    );
    let calls = lab.wait_for_calls("the panicking call is settled", |calls| {
        calls
            .iter()
            .any(|c| c.call.call_id == "fault-1@x" && c.ended_at.is_some())
    });
    assert!(calls.iter().any(|c| c.call.call_id == "fault-1@x"));

    let (file, packets) = quarantined(&lab);
    assert_eq!(packets.len(), 1);
    let needle = FAULT_HEADER.as_bytes();
    assert!(packets[0].windows(needle.len()).any(|w| w == needle));
    if let Some(summary) = tshark(&file) {
        assert!(summary.contains("INVITE"), "tshark read: {summary}");
    }
    let (status, body) = lab.console_get("/api/session");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        body.contains("\"count\":1") && body.contains("on purpose"),
        "{body}"
    );

    real_call_goes_through(&mut lab, pid, "15550100002");
    assert!(lab.stop_agent().success());
}

/// The agent exits within ten seconds with the code that asks systemd for a restart.
fn assert_exits_for_systemd(lab: &mut Lab) {
    let status = lab
        .agent_exit(Duration::from_secs(10))
        .expect("the agent exits");
    assert_eq!(status.code(), Some(EXIT_PANICKED));
}

#[test]
fn a_stream_of_panicking_packets_makes_the_agent_exit_for_systemd() {
    let mut lab = Lab::new();
    lab.start_agent();
    let fault = format!("{FAULT_HEADER}: again\r\n");
    for i in 0..=MAX_PANICS_PER_MINUTE {
        send_to_phone(
            &lab,
            &invite(&format!("fault-{i}@x"), "15550100666", fault.as_bytes()),
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_exits_for_systemd(&mut lab);
    assert!(lab.agent_log().contains("panics within a minute"));
}

#[test]
fn timers_that_keep_panicking_make_the_agent_exit_for_systemd() {
    let mut lab = Lab::new();
    lab.start_agent();
    send_to_phone(&lab, &invite(FAULT_TIMERS_CALL_ID, "15550100666", b""));
    lab.wait_for_log("the engine's timers panicked");
    assert!(
        lab.agent_log().contains("1 panics survived so far"),
        "the first one is survived: {}",
        lab.agent_log()
    );
    // They come every quarter of a second: the budget is spent within three.
    assert_exits_for_systemd(&mut lab);
    assert!(lab.agent_log().contains("panics within a minute"));
}

#[test]
fn a_recovery_that_panics_too_makes_the_agent_exit_for_systemd() {
    let mut lab = Lab::new();
    lab.start_agent();
    let fault = format!("{FAULT_HEADER}: twice\r\n");
    send_to_phone(
        &lab,
        &invite(FAULT_SETTLE_CALL_ID, "15550100666", fault.as_bytes()),
    );
    assert_exits_for_systemd(&mut lab);
    let log = lab.agent_log();
    assert!(
        log.contains("recovery panicked") && log.contains("while settling"),
        "{log}"
    );
}

#[test]
fn the_console_warns_of_a_panic_the_agent_survived() {
    let mut lab = Lab::new();
    lab.start_agent();
    let mut browser = lab.browser("fault.mjs").spawn().expect("node");
    // The page is open before the fault, so the warning arrives live.
    let mut stderr = std::io::BufReader::new(browser.stderr.take().expect("stderr"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).expect("the browser's first line");
    assert_eq!(line.trim(), "ready", "the page did not open");
    let fault = format!("{FAULT_HEADER}: shown on the page\r\n");
    send_to_phone(
        &lab,
        &invite("fault-page@x", "15550100666", fault.as_bytes()),
    );
    let status = ringside_e2e::lab::wait_with_timeout(&mut browser, Duration::from_secs(40));
    let mut stdout = String::new();
    let _ = std::io::Read::read_to_string(&mut browser.stdout.take().expect("stdout"), &mut stdout);
    let _ = std::io::Read::read_to_string(&mut stderr, &mut line);
    assert!(
        status.is_some_and(|s| s.success()),
        "the browser script failed:\n{line}"
    );
    let seen: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(
        seen["hidden_before"], true,
        "no warning before the fault: {seen}"
    );
    let text = seen["fault"].as_str().unwrap_or_default();
    assert!(
        text.contains("failed 1 time")
            && text.contains("shown on the page")
            && text.contains("quarantine"),
        "{seen}"
    );
    assert_eq!(seen["page_errors"], serde_json::json!([]), "{seen}");
    assert!(lab.stop_agent().success());
}
