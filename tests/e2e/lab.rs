//! Calls through the live bridge lab (`ringside_e2e::lab`): real NFQUEUE, bridge and sipp.

use ringside_core::call::Disposition;
use ringside_core::call::{CallDirection, DirectionSource};
use ringside_core::caller_id::CallerIdSource;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ringside_core::announce::{decode, EventKind};

use crate::support::{assert_tone, wait_until};
use ringside_e2e::lab::{wait_with_timeout, Lab, PHONE, PROVIDER};

/// The scheduling policy (`/proc/.../stat` field 41) of the agent's queue thread; `None`
/// until the thread has named itself (a new thread sets its name once it runs).
fn queue_thread_policy(pid: u32) -> Option<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("tasks");
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == "ringside-queue" {
            let stat = std::fs::read_to_string(task.path().join("stat")).expect("stat");
            // Fields after the command name, which is in parentheses.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            return after
                .split_whitespace()
                .nth(41 - 3)
                .and_then(|p| p.parse().ok());
        }
    }
    None
}

/// Polls the queue thread's scheduling policy every 20 ms until the flag is cleared; the
/// thread returns the policies seen.
fn watch_queue_thread_policy(
    pid: u32,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<BTreeSet<u32>>) {
    let watching = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&watching);
    let watcher = std::thread::spawn(move || {
        let mut seen = BTreeSet::new();
        while flag.load(Ordering::Relaxed) {
            seen.extend(queue_thread_policy(pid));
            std::thread::sleep(Duration::from_millis(20));
        }
        seen
    });
    (watching, watcher)
}

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
pub(crate) struct Side<'a> {
    ns: &'a str,
    scenario: &'a str,
    pub(crate) args: Vec<String>,
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
pub(crate) fn call(lab: &Lab, answering: Option<&Side<'_>>, calling: &Side<'_>) {
    let mut answering_process = answering.map(|side| lab.sipp(side.ns, side.scenario, &args(side)));
    std::thread::sleep(Duration::from_millis(300));
    let mut calling_process = lab.sipp(calling.ns, calling.scenario, &args(calling));
    let status = wait_with_timeout(&mut calling_process, Duration::from_secs(40));
    assert!(
        status.is_some_and(|s| s.success()),
        "the caller's side ({}) failed\n{}",
        calling.scenario,
        lab.reports()
    );
    if let Some(process) = answering_process.as_mut() {
        let status = wait_with_timeout(process, Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "the callee's side failed\n{}",
            lab.reports()
        );
    }
}

/// The provider's INVITE from `number`/`name` to the phone at `port`.
pub(crate) fn from_provider(
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
pub(crate) fn phone_answers(port: u16, audio: &str) -> Side<'static> {
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

/// An inbound call from `number` that the phone answers on `port`, both sides sending the
/// same tone for `seconds`.
pub(crate) fn answered_call(lab: &Lab, port: u16, number: &str, name: &str, seconds: u64) {
    let audio = lab.tone_pcap(&format!("tone-{number}.pcap"), 500.0, seconds);
    let talk = (seconds * 1000).to_string();
    call(
        lab,
        Some(&phone_answers(port, path(&audio))),
        &from_provider(
            "provider_calls.xml",
            port,
            number,
            name,
            &["-key", "talk_pcap", path(&audio), "-d", &talk],
        ),
    );
}

pub(crate) fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8")
}

