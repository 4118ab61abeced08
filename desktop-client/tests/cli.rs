//! `ringside-notify` as a script or a headless box runs it: `--print` lines and `--exec`
//! programs for announcements sent over UDP, duplicates, forgeries and replays ignored,
//! caller text escaped, and memory flat while nobody reads its output.

#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::net::UdpSocket;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ringside_core::announce::{encode, Announcement, EventKind, Signer, Stamp};
use ringside_core::call::CallDirection;
use ringside_core::call_view::Party;

/// The running client and its (empty) home directory.
struct Client(
    Child,
    #[allow(dead_code, reason = "kept until the client is stopped")] tempfile::TempDir,
);

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn announcement(call: &str, event: EventKind, number: &str, display: &str) -> Announcement {
    Announcement {
        event,
        call: call.into(),
        direction: CallDirection::Inbound,
        party: Party {
            number: Some(number.into()),
            name: Some("WIRELESS CALLER".into()),
            display: Some(display.into()),
            presentation: ringside_core::caller_id::Presentation::Number,
        },
        line: None,
        time: ringside_core::rfc3339::parse("2026-11-22T10:00:00.000000Z").expect("time"),
        disposition: None,
        messages_waiting: None,
    }
}

/// `announcement` signed with `secret`, sent `age` before now, with a random-enough nonce.
fn signed(announcement: &Announcement, secret: &[u8], age: Duration) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    let sent_at_ms = now.checked_sub(age).expect("after 1970").as_millis() as u64;
    let mut nonce = [0; 16];
    nonce[..16].copy_from_slice(&now.as_nanos().to_be_bytes());
    nonce[0] ^= announcement.call.len() as u8;
    let stamp = Stamp { sent_at_ms, nonce };
    encode(announcement, Some(&Signer { secret, stamp }))
}

/// Starts the client on a port the system picks (`--port 0`), read back from the line it
/// logs once it listens, so that no other process can take the port first; the port, the
/// client and the rest of its log.
fn start(args: &[&str]) -> (u16, Client, BufReader<ChildStderr>) {
    let home = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringside-notify"))
        .args(args)
        .args(["--port", "0"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ringside-notify");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let port = loop {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).expect("the client's log");
        assert!(read > 0, "the client ended before it listened");
        if let Some((_, after)) = line.split_once("on UDP port ") {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            break digits.parse().expect("a port number");
        }
    };
    (port, Client(child, home), stderr)
}

/// Starts the client, sends `datagrams` until it answers, and returns `lines` lines of output.
fn run(args: &[&str], datagrams: &[Vec<u8>], lines: usize) -> Vec<String> {
    let (port, mut client, mut stderr) = start(args);
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let stdout = client.0.stdout.take().expect("stdout");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    // It listens already; a datagram lost all the same is sent again until a line appears.
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
    let forged = signed(
        &announcement("c3", EventKind::Ring, "19005550100", "Forger"),
        b"not-the-right-secret",
        Duration::ZERO,
    );
    let good = signed(
        &announcement("c4", EventKind::Ring, "15550100001", "Mom"),
        b"kitchen-table-secret",
        Duration::ZERO,
    );
    let lines = run(&["--print", "--config", config], &[forged, good], 1);
    assert_eq!(lines, ["Mom\t15550100001\tring"]);
}

/// The bug: a signed announcement recorded on the LAN could be sent again at any time and
/// popped up as a new call. One from five minutes ago is refused; a fresh one is shown.
#[test]
fn with_a_secret_a_replayed_stale_announcement_prints_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("notify.toml");
    std::fs::write(&config, "secret = \"kitchen-table-secret\"\n").expect("config");
    let config = config.to_str().expect("utf-8");
    let recorded = signed(
        &announcement("old", EventKind::Ring, "19005550100", "Replayed"),
        b"kitchen-table-secret",
        Duration::from_mins(5),
    );
    let fresh = signed(
        &announcement("new", EventKind::Ring, "15550100001", "Mom"),
        b"kitchen-table-secret",
        Duration::ZERO,
    );
    let lines = run(&["--print", "--config", config], &[recorded, fresh], 1);
    assert_eq!(lines, ["Mom\t15550100001\tring"]);
}

