//! The console served on a real socket (port 0, `web_console::serve` on a thread of its own),
//! driven by plain HTTP over TCP: a storm of parallel wrong logins from one address gets at
//! most five password checks, and live streams (server-sent events, the listen-live
//! WebSocket) end when the password changes.

#![allow(clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ringside_core::call::CallDirection;
use ringside_core::call_view::{CallView, Party};
use ringside_hub::{LiveCall, LiveHub};
use ringside_store::Store;
use web_console::{auth, limiter, ConsoleState};

const PASSWORD: &str = "correct horse battery";

/// A console with a password, served on 127.0.0.1 port 0; its state and address.
fn served(live: Option<LiveHub>) -> (tempfile::TempDir, ConsoleState, SocketAddr) {
    let dir = tempfile::tempdir().expect("tempdir");
    set_password(&dir, PASSWORD);
    let mut state = ConsoleState::new(dir.path().to_owned());
    if let Some(hub) = live {
        state = state.with_live(hub);
    }
    let listener = web_console::bind("127.0.0.1:0".parse().expect("address"), true).expect("bind");
    let address = listener.local_addr().expect("address");
    let serving = state.clone();
    std::thread::spawn(move || web_console::serve(listener, serving));
    (dir, state, address)
}

fn set_password(dir: &tempfile::TempDir, password: &str) {
    let hash = auth::hash_password(password).expect("hash");
    Store::open(dir.path())
        .expect("store")
        .set_console_password_hash(Some(&hash))
        .expect("set");
}

/// Sends `request` on a new connection; the open stream.
fn open(address: SocketAddr, request: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("request");
    stream
}

/// `POST /api/login` with `password`; the whole response.
fn login(address: SocketAddr, password: &str) -> String {
    let body = serde_json::json!({ "password": password }).to_string();
    let request = format!(
        "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Ringside: 1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut response = String::new();
    open(address, &request)
        .read_to_string(&mut response)
        .expect("response");
    response
}

/// A GET with the session cookie that stays open (a stream).
fn stream_get(address: SocketAddr, path: &str, cookie: &str, more: &str) -> TcpStream {
    open(
        address,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n{more}\r\n"),
    )
}

/// Reads until `stream` closes; how long that took, and what came.
fn until_closed(mut stream: TcpStream) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("closed in time");
    (start.elapsed(), bytes)
}

fn session_cookie(response: &str) -> String {
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");
    let line = response
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a cookie");
    line.split(';').next().expect("name=value").to_owned()
}

/// Sixty wrong logins from 127.0.0.1 at once; the first line of each response.
fn storm(address: SocketAddr) -> Vec<String> {
    let start = Arc::new(Barrier::new(60));
    let logins: Vec<_> = (0..60)
        .map(|i| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                login(address, &format!("guess {i}"))
            })
        })
        .collect();
    logins
        .into_iter()
        .map(|t| t.join().expect("login"))
        .map(|r| r.lines().next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn sixty_parallel_wrong_logins_from_one_address_get_at_most_five_checks() {
    let (_dir, state, address) = served(None);
    let mut checks = 0;
    // Each storm gets at least one check while tries are left, so at most five storms use
    // them up; one more is refused whole.
    for round in 0..=limiter::MAX_TRIES {
        let tries_left = checks < limiter::MAX_TRIES;
        let lines = storm(address);
        let now = usize::try_from(state.logins.checks()).expect("small");
        let checked = now - checks;
        checks = now;
        let count = |code: &str| lines.iter().filter(|l| l.contains(code)).count();
        assert!(
            checks <= limiter::MAX_TRIES,
            "round {round}: {checks} checks"
        );
        assert_eq!(tries_left, checked > 0, "round {round}: {checked} checked");
        assert_eq!(count(" 401 "), checked, "each check said: wrong password");
        assert_eq!(count(" 429 "), 60 - checked, "the rest were told to wait");
    }
    assert_eq!(checks, limiter::MAX_TRIES);
    let right = login(address, PASSWORD);
    assert!(
        right.starts_with("HTTP/1.1 429"),
        "five tries used: even the right password waits: {right}"
    );
    assert_eq!(usize::try_from(state.logins.checks()), Ok(checks));
}

#[test]
fn server_sent_events_end_when_the_password_changes() {
    let (hub, _commands) = LiveHub::new();
    let (dir, _state, address) = served(Some(hub));
    let cookie = session_cookie(&login(address, PASSWORD));
    let events = stream_get(
        address,
        "/api/live/events",
        &cookie,
        "Connection: close\r\n",
    );
    std::thread::sleep(Duration::from_millis(300));
    set_password(&dir, "a new password");
    let (waited, bytes) = until_closed(events);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.ends_with("0\r\n\r\n"),
        "the stream's last chunk: {text}"
    );
    assert!(
        waited < web_console::live::RECHECK * 3,
        "ended within a recheck: {waited:?}"
    );
}

#[test]
fn listening_live_ends_with_a_close_frame_when_the_password_is_changed() {
    let (hub, _commands) = LiveHub::new();
    hub.started(LiveCall {
        key: 7,
        call: CallView {
            call_id: "c7@example".into(),
            direction: CallDirection::Inbound,
            direction_source: None,
            party: Party {
                presentation: ringside_core::caller_id::Presentation::Withheld,
                ..Party::default()
            },
            started_at: ringside_core::rfc3339::parse("2026-11-22T10:00:00.000000Z").expect("time"),
            answered_at: None,
        },
        recording: true,
    });
    let (dir, _state, address) = served(Some(hub));
    let cookie = session_cookie(&login(address, PASSWORD));
    let upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let socket = stream_get(address, "/api/live/calls/7/audio", &cookie, upgrade);
    std::thread::sleep(Duration::from_millis(300));
    set_password(&dir, "a new password");
    let (waited, bytes) = until_closed(socket);
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a handshake");
    let head = String::from_utf8_lossy(&bytes[..end]);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let frame = &bytes[end + 4..];
    assert_eq!(frame.first(), Some(&0x88), "a close frame: {frame:?}");
    assert_eq!(&frame[2..4], &1008u16.to_be_bytes(), "policy violation");
    assert!(waited < web_console::live::RECHECK * 3, "{waited:?}");
}