/// The next announcement heard on the LAN.
pub(crate) fn heard(listener: &std::net::UdpSocket) -> ringside_core::announce::Announcement {
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
    // The agent drops root for `nobody`, who must reach the data directory.
    std::fs::set_permissions(
        lab.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    lab.start_agent_with("user = \"nobody\"\n");
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", lab.agent_pid())).expect("status");
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .expect("Uid line");
    assert!(
        uid.split_whitespace().skip(1).all(|id| id == "65534"),
        "still root: {uid}"
    );
    let pid = lab.agent_pid();
    wait_until(
        "the queue thread, at the normal priority while no call is in progress",
        || queue_thread_policy(pid) == Some(0),
    );
    let (watching, policies_seen) = watch_queue_thread_policy(pid);
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
    assert_eq!(ring.party.number.as_deref(), Some("15550100001"));
    assert_eq!(ring.party.name.as_deref(), Some("WIRELESS CALLER"));
    assert_eq!(ring.party.display.as_deref(), Some("Mom"));
    assert_eq!(heard(&listener).event, EventKind::Answered);
    assert_eq!(heard(&listener).event, EventKind::Ended);

    let calls = lab.wait_for_calls("the call ends", |calls| {
        calls.len() == 1 && calls[0].disposition == Some(Disposition::Answered)
    });
    watching.store(false, Ordering::Relaxed);
    let seen = policies_seen.join().expect("the policy watcher");
    assert!(
        seen.contains(&1),
        "SCHED_FIFO while the call was up: {seen:?}"
    );
    wait_until("the queue thread is back at the normal priority", || {
        queue_thread_policy(pid) == Some(0)
    });
    let call = &calls[0];
    assert_eq!(call.call.direction, CallDirection::Inbound);
    assert_eq!(
        call.call.direction_source,
        Some(DirectionSource::BridgePort)
    );
    assert_eq!(call.call.party.display.as_deref(), Some("Mom"));
    let (status, body) = lab.console_get("/api/calls");
    assert_eq!(status, "HTTP/1.1 200 OK", "the agent serves its console");
    assert!(body.contains("\"display\":\"Mom\""), "{body}");
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
    assert_eq!(call.call.direction, CallDirection::Outbound);
    assert_eq!(
        call.call.direction_source,
        Some(DirectionSource::BridgePort)
    );
    assert_eq!(call.call.party.number.as_deref(), Some("15550100004"));
    assert_eq!(call.caller_id_source, CallerIdSource::To);
    assert_eq!(call.disposition, Some(Disposition::Answered));
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
        assert!(call.call.party.is_withheld());
        assert_eq!(call.disposition, Some(Disposition::Blocked));
        assert_eq!(call.blocked_by.as_deref(), Some("block number anonymous"));
    }
}

#[test]
fn a_whitelist_lets_one_caller_ring_and_blocks_another() {
    let mut lab = Lab::new();
    lab.ringside(&["filters", "add", "--match", "1555*", "--action", "allow"]);
    lab.ringside(&["filters", "add", "--match", "*", "--action", "block"]);
    lab.start_agent();
    answered_call(&lab, 5060, "15550100001", "Friend", 1);
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
            .find(|c| c.call.party.number.as_deref() == Some(number))
            .expect("logged")
    };
    assert_eq!(by("15550100001").disposition, Some(Disposition::Answered));
    assert_eq!(by("12125550100").disposition, Some(Disposition::Blocked));
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
    assert_eq!(missed.party.number.as_deref(), Some("15550100002"));
    let calls = lab.wait_for_calls("the call ends", |calls| {
        calls.len() == 1 && calls[0].disposition.is_some()
    });
    assert_eq!(calls[0].disposition, Some(Disposition::Missed));
    assert_eq!(calls[0].call.answered_at, None);
}

#[test]
fn sip_on_udp_port_10000_is_read() {
    let mut lab = Lab::new();
    lab.start_agent();
    answered_call(&lab, 10_000, "15550100003", "Vonage Style", 2);
    let calls = lab.wait_for_calls("the call ends", |calls| {
        calls.len() == 1 && calls[0].disposition.is_some()
    });
    assert_eq!(calls[0].call.party.number.as_deref(), Some("15550100003"));
    assert_eq!(calls[0].disposition, Some(Disposition::Answered));
    assert!(calls[0].recording.is_some());
}

/// An 8-second call with a tone each way, started and left running: (phone, provider).
fn start_long_call(lab: &Lab, seconds: u64) -> (std::process::Child, std::process::Child) {
    let remote = lab.tone_pcap("remote.pcap", 440.0, seconds);
    let phone_audio = lab.tone_pcap("phone.pcap", 1000.0, seconds);
    let answering = phone_answers(5060, path(&phone_audio));
    let calling = from_provider(
        "provider_calls.xml",
        5060,
        "15550100001",
        "Mom",
        &[
            "-key",
            "talk_pcap",
            path(&remote),
            "-d",
            &(seconds * 1000).to_string(),
        ],
    );
    let phone = lab.sipp("phone", answering.scenario, &args(&answering));
    std::thread::sleep(Duration::from_millis(300));
    let provider = lab.sipp("prov", calling.scenario, &args(&calling));
    (phone, provider)
}

