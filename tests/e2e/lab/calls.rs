//! Calls through the live lab.

use std::time::Duration;

use ringside_core::announce::{decode, EventKind};

use super::{wait_with_timeout, Lab, PHONE, PROVIDER};
use crate::support::assert_tone;

/// Reads a WAV of the lab's data directory as (left, right).
fn channels(lab: &Lab, relative: &str) -> (Vec<i16>, Vec<i16>) {
    let reader = hound::WavReader::open(lab.data_dir().join(relative)).expect("a valid WAV");
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let samples: Vec<i16> = reader
        .into_samples()
        .collect::<Result<_, _>>()
        .expect("samples");
    samples.chunks_exact(2).map(|f| (f[0], f[1])).unzip()
}

/// One sipp run: which namespace, which scenario, its arguments.
struct Side<'a> {
    ns: &'a str,
    scenario: &'a str,
    args: Vec<String>,
}

fn args<'s>(side: &'s Side<'_>) -> Vec<&'s str> {
    side.args.iter().map(String::as_str).collect()
}

impl<'a> Side<'a> {
    fn new(ns: &'a str, scenario: &'a str, args: &[&str]) -> Side<'a> {
        Side {
            ns,
            scenario,
            args: args.iter().map(|&a| a.to_owned()).collect(),
        }
    }
}

/// Runs a callee, then a caller, and waits for both; panics with sipp's reports on failure.
fn call(lab: &Lab, callee: Option<&Side<'_>>, caller: &Side<'_>) {
    let mut callee_process = callee.map(|side| lab.sipp(side.ns, side.scenario, &args(side)));
    std::thread::sleep(Duration::from_millis(300));
    let mut caller_process = lab.sipp(caller.ns, caller.scenario, &args(caller));
    let status = wait_with_timeout(&mut caller_process, Duration::from_secs(40));
    assert!(
        status.is_some_and(|s| s.success()),
        "the caller's side ({}) failed\n{}",
        caller.scenario,
        lab.reports()
    );
    if let Some(process) = callee_process.as_mut() {
        let status = wait_with_timeout(process, Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "the callee's side failed\n{}",
            lab.reports()
        );
    }
}

/// The provider's INVITE from `number`/`name` to the phone at `port`.
fn from_provider(
    scenario: &str,
    port: u16,
    number: &str,
    name: &str,
    extra: &[&str],
) -> Side<'static> {
    let scenario: &'static str = Box::leak(scenario.to_owned().into_boxed_str());
    let mut args = vec![
        format!("{PHONE}:{port}"),
        "-i".into(),
        PROVIDER.into(),
        "-p".into(),
        "5060".into(),
        "-m".into(),
        "1".into(),
        "-s".into(),
        "15550109999".into(),
        "-key".into(),
        "from_user".into(),
        number.into(),
        "-key".into(),
        "from_name".into(),
        name.into(),
    ];
    args.extend(extra.iter().map(|&a| a.to_owned()));
    Side {
        ns: "prov",
        scenario,
        args,
    }
}

/// The phone answering on `port` after a second, sending `audio`.
fn phone_answers(port: u16, audio: &str) -> Side<'static> {
    let port = port.to_string();
    Side::new(
        "phone",
        "phone_answers.xml",
        &[
            "-i",
            PHONE,
            "-p",
            &port,
            "-m",
            "1",
            "-d",
            "1000",
            "-key",
            "talk_pcap",
            audio,
        ],
    )
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8")
}

/// The next announcement heard on the LAN.
fn heard(listener: &std::net::UdpSocket) -> ringside_core::announce::Announcement {
    let mut buffer = [0u8; 4096];
    let n = listener
        .recv(&mut buffer)
        .expect("an announcement on the LAN");
    decode(&buffer[..n], None).expect("a Ringside announcement")
}