/// The bug: a newline in a name forged a second line of `--print` output (and escape
/// sequences reached the terminal). One event is one line, its controls shown escaped; an
/// `--exec` program gets each value as one variable, escaped the same way.
#[test]
fn a_name_with_line_breaks_and_escapes_prints_one_line() {
    let forged = encode(
        &announcement(
            "c5",
            EventKind::Ring,
            "1555%0A\u{1b}",
            "Evil\nRINGSIDE_EVENT=forged\t15550100001\tring\u{1b}[2J\u{202e}",
        ),
        None,
    );
    let command = "/usr/bin/printenv RINGSIDE_DISPLAY RINGSIDE_EVENT";
    let mut lines = run(&["--print", "--exec", command], &[forged], 3);
    lines.sort();
    let display = "Evil\\nRINGSIDE_EVENT=forged\\t15550100001\\tring\\x1b[2J\\u{202e}";
    assert_eq!(
        lines,
        [
            display.to_owned(),
            format!("{display}\t1555%0A\\x1b\tring"),
            "ring".to_owned()
        ]
    );
}

/// The bug: datagrams were queued without bound while the output was blocked. With stdout
/// a pipe nobody reads, 30 000 datagrams of 7 KB (200 MB) leave the client's memory flat;
/// once the pipe is read, it says how many it dropped.
#[test]
fn a_blocked_output_drops_datagrams_beyond_a_bounded_queue() {
    let (port, mut client, stderr) = start(&["--print"]);
    let pid = client.0.id();
    let stdout = client.0.stdout.take().expect("stdout");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let name = "N".repeat(7000);
    std::thread::sleep(Duration::from_millis(500));
    // One datagram, its call id rewritten in place: each is a new call to the client.
    let mut datagram = encode(
        &announcement("flood-00000", EventKind::Ring, "15550100001", &name),
        None,
    );
    let at = datagram
        .windows(11)
        .position(|w| w == b"flood-00000")
        .expect("the call id")
        + 6;
    for i in 0..30_000 {
        datagram[at..at + 5].copy_from_slice(format!("{i:05}").as_bytes());
        let _ = sender.send_to(&datagram, ("127.0.0.1", port));
    }
    std::thread::sleep(Duration::from_millis(500));
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    assert!(rss_kb < 48 * 1024, "{rss_kb} kB resident");
    std::thread::spawn(move || std::io::copy(&mut BufReader::new(stdout), &mut std::io::sink()));
    let said = first_line_with(stderr, "dropped");
    assert!(
        said.is_some_and(|line| line.contains("announcements while the output was blocked")),
        "the client says what it dropped"
    );
}

/// A slow `--exec` program is never waited for, and at most eight run at once: twenty calls
/// in a row start eight, and the log says the others were not passed on.
#[test]
fn a_slow_exec_program_runs_at_most_eight_at_a_time() {
    let (port, mut client, stderr) = start(&["--print", "--exec", "/bin/sleep 5"]);
    let pid = client.0.id();
    let stdout = BufReader::new(client.0.stdout.take().expect("stdout"));
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    std::thread::sleep(Duration::from_millis(500));
    for i in 0..20 {
        let ring = announcement(&format!("slow-{i}"), EventKind::Ring, "15550100001", "Mom");
        sender
            .send_to(&encode(&ring, None), ("127.0.0.1", port))
            .expect("send");
    }
    let printed = stdout.lines().map_while(Result::ok).take(20).count();
    assert_eq!(printed, 20, "every event is printed");
    let children = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // `pid (comm) state ppid ...`: the parent is the second field after the name.
            let after_name = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
            after_name.split(' ').nth(1) == Some(pid.to_string().as_str())
        })
        .count();
    assert_eq!(children, 8, "eight programs run, the others were skipped");
    assert!(
        first_line_with(stderr, "are still going").is_some(),
        "the log says events were not passed on"
    );
}

/// The first line of `stream` that holds `text`, waiting at most 20 s for it.
fn first_line_with(stream: impl Read + Send + 'static, text: &'static str) -> Option<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let found = BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
            .find(|line| line.contains(text));
        let _ = tx.send(found);
    });
    rx.recv_timeout(Duration::from_secs(20)).ok().flatten()
}