/// Waits for both sides of a call started by [`start_long_call`] to finish well.
fn finish_long_call(
    lab: &Lab,
    (mut phone, mut provider): (std::process::Child, std::process::Child),
) {
    let status = wait_with_timeout(&mut provider, Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "the call broke\n{}",
        lab.reports()
    );
    let status = wait_with_timeout(&mut phone, Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "the phone's side broke\n{}",
        lab.reports()
    );
}

/// The one call of the log, answered, with a recording of `seconds` (range) with both tones.
fn assert_partial_recording(lab: &Lab, seconds: std::ops::Range<f64>) {
    let calls = lab.wait_for_calls("the call is in the log", |calls| {
        calls.len() == 1 && calls[0].disposition.is_some()
    });
    let call = &calls[0];
    assert_eq!(call.call.party.number.as_deref(), Some("15550100001"));
    assert_eq!(call.disposition, Some(Disposition::Answered));
    let (left, right) = channels(lab, call.recording.as_deref().expect("a recording"));
    let length = left.len() as f64 / 8000.0;
    assert!(seconds.contains(&length), "{length} s recorded");
    assert_tone(&left[..8000], 440.0, &[1000.0], "left");
    assert_tone(&right[..8000], 1000.0, &[440.0], "right");
}

#[test]
fn a_killed_agent_never_cuts_the_call_and_its_recording_survives() {
    let mut lab = Lab::new();
    lab.start_agent();
    let call = start_long_call(&lab, 8);
    std::thread::sleep(Duration::from_millis(4500));
    lab.kill_agent();
    finish_long_call(&lab, call);
    // After a restart: the header mended, the call settled as answered.
    lab.start_agent();
    assert_partial_recording(&lab, 1.0..4.5);
}

#[test]
fn sigterm_logs_the_call_in_progress_and_closes_its_recording() {
    let mut lab = Lab::new();
    lab.start_agent();
    let call = start_long_call(&lab, 8);
    std::thread::sleep(Duration::from_millis(4500));
    assert!(lab.stop_agent().success(), "a clean exit");
    assert!(lab
        .agent_log()
        .contains("ending calls and closing recordings"));
    finish_long_call(&lab, call);
    assert_partial_recording(&lab, 2.0..4.5);
    let calls = lab.calls();
    assert!(
        calls[0].ended_at.is_some(),
        "ended at shutdown: {:?}",
        calls[0]
    );
}

/// The agent's resident memory, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("agent status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// 10,000 INVITEs, each its own call, from `port` (a second flood uses another port so its
/// Call-IDs differ from the first's).
fn flood(lab: &Lab, port: &str) {
    let flood = Side::new(
        "prov",
        "flood.xml",
        &[
            &format!("{PHONE}:5070"),
            "-i",
            PROVIDER,
            "-p",
            port,
            "-m",
            "10000",
            "-r",
            "2500",
            "-s",
            "15550109999",
            "-key",
            "from_user",
            "12125550100",
            "-key",
            "from_name",
            "Flood",
        ],
    );
    call(lab, None, &flood);
}

#[test]
fn a_flood_of_invites_keeps_memory_bounded_and_real_calls_get_through() {
    let mut lab = Lab::new();
    lab.start_agent();
    let idle = resident_kib(lab.agent_pid());
    flood(&lab, "5062");
    let one_flood = resident_kib(lab.agent_pid());
    flood(&lab, "5064");
    let two_floods = resident_kib(lab.agent_pid());
    answered_call(&lab, 5060, "15550100001", "Real Caller", 1);
    let calls = lab.wait_for_calls("the real call ends", |calls| {
        calls.iter().any(|c| {
            c.call.party.number.as_deref() == Some("15550100001")
                && c.disposition == Some(Disposition::Answered)
        })
    });
    // Past the 10,000-call table, so the oldest unanswered calls were evicted. (Under such
    // load some INVITEs pass unseen through the bypass and some log copies are dropped, by
    // design: the packet path never waits.)
    assert!(
        calls.len() > 10_000,
        "the floods were seen: {} calls",
        calls.len()
    );
    eprintln!("agent memory: idle {idle} KiB, after 10,000 INVITEs {one_flood} KiB, after 20,000 {two_floods} KiB");
    assert!(
        two_floods < one_flood + one_flood / 4,
        "memory kept growing: {idle} KiB idle, {one_flood} KiB after one flood, {two_floods} KiB after two"
    );
    assert!(
        one_flood - idle < 10_000 * 16,
        "more than 16 KiB per flooded call: {idle} KiB idle, {one_flood} KiB after the flood"
    );
    assert!(lab.stop_agent().success());
}