#[test]
fn an_inbound_call_is_announced_logged_and_recorded_in_stereo() {
    let mut lab = Lab::new();
    lab.ringside(&["phonebook", "set", "15550100001", "Mom"]);
    lab.start_agent();
    let listener = lab.udp_socket("phone", "0.0.0.0:7651");
    listener
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let remote = lab.tone_pcap("remote.pcap", 440.0, 4);
    let phone_audio = lab.tone_pcap("phone.pcap", 1000.0, 4);
    call(
        &lab,
        Some(&phone_answers(5060, path(&phone_audio))),
        &from_provider(
            "provider_calls.xml",
            5060,
            "15550100001",
            "WIRELESS CALLER",
            &["-key", "talk_pcap", path(&remote), "-d", "4500"],
        ),
    );
    let ring = heard(&listener);
    assert_eq!(ring.event, EventKind::Ring);
    assert_eq!(ring.number.as_deref(), Some("15550100001"));
    assert_eq!(ring.name.as_deref(), Some("WIRELESS CALLER"));
    assert_eq!(ring.display.as_deref(), Some("Mom"));
    assert_eq!(heard(&listener).event, EventKind::Answered);
    assert_eq!(heard(&listener).event, EventKind::Ended);

    let calls = lab.wait_for_calls("the call ends", |calls| {
        calls.len() == 1 && calls[0].disposition.as_deref() == Some("answered")
    });
    let call = &calls[0];
    assert_eq!(call.direction, "inbound");
    assert_eq!(call.display.as_deref(), Some("Mom"));
    let (left, right) = channels(&lab, call.recording.as_deref().expect("a recording"));
    let seconds = left.len() as f64 / 8000.0;
    assert!((3.5..6.0).contains(&seconds), "{seconds} s recorded");
    assert_tone(
        &left[4000..20_000],
        440.0,
        &[1000.0],
        "the provider's side (left)",
    );
    assert_tone(
        &right[4000..20_000],
        1000.0,
        &[440.0],
        "the phone's side (right)",
    );
    assert!(lab.stop_agent().success());
}

#[test]
fn an_outbound_call_from_the_phone_is_logged_with_the_dialled_number() {
    let mut lab = Lab::new();
    lab.start_agent();
    let phone_audio = lab.tone_pcap("phone.pcap", 1000.0, 3);
    let remote = lab.tone_pcap("remote.pcap", 660.0, 3);
    let provider = Side::new(
        "prov",
        "phone_answers.xml",
        &[
            "-i",
            PROVIDER,
            "-p",
            "5060",
            "-m",
            "1",
            "-d",
            "500",
            "-key",
            "talk_pcap",
            path(&remote),
        ],
    );
    let phone = Side::new(
        "phone",
        "provider_calls.xml",
        &[
            &format!("{PROVIDER}:5060"),
            "-i",
            PHONE,
            "-p",
            "5060",
            "-m",
            "1",
            "-s",
            "15550100004",
            "-key",
            "from_user",
            "15550109999",
            "-key",
            "from_name",
            "Home",
            "-key",
            "talk_pcap",
            path(&phone_audio),
            "-d",
            "3000",
        ],
    );
    call(&lab, Some(&provider), &phone);
    let calls = lab.wait_for_calls("the call ends", |calls| {
        calls.len() == 1 && calls[0].disposition.is_some()
    });
    let call = &calls[0];
    assert_eq!(call.direction, "outbound");
    assert_eq!(call.number.as_deref(), Some("15550100004"));
    assert_eq!(call.caller_id_source, "to");
    assert_eq!(call.disposition.as_deref(), Some("answered"));
    let (left, right) = channels(&lab, call.recording.as_deref().expect("a recording"));
    assert_tone(&left[4000..16_000], 660.0, &[1000.0], "the far end (left)");
    assert_tone(&right[4000..16_000], 1000.0, &[660.0], "the phone (right)");
}

