//! The `ringside` binary as a newcomer runs it: the demo, the call log as JSON, the
//! phonebook, and clear errors.

// Helpers of a test binary panic on broken expectations like the tests themselves.
#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use ringside_core::announce::{decode, Announcement, EventKind};
use ringside_store::test_support::CALL_JSON_KEYS;
use ringside_synth::{packets, write_pcap};

fn ringside(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ringside"))
        .args(args)
        .output()
        .expect("run ringside")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "ringside failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn calls_json(dir: &Path) -> Vec<serde_json::Value> {
    let text = stdout(&ringside(&[
        "calls",
        "--data-dir",
        dir.to_str().expect("utf-8"),
        "--json",
    ]));
    serde_json::from_str(&text).expect("a JSON array")
}

#[test]
fn demo_prints_a_call_log_and_leaves_playable_recordings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let data_arg = data.to_str().expect("utf-8");
    let out = stdout(&ringside(&["demo", "--data-dir", data_arg]));
    assert!(
        out.contains("Mom") && out.contains("Bright Smile Dental"),
        "{out}"
    );
    let calls = calls_json(&data);
    assert_eq!(calls.len(), 6);
    let nuisance = calls
        .iter()
        .find(|c| c["number"] == "15550100007")
        .expect("the nuisance caller");
    assert_eq!(
        nuisance["disposition"], "blocked",
        "turned away by the demo's filter"
    );
    assert!(
        nuisance["blocked_by"]
            .as_str()
            .is_some_and(|f| f.contains("*car warranty*")),
        "{nuisance}"
    );
    for key in CALL_JSON_KEYS {
        assert!(
            calls.iter().all(|c| c.get(key).is_some()),
            "every call has {key}"
        );
    }
    let mom = calls
        .iter()
        .find(|c| c["display"] == "Mom")
        .expect("Mom, from the phonebook");
    assert_eq!(
        mom["name"], "WIRELESS CALLER",
        "the signalled name is kept beside it"
    );
    let recording = data.join(mom["recording"].as_str().expect("a recording"));
    let reader = hound::WavReader::open(recording).expect("a WAV");
    assert_eq!(
        reader.duration(),
        80_000,
        "8 s of talk and 2 s of hold at 8 kHz"
    );
    // Running the demo again starts over rather than doubling the log.
    stdout(&ringside(&["demo", "--data-dir", data_arg]));
    assert_eq!(calls_json(&data).len(), 6);
    let filters = stdout(&ringside(&["filters", "list", "--data-dir", data_arg]));
    assert!(
        filters.contains("*car warranty*") && filters.contains("1900*"),
        "the demo has filters for the console: {filters}"
    );
}

/// A name set with `phonebook set` is listed beside the network's name, wins in the call
/// log, and `phonebook remove` takes it away (a second remove says it is gone).
#[test]
fn a_phonebook_name_set_on_the_command_line_wins_until_it_is_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8");
    stdout(&ringside(&["demo", "--data-dir", data]));
    stdout(&ringside(&[
        "phonebook",
        "set",
        "15550100003",
        "Dentist",
        "--data-dir",
        data,
    ]));
    let list = stdout(&ringside(&[
        "phonebook",
        "list",
        "--json",
        "--data-dir",
        data,
    ]));
    let entries: Vec<serde_json::Value> = serde_json::from_str(&list).expect("JSON");
    let dentist = entries
        .iter()
        .find(|e| e["number"] == "15550100003")
        .expect("entry");
    assert_eq!(dentist["user_name"], "Dentist");
    assert_eq!(dentist["network_name"], "Bright Smile Dental");
    let calls = calls_json(dir.path());
    assert!(calls
        .iter()
        .any(|c| c["display"] == "Dentist" && c["name"] == "Bright Smile Dental"));
    stdout(&ringside(&[
        "phonebook",
        "remove",
        "15550100003",
        "--data-dir",
        data,
    ]));
    let failed = ringside(&["phonebook", "remove", "15550100003", "--data-dir", data]);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("not in the phonebook"));
}

#[test]
fn clear_errors_for_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8");
    let missing = ringside(&["calls", "--data-dir", data, "--json"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("holds no Ringside database"));
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture").expect("write");
    let failed = ringside(&["replay", junk.to_str().expect("utf-8"), "--data-dir", data]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("junk.pcap") && stderr.contains("not a pcap"),
        "{stderr}"
    );
}