/// Installs with `backend`, carries a call through the queue, removes, and checks that
/// nothing is left and the bridge setting is back at 0.
fn rules_round_trip(backend: &str, tool: &str) {
    let mut lab = Lab::with_rules(&["--backend", backend]);
    let chain = lab.in_ns("br", &[tool, "-S", "RINGSIDE"]);
    assert!(
        chain.contains("--queue-num 5061") && chain.contains("--queue-bypass"),
        "{chain}"
    );
    let setting = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    assert_eq!(lab.in_ns("br", &["cat", setting]).trim(), "1");
    lab.start_agent();
    answered_call(&lab, 5060, "15550100001", "Through Rules", 1);
    lab.wait_for_calls("the call ends", |calls| {
        calls.len() == 1 && calls[0].disposition == Some(Disposition::Answered)
    });
    assert!(lab.stop_agent().success());
    let binary = ringside_e2e::lab::ringside_binary();
    let binary = binary.to_str().expect("utf-8");
    lab.in_ns(
        "br",
        &[
            binary,
            "rules",
            "remove",
            "--bridge",
            "br0",
            "--backend",
            backend,
        ],
    );
    let all = lab.in_ns("br", &[tool, "-S"]);
    assert!(!all.contains("RINGSIDE"), "left behind:\n{all}");
    assert_eq!(
        lab.in_ns("br", &["cat", setting]).trim(),
        "0",
        "the setting is restored"
    );
}

#[test]
fn rules_install_and_remove_with_iptables_legacy() {
    rules_round_trip("legacy", "iptables-legacy");
}

#[test]
fn rules_install_and_remove_with_iptables_nft() {
    rules_round_trip("nft", "iptables-nft");
}

#[test]
fn the_console_switches_recording_off_for_a_call_in_progress() {
    let mut lab = Lab::new();
    lab.start_agent();
    let call = start_long_call(&lab, 8);
    std::thread::sleep(Duration::from_secs(3));
    let (status, live) = lab.console_get("/api/live/calls");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let live: serde_json::Value = serde_json::from_str(&live).expect("JSON");
    assert_eq!(live[0]["number"], "15550100001", "{live}");
    assert_eq!(live[0]["recording"], true);
    let key = live[0]["key"].as_u64().expect("a key");
    let path = format!("/api/live/calls/{key}/recording");
    let (status, _) = lab.console_request("POST", &path, r#"{"on": false}"#);
    assert_eq!(status, "HTTP/1.1 202 Accepted");
    std::thread::sleep(Duration::from_millis(600));
    let (_, live) = lab.console_get("/api/live/calls");
    assert!(live.contains("\"recording\":false"), "{live}");
    finish_long_call(&lab, call);
    assert!(lab.stop_agent().success());
    // The call talked for 8 s; the recording stops about 3 s in.
    assert_partial_recording(&lab, 1.5..5.0);
}

/// Listen live in chromium inside the bridge namespace during a call; the same page, never
/// reloaded, then shows the ended call in "Last calls", the voicemail the provider reports,
/// and on the call log the next call once it is logged.
#[test]
fn listen_live_in_the_browser_during_a_call() {
    let mut lab = Lab::new();
    lab.start_agent();
    // Long enough for chromium to start and listen for two seconds on a loaded machine.
    let long_call = start_long_call(&lab, 16);
    std::thread::sleep(Duration::from_millis(1500));
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-artifacts/console-listen-live.png");
    let _ = std::fs::create_dir_all(shot.parent().expect("artifacts"));
    let mut browser = lab
        .browser("listen.mjs")
        .env("SHOT", &shot)
        .spawn()
        .expect("node");
    finish_long_call(&lab, long_call);
    let phone = Side::new(
        "phone",
        "phone_takes_notify.xml",
        &["-i", PHONE, "-p", "5060", "-m", "1"],
    );
    call(
        &lab,
        Some(&phone),
        &from_provider("provider_notifies.xml", 5060, "15550109999", "", &[]),
    );
    // The page has moved to the call log by now; another call appears there once logged.
    std::thread::sleep(Duration::from_secs(2));
    answered_call(&lab, 5060, "15550100002", "Dad", 1);
    let status = wait_with_timeout(&mut browser, Duration::from_mins(1));
    let mut stdout = String::new();
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut browser.stdout.take().expect("stdout"), &mut stdout);
    let _ = std::io::Read::read_to_string(&mut browser.stderr.take().expect("stderr"), &mut stderr);
    assert!(
        status.is_some_and(|s| s.success()),
        "the browser script failed:\n{stderr}"
    );
    let seen: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let listen = &seen["listen"];
    // Two seconds of listening: 20 ms messages arrive and the worklet plays them.
    assert!(
        listen["messages"].as_u64().is_some_and(|m| m >= 50),
        "{seen}"
    );
    assert!(
        listen["played"].as_u64().is_some_and(|p| p >= 8000),
        "{seen}"
    );
    assert!(
        seen["first_audio_ms"].as_u64().is_some_and(|ms| ms < 2000),
        "audio starts soon after the click: {seen}"
    );
    assert_eq!(seen["recording_stopped"], true, "{seen}");
    assert_eq!(seen["page_errors"], serde_json::json!([]), "{seen}");
    assert_eq!(
        seen["listen_offered_unrecorded"], false,
        "only a call being recorded can be heard"
    );
    let last = seen["last_calls"][0].as_str().unwrap_or_default();
    assert!(
        last.contains("Mom") && last.contains("answered"),
        "the ended call reached \"Last calls\" live: {seen}"
    );
    assert_eq!(
        seen["voicemail"], "✉ Voicemail: 2 new messages",
        "the provider's report reached the page live"
    );
    assert_eq!(
        seen["call_log"],
        serde_json::json!(["15550100002", "15550100001"]),
        "the call log on its first page shows the new call live, newest first"
    );
}