#[test]
fn an_anonymous_caller_is_blocked_with_busy_then_decline_and_the_phone_never_rings() {
    let mut lab = Lab::new();
    lab.ringside(&[
        "filters",
        "add",
        "--match",
        "anonymous",
        "--action",
        "block",
    ]);
    lab.start_agent();
    let phone = lab.udp_socket("phone", &format!("{PHONE}:5060"));
    phone
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let listener = lab.udp_socket("phone", "0.0.0.0:7651");
    listener
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    call(
        &lab,
        None,
        &from_provider("provider_blocked.xml", 5060, "anonymous", "Anonymous", &[]),
    );
    lab.ringside(&["settings", "set", "block_response", "decline"]);
    std::thread::sleep(Duration::from_millis(800));
    call(
        &lab,
        None,
        &from_provider("provider_blocked.xml", 5060, "anonymous", "Anonymous", &[]),
    );
    let mut buffer = [0u8; 4096];
    assert!(
        phone.recv(&mut buffer).is_err(),
        "the phone received a blocked INVITE"
    );
    assert!(
        listener.recv(&mut buffer).is_err(),
        "a blocked call was announced"
    );
    let reports = lab.reports();
    assert!(reports.contains("486 Busy Here"), "no 486:\n{reports}");
    assert!(reports.contains("603 Decline"), "no 603:\n{reports}");
    let calls = lab.wait_for_calls("both calls logged", |calls| calls.len() == 2);
    for call in &calls {
        assert!(call.anonymous);
        assert_eq!(call.disposition.as_deref(), Some("blocked"));
        assert_eq!(call.blocked_by.as_deref(), Some("block number anonymous"));
    }
}

#[test]
fn a_whitelist_lets_one_caller_ring_and_blocks_another() {
    let mut lab = Lab::new();
    lab.ringside(&["filters", "add", "--match", "1555*", "--action", "allow"]);
    lab.ringside(&["filters", "add", "--match", "*", "--action", "block"]);
    lab.start_agent();
    let audio = lab.tone_pcap("tone.pcap", 500.0, 1);
    call(
        &lab,
        Some(&phone_answers(5060, path(&audio))),
        &from_provider(
            "provider_calls.xml",
            5060,
            "15550100001",
            "Friend",
            &["-key", "talk_pcap", path(&audio), "-d", "1000"],
        ),
    );
    call(
        &lab,
        None,
        &from_provider(
            "provider_blocked.xml",
            5060,
            "12125550100",
            "Telemarketer",
            &[],
        ),
    );
    let calls = lab.wait_for_calls("both calls end", |calls| {
        calls.len() == 2 && calls.iter().all(|c| c.disposition.is_some())
    });
    let by = |number: &str| {
        calls
            .iter()
            .find(|c| c.number.as_deref() == Some(number))
            .expect("logged")
    };
    assert_eq!(by("15550100001").disposition.as_deref(), Some("answered"));
    assert_eq!(by("12125550100").disposition.as_deref(), Some("blocked"));
    assert_eq!(by("12125550100").blocked_by_filter, Some(2));
}

#[test]
fn a_caller_who_hangs_up_before_an_answer_is_missed_and_announced_as_missed() {
    let mut lab = Lab::new();
    lab.start_agent();
    let listener = lab.udp_socket("phone", "0.0.0.0:7651");
    listener
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let phone = Side::new(
        "phone",
        "phone_rings.xml",
        &["-i", PHONE, "-p", "5060", "-m", "1"],
    );
    call(
        &lab,
        Some(&phone),
        &from_provider(
            "provider_cancels.xml",
            5060,
            "15550100002",
            "Gave Up",
            &["-d", "1500"],
        ),
    );
    assert_eq!(heard(&listener).event, EventKind::Ring);
    let missed = heard(&listener);
    assert_eq!(missed.event, EventKind::Missed);
    assert_eq!(missed.number.as_deref(), Some("15550100002"));
    let calls = lab.wait_for_calls("the call ends", |calls| {
        calls.len() == 1 && calls[0].disposition.is_some()
    });
    assert_eq!(calls[0].disposition.as_deref(), Some("missed"));
    assert_eq!(calls[0].answered_at, None);
}

#[test]
fn sip_on_udp_port_10000_is_read() {
    let mut lab = Lab::new();
    lab.start_agent();
    let audio = lab.tone_pcap("tone.pcap", 700.0, 2);
    call(
        &lab,
        Some(&phone_answers(10_000, path(&audio))),
        &from_provider(
            "provider_calls.xml",
            10_000,
            "15550100003",
            "Vonage Style",
            &["-key", "talk_pcap", path(&audio), "-d", "2000"],
        ),
    );
    let calls = lab.wait_for_calls("the call ends", |calls| {
        calls.len() == 1 && calls[0].disposition.is_some()
    });
    assert_eq!(calls[0].number.as_deref(), Some("15550100003"));
    assert_eq!(calls[0].disposition.as_deref(), Some("answered"));
    assert!(calls[0].recording.is_some());
}