#[test]
fn replay_announces_each_call_event_once_signed_with_phonebook_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8");
    let capture = dir.path().join("calls.pcap");
    write_pcap(
        &capture,
        Duration::from_secs(1_790_000_000),
        &packets(&bridge_agent::demo::demo_calls(), 1),
    )
    .expect("write capture");
    stdout(&ringside(&[
        "phonebook",
        "set",
        "15550100001",
        "Mom",
        "--data-dir",
        data_arg,
    ]));
    stdout(&ringside(&[
        "filters",
        "add",
        "--match",
        "15550100003",
        "--action",
        "block",
        "--data-dir",
        data_arg,
    ]));
    let secret = "a-long-shared-lan-secret";
    stdout(&ringside(&[
        "settings",
        "set",
        "announce_secret",
        secret,
        "--data-dir",
        data_arg,
    ]));

    let listener = replay_announcing(&capture, &data);
    let seen = receive(&listener, 10, secret);
    let events: Vec<(String, EventKind)> = seen
        .iter()
        .map(|a| {
            (
                a.party.number.clone().unwrap_or("anonymous".into()),
                a.event,
            )
        })
        .collect();
    let expected = [
        ("15550100001", EventKind::Ring),
        ("15550100001", EventKind::Answered),
        ("15550100001", EventKind::Ended),
        ("anonymous", EventKind::Ring),
        ("anonymous", EventKind::Missed),
        ("15550100004", EventKind::Ring),
        ("15550100004", EventKind::Answered),
        ("15550100004", EventKind::Ended),
        ("15550100005", EventKind::Ring),
        ("15550100005", EventKind::Ended),
    ];
    let expected: Vec<(String, EventKind)> = expected
        .iter()
        .map(|(n, e)| ((*n).to_owned(), *e))
        .collect();
    assert_eq!(
        events, expected,
        "the blocked caller 15550100003 is never announced"
    );
    assert_eq!(
        seen[0].party.display.as_deref(),
        Some("Mom"),
        "the phonebook name"
    );
    assert_eq!(seen[0].party.name.as_deref(), Some("WIRELESS CALLER"));
    assert!(seen[3].party.is_withheld());
    assert_eq!(
        seen[9].disposition,
        Some(ringside_core::call::Disposition::Busy)
    );
}

/// `count` announcements signed with `secret`, then checks that no more come.
fn receive(listener: &UdpSocket, count: usize, secret: &str) -> Vec<Announcement> {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 9000];
    while seen.len() < count {
        let n = listener.recv(&mut buffer).expect("an announcement in time");
        seen.push(decode(&buffer[..n], Some(secret.as_bytes())).expect("signed"));
    }
    listener
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    assert!(
        listener.recv(&mut buffer).is_err(),
        "one datagram per event"
    );
    seen
}

/// A plain HTTP/1.1 GET; the status line and the body.
fn http_get(address: &str, path: &str) -> Option<(String, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

#[test]
fn the_console_serves_the_same_call_log_as_the_command_line_on_loopback_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let data_arg = data.to_str().expect("utf-8");
    stdout(&ringside(&["demo", "--data-dir", data_arg]));
    let refused = ringside(&["console", "--data-dir", data_arg, "--http", "0.0.0.0:18080"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("loopback only"));

    // Port 0: the console binds a port the kernel picks and prints it once it listens, so no
    // other process can take the port between the test's choice and the console's bind.
    let mut console = Command::new(env!("CARGO_BIN_EXE_ringside"))
        .args(["console", "--data-dir", data_arg, "--http", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the console");
    let mut stdout = BufReader::new(console.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("the console's first line");
    let address = line
        .strip_prefix("console on http://")
        .and_then(|rest| rest.split_once('/'))
        .map_or_else(
            || panic!("not a listening console's line: {line:?}"),
            |(address, _)| address.to_owned(),
        );
    let answer = http_get(&address, "/api/calls?limit=1000");
    let _ = console.kill();
    let _ = console.wait();
    let answer = answer.expect("the console answers once it has printed its address");
    assert_eq!(answer.0, "HTTP/1.1 200 OK");
    let api: Vec<serde_json::Value> = serde_json::from_str(&answer.1).expect("a JSON array");
    assert_eq!(
        api,
        calls_json(&data),
        "the same objects as `ringside calls --json`"
    );
}

#[test]
fn a_voicemail_notify_is_stored_and_announced_once() {
    use ringside_synth::voicemail_notify;

    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let endpoints = ringside_synth::Endpoints::standard(0, 5060);
    let capture = dir.path().join("mwi.pcap");
    write_pcap(
        &capture,
        Duration::from_secs(1_790_000_000),
        &[
            voicemail_notify(Duration::from_secs(1), endpoints, 1, 2, 3),
            voicemail_notify(Duration::from_secs(2), endpoints, 2, 2, 3),
        ],
    )
    .expect("capture");
    let listener = replay_announcing(&capture, &data);
    let mut buffer = [0u8; 4096];
    let n = listener.recv(&mut buffer).expect("an announcement");
    let announcement = decode(&buffer[..n], None).expect("valid");
    assert_eq!(announcement.event, EventKind::Voicemail);
    assert_eq!(announcement.messages_waiting, Some(2));
    listener
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    assert!(
        listener.recv(&mut buffer).is_err(),
        "the repeat is not announced"
    );
    let status = bridge_agent::store::Store::open(&data)
        .expect("store")
        .voicemail()
        .expect("query")
        .expect("a status");
    assert_eq!((status.waiting, status.new, status.old), (true, 2, 3));
    assert!(calls_json(&data).is_empty(), "a NOTIFY is not a call");
}

/// Replays `capture` into `data` with announcements to a fresh loopback listener, which it
/// returns (5 s read timeout).
fn replay_announcing(capture: &Path, data: &Path) -> UdpSocket {
    let listener = UdpSocket::bind("127.0.0.1:0").expect("bind");
    listener
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let target = listener.local_addr().expect("address").to_string();
    stdout(&ringside(&[
        "replay",
        capture.to_str().expect("utf-8"),
        "--data-dir",
        data.to_str().expect("utf-8"),
        "--announce",
        &target,
        "--quiet",
    ]));
    listener
}