/// The μ-law audio of every RTP packet in a capture of the provider's side (Ethernet, UDP).
fn rtp_audio(pcap: &std::path::Path) -> Vec<Vec<i16>> {
    let file = std::fs::File::open(pcap).expect("the capture");
    let mut capture = bridge_agent::capture::Capture::from_reader(file).expect("a pcap");
    let mut packets = Vec::new();
    while let Some(frame) = capture.next_frame() {
        let frame = frame.expect("a frame");
        let Ok(sliced) = etherparse::SlicedPacket::from_ethernet(frame.data) else {
            continue;
        };
        let Some(etherparse::TransportSlice::Udp(udp)) = sliced.transport else {
            continue;
        };
        let payload = udp.payload();
        if payload.len() > 12 && payload[0] >> 6 == 2 {
            packets.push(
                payload[12..]
                    .iter()
                    .map(|&b| ringside_core::g711::decode_ulaw(b))
                    .collect(),
            );
        }
    }
    packets
}

#[test]
fn courtesy_beeps_reach_the_remote_party() {
    let mut lab = Lab::new();
    lab.ringside(&["settings", "set", "courtesy_beeps", "true"]);
    lab.start_agent();
    let pcap = lab.dir.path().join("provider-side.pcap");
    let mut dump = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns("prov"),
            "tcpdump",
            "-i",
            "p0",
            "-U",
            "-w",
        ])
        .arg(&pcap)
        .arg(format!("udp and src host {PHONE} and not port 5060"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tcpdump");
    std::thread::sleep(Duration::from_secs(1));
    answered_call(&lab, 5060, "15550100001", "Mom", 4);
    std::thread::sleep(Duration::from_millis(500));
    let pid = nix::unistd::Pid::from_raw(dump.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("stop tcpdump");
    dump.wait().expect("tcpdump ends");
    let packets = rtp_audio(&pcap);
    assert!(
        packets.len() > 100,
        "the phone's audio reached the provider: {}",
        packets.len()
    );
    let beeped = packets
        .iter()
        .filter(|samples| {
            crate::support::tone_power(samples, 1400.0)
                > 100.0 * crate::support::tone_power(samples, 500.0)
        })
        .count();
    // 2 s after the answer, 200 ms: ten 20 ms packets carry the beep, the rest the phone's tone.
    assert!(
        (8..=12).contains(&beeped),
        "{beeped} beeping packets of {}",
        packets.len()
    );
}
