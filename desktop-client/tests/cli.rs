//! `ringside-notify` as a script or a headless box runs it: `--print` lines and `--exec`
//! programs for announcements sent over UDP, duplicates and forgeries ignored.

#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ringside_core::announce::{encode, Announcement, Direction, EventKind};

struct Client(Child);

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .port()
}

fn announcement(call: &str, event: EventKind, number: &str, display: &str) -> Announcement {
    Announcement {
        event,
        call: call.into(),
        direction: Direction::Inbound,
        number: Some(number.into()),
        name: Some("WIRELESS CALLER".into()),
        display: Some(display.into()),
        anonymous: false,
        line: None,
        time: "2026-11-22T10:00:00.000000Z".into(),
        disposition: None,
        messages_waiting: None,
    }
}

/// Starts the client, sends `datagrams` until it answers, and returns `lines` lines of output.
fn run(args: &[&str], datagrams: &[Vec<u8>], lines: usize) -> Vec<String> {
    let port = free_port();
    let home = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringside-notify"))
        .args(args)
        .args(["--port", &port.to_string()])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ringside-notify");
    let stdout = child.stdout.take().expect("stdout");
    let _client = Client(child);
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    // The client may not listen yet: send until the first line appears.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut first = true;
    while out.len() < lines && Instant::now() < deadline {
        if first {
            for datagram in datagrams {
                sender.send_to(datagram, ("127.0.0.1", port)).expect("send");
            }
        }
        match rx.recv_timeout(Duration::from_millis(300)) {
            Ok(line) => {
                first = false;
                out.push(line);
            }
            Err(_) if out.is_empty() => first = true,
            Err(_) => {}
        }
    }
    // Nothing more should come.
    if let Ok(extra) = rx.recv_timeout(Duration::from_millis(300)) {
        out.push(extra);
    }
    out
}

#[test]
fn print_mode_writes_one_line_per_event_and_ignores_repeats() {
    let ring = encode(
        &announcement("c1", EventKind::Ring, "15550100001", "Mom"),
        None,
    );
    let missed = encode(
        &announcement("c1", EventKind::Missed, "15550100001", "Mom"),
        None,
    );
    let lines = run(
        &["--print"],
        &[ring.clone(), ring, missed.clone(), missed],
        2,
    );
    assert_eq!(
        lines,
        ["Mom\t15550100001\tring", "Mom\t15550100001\tmissed"],
        "duplicates (IPv4 + IPv6 copies) print once"
    );
}

#[test]
fn exec_runs_a_program_with_the_caller_id_in_its_environment() {
    let ring = encode(
        &announcement("c2", EventKind::Ring, "15550100003", "Dentist"),
        None,
    );
    // Spaces split the arguments; `;` and `$` reach the program as they are (no shell).
    let command = "/usr/bin/printenv RINGSIDE_NUMBER RINGSIDE_DISPLAY RINGSIDE_EVENT ;$HOME";
    let lines = run(&["--print", "--exec", command], &[ring], 4);
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "15550100003",
            "Dentist",
            "Dentist\t15550100003\tring",
            "ring"
        ],
        "{lines:?}"
    );
}

#[test]
fn with_a_secret_forged_announcements_print_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("notify.toml");
    std::fs::write(&config, "secret = \"kitchen-table-secret\"\n").expect("config");
    let config = config.to_str().expect("utf-8");
    let forged = encode(
        &announcement("c3", EventKind::Ring, "19005550100", "Forger"),
        Some(b"not-the-right-secret"),
    );
    let signed = encode(
        &announcement("c4", EventKind::Ring, "15550100001", "Mom"),
        Some(b"kitchen-table-secret"),
    );
    let lines = run(&["--print", "--config", config], &[forged, signed], 1);
    assert_eq!(lines, ["Mom\t15550100001\tring"]);
}
